"""`tracker treaty add|list|show|edit`."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import items, options, output
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
    """List treaties with their status and US/Russia standing."""
    from tracker.views.treaties import treaties

    with app.sessions() as session:
        rows = treaties(session, app.today, status)
    output.listing(
        as_json,
        rows,
        ["slug", "treaty", "status", "signed", "in force", "expires", "US", "Russia"],
        [
            (
                r["slug"],
                r["short_name"],
                r["status"],
                r["signed"],
                r["entered_into_force"],
                r["expires"],
                r["standing"]["US"],
                r["standing"]["RU"],
            )
            for r in rows
        ],
    )


def _load(app: App, slug: str) -> dict[str, Any]:
    from tracker.views.treaties import treaty

    with app.sessions() as session:
        return treaty(session, slug, app.today)


def _participation(data: dict[str, Any]) -> None:
    if data["events"]:
        click.echo("participation:")
        for event in data["events"]:
            click.echo(
                f"  {event['date']}  {event['state']:<4} {event['event']}"
                + (f"  ({event['note']})" if event["note"] else "")
            )


items.show_command(
    treaty,
    "Show a treaty with its participation events and sources.",
    _load,
    "treaty=name short_name slug kind status signed in_force=entered_into_force expires"
    " depositary summary",
    _participation,
)

COMMANDS = [treaty]
