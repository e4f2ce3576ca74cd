"""`tracker deadline add|list|show|edit|done|remove`."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import output
from tracker.cli.app import App
from tracker.cli.options import build_filter, listing

pass_app = click.make_pass_decorator(App)


def _editing_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--due", metavar="EXPR", help="Date expression, e.g. 'Q3 2027'."),
            click.option("--treaty", metavar="SLUG"),
            click.option(
                "--kind",
                help="expiry, review-conference, data-exchange, notification, "
                "ratification, decision or other.",
            ),
            click.option("--alert", metavar="LEADS", help="Lead times, e.g. 90d,30d,7d."),
            click.option("--source", metavar="URL"),
            click.option("--note"),
            click.option("--tz", metavar="ZONE", help="IANA time zone of the deadline."),
            click.option("--status", help="pending, met, missed, superseded or cancelled."),
        ]
    ):
        func = option(func)
    return func


@click.group()
def deadline() -> None:
    """Deadlines: expiries, review conferences, notifications."""


@deadline.command("add")
@click.argument("title")
@_editing_options
@click.option("--slug", help="Default: derived from the title.")
@pass_app
def add(
    app: App,
    title: str,
    due: str | None,
    treaty: str | None,
    kind: str | None,
    alert: str | None,
    source: str | None,
    note: str | None,
    tz: str | None,
    status: str | None,
    slug: str | None,
) -> None:
    """Add a deadline."""
    from tracker.catalog import editing
    from tracker.db import transaction

    fields = editing.DeadlineFields.parse(
        title=title, due=due, kind=kind, status=status, alert=alert, note=note, tz=tz
    )
    with transaction(app.sessions) as session:
        item = editing.add_deadline(
            session, fields, now=app.as_of, slug=slug, treaty=treaty, source=source
        )
        click.echo(f"added deadline {item.slug} due {item.due_text}")


@deadline.command("edit")
@click.argument("slug")
@click.option("--title")
@_editing_options
@pass_app
def edit(
    app: App,
    slug: str,
    title: str | None,
    due: str | None,
    treaty: str | None,
    kind: str | None,
    alert: str | None,
    source: str | None,
    note: str | None,
    tz: str | None,
    status: str | None,
) -> None:
    """Change a deadline; each change is recorded in its history."""
    _edit(
        app,
        slug,
        source=source,
        treaty=treaty,
        title=title,
        due=due,
        kind=kind,
        alert=alert,
        note=note,
        tz=tz,
        status=status,
    )


def _edit(
    app: App,
    slug: str,
    *,
    source: str | None = None,
    treaty: str | None = None,
    **values: str | None,
) -> None:
    from tracker.catalog import editing
    from tracker.db import transaction

    fields = editing.DeadlineFields.parse(**values)
    with transaction(app.sessions) as session:
        _, changes = editing.edit_deadline(
            session, slug, fields, now=app.as_of, treaty=treaty, source=source
        )
        output.changes(slug, changes)


@deadline.command("done")
@click.argument("slug")
@click.option("--missed", is_flag=True, help="Mark it missed instead of met.")
@pass_app
def done(app: App, slug: str, missed: bool) -> None:
    """Mark a deadline met (or --missed)."""
    _edit(app, slug, status="missed" if missed else "met")


@deadline.command("remove")
@click.argument("slug")
@pass_app
def remove(app: App, slug: str) -> None:
    """Remove a deadline (its history stays)."""
    from tracker.catalog import editing, queries
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        editing.remove(session, queries.deadline(session, slug), now=app.as_of)
    click.echo(f"removed deadline {slug}")


@deadline.command("list")
@listing
@pass_app
def list_(
    app: App,
    treaty: str | None,
    kinds: tuple[str, ...],
    within: str | None,
    scope: str,
    as_json: bool,
) -> None:
    """List deadlines with their countdowns."""
    from tracker.catalog import queries
    from tracker.views.items import deadline_entry

    flt = build_filter(app.today, scope, within, treaty, kinds)
    with app.sessions() as session:
        entries = [deadline_entry(d, app.as_of) for d in queries.deadlines(session, flt)]
    if as_json:
        output.emit_json(
            [{**e.as_agenda(), "countdown_status": e.countdown.status.value} for e in entries]
        )
        return
    output.table(
        ["slug", "due", "precision", "treaty", "kind", "status", "countdown"],
        [
            (e.slug, e.when.text, e.when.precision, e.treaty, e.kind, e.status, e.countdown.human)
            for e in entries
        ],
    )


@deadline.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, slug: str, as_json: bool) -> None:
    """Show a deadline, its sources and its history."""
    from tracker.catalog import history, queries
    from tracker.cli.history import changes_as_dicts
    from tracker.views.items import deadline_entry

    with app.sessions() as session:
        item = queries.deadline(session, slug)
        entry = deadline_entry(item, app.as_of)
        data = {
            **entry.as_agenda(),
            "alert_leads": item.alert_leads,
            "notes": item.notes,
            "history": changes_as_dicts(history.history(session, item)),
        }
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            ("deadline", data["title"]),
            ("slug", slug),
            ("due", data["when"]),
            ("precision", data["precision"]),
            ("countdown", data["human"]),
            ("treaty", data["treaty"]),
            ("kind", data["kind"]),
            ("status", data["status"]),
            ("alerts", data["alert_leads"]),
            ("notes", data["notes"]),
        ]
    )
    from tracker.cli.history import print_sources_and_history

    print_sources_and_history(data)


COMMANDS = [deadline]
