"""`tracker meeting add|list|show|edit|cancel|remove`."""

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
            click.option("--starts", metavar="EXPR", help="e.g. '2021-07-28T09:00 Europe/Geneva'."),
            click.option("--ends", metavar="EXPR"),
            click.option("--tz", metavar="ZONE", help="IANA time zone of the meeting."),
            click.option("--location"),
            click.option("--series", metavar="NAME"),
            click.option(
                "--kind",
                help="plenary, working-group, summit, consultation, briefing, "
                "review-conference or negotiation.",
            ),
            click.option("--treaty", metavar="SLUG"),
            click.option("--repeat", metavar="RRULE", help="e.g. FREQ=MONTHLY;BYDAY=1TU"),
            click.option("--source", metavar="URL"),
            click.option("--status", help="scheduled, held, postponed or cancelled."),
            click.option("--outcome", metavar="TEXT"),
            click.option("--alert", metavar="LEADS", help="Lead times, e.g. 14d,1d."),
        ]
    ):
        func = option(func)
    return func


@click.group()
def meeting() -> None:
    """Meetings: plenaries, working groups, summits, review conferences."""


@meeting.command("add")
@click.argument("title")
@_editing_options
@click.option("--slug", help="Default: derived from the title.")
@pass_app
def add(
    app: App,
    /,
    title: str,
    treaty: str | None,
    source: str | None,
    slug: str | None,
    **values: str | None,
) -> None:
    """Add a meeting."""
    from tracker.catalog import editing
    from tracker.db import transaction

    fields = editing.MeetingFields.parse(title=title, **values)
    with transaction(app.sessions) as session:
        item = editing.add_meeting(
            session, fields, now=app.as_of, slug=slug, treaty=treaty, source=source
        )
        click.echo(f"added meeting {item.slug} starting {item.starts_text or 'undated'}")


@meeting.command("edit")
@click.argument("slug")
@click.option("--title")
@_editing_options
@pass_app
def edit(
    app: App, /, slug: str, treaty: str | None, source: str | None, **values: str | None
) -> None:
    """Change a meeting; each change is recorded in its history."""
    _edit(app, slug, treaty=treaty, source=source, **values)


def _edit(
    app: App,
    slug: str,
    *,
    treaty: str | None = None,
    source: str | None = None,
    **values: str | None,
) -> None:
    from tracker.catalog import editing
    from tracker.db import transaction

    fields = editing.MeetingFields.parse(**values)
    with transaction(app.sessions) as session:
        _, changes = editing.edit_meeting(
            session, slug, fields, now=app.as_of, treaty=treaty, source=source
        )
        output.changes(slug, changes)


@meeting.command("cancel")
@click.argument("slug")
@click.option("--postpone", is_flag=True, help="Mark it postponed instead.")
@click.option("--source", metavar="URL")
@pass_app
def cancel(app: App, slug: str, postpone: bool, source: str | None) -> None:
    """Mark a meeting cancelled (or --postpone)."""
    _edit(app, slug, source=source, status="postponed" if postpone else "cancelled")


@meeting.command("remove")
@click.argument("slug")
@pass_app
def remove(app: App, slug: str) -> None:
    """Remove a meeting (its history stays)."""
    from tracker.catalog import editing, queries
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        editing.remove(session, queries.meeting(session, slug), now=app.as_of)
    click.echo(f"removed meeting {slug}")


@meeting.command("list")
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
    """List meetings (recurring ones by their next occurrences)."""
    from datetime import date, timedelta

    from tracker.catalog import queries
    from tracker.views.items import agenda

    flt = build_filter(app.today, scope, within, treaty, kinds)
    horizon = app.today + (
        flt.within or timedelta(days=app.settings.alerts.recurrence_horizon_days)
    )
    with app.sessions() as session:
        found = queries.meetings(session, flt)
        if flt.scope.value == "upcoming":
            entries = agenda([], found, app.as_of, app.today, horizon)
        else:
            entries = agenda([], found, app.as_of, date(1800, 1, 1), horizon)
            if flt.scope.value == "past":
                entries = [e for e in entries if e.when.latest < app.today]
    if as_json:
        output.emit_json([e.as_agenda() for e in entries])
        return
    output.table(
        ["slug", "starts", "location", "kind", "status", "countdown"],
        [(e.slug, e.when.text, e.location, e.kind, e.status, e.countdown.human) for e in entries],
    )


@meeting.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, slug: str, as_json: bool) -> None:
    """Show a meeting, its delegations, sources and history."""
    from tracker.catalog import history, queries
    from tracker.cli.history import changes_as_dicts, print_sources_and_history
    from tracker.views.items import meeting_entries

    with app.sessions() as session:
        item = queries.meeting(session, slug)
        entries = meeting_entries(item, app.as_of, app.today, app.today)
        data: dict[str, Any] = (
            entries[0].as_agenda()
            if entries and not item.recurrence
            else {
                "slug": item.slug,
                "title": item.title,
                "when": item.starts_text,
                "status": item.status,
                "kind": item.kind,
                "location": item.location,
                "series": item.series,
                "human": None,
                "sources": [source.as_dict() for source in item.sources],
            }
        )
        data.update(
            recurrence=item.recurrence,
            delegations=item.delegations,
            outcome=item.outcome,
            history=changes_as_dicts(history.history(session, item)),
        )
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            ("meeting", data["title"]),
            ("slug", slug),
            ("starts", data["when"] or "undated"),
            ("ends", data.get("ends")),
            ("countdown", data["human"]),
            ("repeats", data["recurrence"]),
            ("series", data["series"]),
            ("kind", data["kind"]),
            ("location", data["location"]),
            ("status", data["status"]),
            ("outcome", data["outcome"]),
        ]
    )
    for delegation in data["delegations"]:
        head = ", ".join(p for p in (delegation.get("head"), delegation.get("role")) if p)
        click.echo(f"delegation {delegation['state']}: {head}")
        if delegation.get("members"):
            click.echo("  " + "; ".join(delegation["members"]))
    print_sources_and_history(data)


COMMANDS = [meeting]
