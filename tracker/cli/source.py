"""`tracker source list|show|edit`: the sources facts rest on, their grades and caveats;
`tracker source add-calendar|calendars|remove-calendar|poll-calendars`: the calendars
organisations publish, polled and imported."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


@click.group()
def source() -> None:
    """Sources: graded primary, established, secondary or unverified, with caveats."""


@source.command("list")
@options.as_json
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List sources with their grades and caveats."""
    from tracker.catalog import source_editing

    with app.sessions() as session:
        found = [row.as_dict() for row in source_editing.all_sources(session)]
    output.listing(
        as_json,
        found,
        ["key", "title", "publisher", "grade", "caveat", "url"],
        [
            tuple(row[name] for name in ("key", "title", "publisher", "grade", "caveat", "url"))
            for row in found
        ],
    )


@source.command("show")
@click.argument("key")
@options.as_json
@pass_app
def show(app: App, key: str, as_json: bool) -> None:
    """Show a source, its grade and caveat, and what cites it."""
    from tracker.catalog import source_editing

    with app.sessions() as session:
        found = source_editing.find(session, key)
        data: dict[str, Any] = found.as_dict() | {
            "cited_by": source_editing.cited_by(session, found)
        }
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            (label.replace("_", " "), data[name])
            for label, name in (
                ("source", "title"),
                ("key", "key"),
                ("publisher", "publisher"),
                ("url", "url"),
                ("published", "published"),
                ("grade", "grade"),
                ("caveat", "caveat"),
            )
        ]
    )
    if data["cited_by"]:
        click.echo("cited by:")
        for cited in data["cited_by"]:
            click.echo(f"  {cited}")


@source.command("edit")
@click.argument("key")
@click.option("--grade", help="primary, established, secondary or unverified.")
@click.option("--caveat", metavar="TEXT", help="What a reader must know of it ('' removes it).")
@pass_app
def edit(app: App, key: str, grade: str | None, caveat: str | None) -> None:
    """Regrade a source or set its caveat."""
    from tracker.catalog import source_editing
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        changed = source_editing.edit(session, key, grade=grade, caveat=caveat)
    described = [f"{name} {old or '—'} -> {new or '—'}" for name, old, new in changed]
    click.echo(f"{key}: " + (", ".join(described) or "nothing changed"))


@source.command("add-calendar")
@click.argument("url")
@options.treaty
@options.body
@click.option("--every", metavar="DURATION", help="How often to poll it (default 6h).")
@click.option(
    "--grade",
    metavar="GRADE",
    help="The calendar's grade as a source: primary, established, secondary (default) "
    "or unverified.",
)
@pass_app
def add_calendar(
    app: App,
    url: str,
    treaty: str | None,
    body: str | None,
    every: str | None,
    grade: str | None,
) -> None:
    """Register an iCalendar URL the daemon polls and imports (its events as meetings)."""
    from tracker.db import transaction
    from tracker.interchange import calendars as registry

    with transaction(app.sessions) as session:
        feed = registry.register(
            session, url, now=app.as_of, treaty=treaty, body=body, every=every, grade=grade
        )
        said = registry.as_dict(feed)
    click.echo(
        f"registered calendar {said['url']}, polled every {said['every']}, citing source "
        f"{said['source']} ({said['grade']}); the daemon polls it next "
        "(or `tracker source poll-calendars`)"
    )


@source.command("calendars")
@options.as_json
@pass_app
def calendars(app: App, as_json: bool) -> None:
    """List the calendars polled: last check, last success, failures and last error."""
    from tracker.interchange import calendars as registry

    with app.sessions() as session:
        found = [registry.as_dict(feed) for feed in registry.calendars(session)]
    output.listing(
        as_json,
        found,
        ["url", "treaty", "body", "every", "checked", "last ok", "failures", "error"],
        [
            (
                row["url"],
                row["treaty"],
                row["body"],
                row["every"],
                (row["checked_at"] or "never")[:16],
                (row["last_ok_at"] or "never")[:16],
                row["failures"],
                (row["last_error"] or "")[:60],
            )
            for row in found
        ],
    )


@source.command("remove-calendar")
@click.argument("url")
@pass_app
def remove_calendar(app: App, url: str) -> None:
    """Stop polling a calendar (what it imported, and its source, stay)."""
    from tracker.db import transaction
    from tracker.interchange import calendars as registry

    with transaction(app.sessions) as session:
        removed = registry.unregister(session, url).url
    click.echo(f"removed calendar {removed}")


@source.command("poll-calendars")
@click.option("--all", "everything", is_flag=True, help="Every calendar, due or not.")
@pass_app
def poll_calendars(app: App, everything: bool) -> None:
    """Poll the calendars due now (as the daemon does), one line each; exit 1 when one
    failed (the failure is recorded on the calendar)."""
    import logging

    from tracker.interchange import poller

    # Each outcome is printed below: the poller's log lines (the daemon's) would repeat them.
    logging.getLogger(poller.log.name).addHandler(logging.NullHandler())
    outcomes = poller.poll_due(app.sessions, app.clock, everything=everything)
    for outcome in outcomes:
        click.echo(outcome.line())
    if not outcomes:
        click.echo("no calendar due")
    if any(not outcome.ok for outcome in outcomes):
        raise SystemExit(1)


COMMANDS = [source]
