"""`tracker treaty add|list|show|edit`."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


treaty_options = options.group(
    click.option("--short-name"),
    click.option("--kind", help="bilateral or multilateral."),
    click.option("--status", help="in-force, expired, suspended, not-in-force, terminated."),
    click.option("--signed", metavar="DATE"),
    click.option("--in-force", "entered_into_force", metavar="DATE"),
    click.option("--expires", metavar="DATE"),
    click.option("--depositary"),
    click.option("--summary"),
    options.source,
)


@click.group()
def treaty() -> None:
    """Treaties, their status and their parties."""


@treaty.command("add")
@click.argument("name")
@treaty_options
@click.option("--slug", help="Default: derived from the short name.")
@pass_app
def add(app: App, /, name: str, slug: str | None, source: str | None, **values: str | None) -> None:
    """Add a treaty."""
    from tracker.catalog import treaty_editing as service
    from tracker.db import transaction

    parsed = service.treaty_values(name=name, **values)
    with transaction(app.sessions) as session:
        item = service.add_treaty(session, parsed, now=app.as_of, slug=slug, source=source)
    click.echo(f"added treaty {item.slug}")


@treaty.command("edit")
@click.argument("slug")
@click.option("--name")
@treaty_options
@pass_app
def edit(app: App, /, slug: str, source: str | None, **values: str | None) -> None:
    """Change a treaty's facts."""
    from tracker.catalog import treaty_editing as service
    from tracker.db import transaction

    parsed = service.treaty_values(**values)
    with transaction(app.sessions) as session:
        service.edit_treaty(session, slug, parsed, now=app.as_of, source=source)
    click.echo(f"updated treaty {slug}: {', '.join(parsed) or 'nothing changed'}")


@treaty.command("list")
@click.option("--status", help="Only treaties with this status.")
@options.as_json
@pass_app
def list_(app: App, status: str | None, as_json: bool) -> None:
    """List treaties with their status and the standing of the states the settings name
    ([treaties] summary_states; default the US and Russia)."""
    from tracker.views.treaties import treaties

    states = app.settings.treaties.summary_states
    with app.sessions() as session:
        rows = treaties(session, app.today, status, states)
    output.listing(
        as_json,
        rows,
        ["slug", "treaty", "status", "signed", "in force", "expires", *states],
        [
            (
                r["slug"],
                r["short_name"],
                r["status"],
                r["signed"],
                r["entered_into_force"],
                r["expires"],
                *(r["standing"][state] for state in states),
            )
            for r in rows
        ],
    )


@treaty.command("show")
@click.argument("slug")
@click.option(
    "--parties",
    "with_parties",
    is_flag=True,
    help="Every state with a dated action (and every state its entry into force needs): "
    "standing, events, sources, conflicts.",
)
@options.as_json
@pass_app
def show(app: App, slug: str, with_parties: bool, as_json: bool) -> None:
    """Show a treaty with its participation events and sources."""
    from tracker.views.treaties import treaty

    states = app.settings.treaties.summary_states
    with app.sessions() as session:
        data = treaty(session, slug, app.today, states, with_parties=with_parties)
    details = _parties if with_parties else _participation
    output.record(
        as_json,
        data,
        "treaty=name short_name slug kind status signed in_force=entered_into_force expires"
        " depositary summary",
        details,
    )


def _counts(data: dict[str, Any]) -> None:
    from tracker.views.treaties import parties_count_line, still_needed_line

    for line in (parties_count_line(data), still_needed_line(data)):
        if line:
            click.echo(line)


def _participation(data: dict[str, Any]) -> None:
    _counts(data)
    if data["events"]:
        click.echo("participation:")
        for event in data["events"]:
            click.echo(
                f"  {event['date']}  {event['state']:<4} {event['event']}"
                + (f"  ({event['note']})" if event["note"] else "")
            )


def _parties(data: dict[str, Any]) -> None:
    _counts(data)
    found = data["parties"]
    marked = "; * marks the states its entry into force needs" if data["required_states"] else ""
    click.echo(f"parties ({len(found)} states{marked}):")
    for party in found:
        mark = "*" if party["required"] else " "
        click.echo(f"{mark} {party['state']:<3} {party['name']}: {party['standing']}")
        for event in party["events"]:
            note = f"  ({event['note']})" if event["note"] else ""
            click.echo(f"      {event['date']}  {event['event']}{note}")
            for source in event["sources"]:
                click.echo(f"        source: {_cited(source)}")
            for conflict in event["conflicts"]:
                click.echo(
                    f"        conflict: {conflict['date']} per {_cited(conflict['source'])}"
                    " (not taken)"
                )


def _cited(source: dict[str, Any]) -> str:
    return " ".join(filter(None, [source["key"], f"[{source['grade']}]", source["url"]]))


@treaty.command("import-parties")
@click.argument("slug")
@click.option("--from-file", "path", type=click.Path(dir_okay=False), help="SPARQL JSON results.")
@click.option("--url", help="SPARQL JSON results at this http(s) URL.")
@click.option("--wikidata", "qid", metavar="QID", help="Run the shipped query for this item.")
@pass_app
def import_parties(app: App, slug: str, path: str | None, url: str | None, qid: str | None) -> None:
    """Load signatures and ratifications from Wikidata's SPARQL JSON results (the shipped
    query's: tracker/interchange/wikidata_parties.rq), all in one transaction. They cite
    Wikidata as a secondary source and never replace an event the tracker has from another
    source: a date Wikidata gives otherwise is kept beside it and reported as a conflict."""
    from tracker.catalog import queries
    from tracker.db import transaction
    from tracker.interchange import wikidata
    from tracker.interchange.parties import import_parties as merge

    with app.sessions() as session:
        queries.treaty(session, slug)  # an unknown slug is said before anything is fetched
    endpoint = app.settings.treaties.wikidata_endpoint
    results = wikidata.load(path=path, url=url, qid=qid, endpoint=endpoint)
    with transaction(app.sessions) as session:
        report = merge(session, slug, results, now=app.as_of)
    for line in report.conflicts:
        click.echo(f"conflict: {line}")
    for line in report.skipped:
        click.echo(f"skipped: {line}")
    click.echo(f"{slug}: {report.summary()}; citing {report.source}")


COMMANDS = [treaty]
