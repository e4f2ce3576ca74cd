"""`tracker meeting add|list|show|edit|cancel|remove`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tracker.cli import items, options, output
from tracker.cli.app import App

if TYPE_CHECKING:
    from tracker.catalog.queries import Filter

pass_app = click.make_pass_decorator(App)

editing_options = options.group(
    click.option(
        "--starts",
        metavar="EXPR",
        help="e.g. '2021-07-28T09:00 Europe/Geneva', or TBA; a range of days "
        "('8–12 March 2027') without --ends is the meeting's span.",
    ),
    click.option("--ends", metavar="EXPR"),
    click.option("--tz", metavar="ZONE", help="IANA time zone of the meeting."),
    click.option("--location"),
    click.option("--series", metavar="NAME"),
    click.option(
        "--kind",
        help="plenary, working-group, summit, consultation, briefing, "
        "review-conference or negotiation.",
    ),
    options.treaty,
    options.body,
    click.option("--repeat", metavar="RRULE", help="e.g. FREQ=MONTHLY;BYDAY=1TU;UNTIL=20281231"),
    click.option(
        "--status",
        help="scheduled, held or unconfirmed (once started), postponed (with --starts "
        "NEW or TBA) or cancelled; in-session and awaiting-outcome follow from the dates.",
    ),
    click.option("--outcome", metavar="TEXT"),
    click.option("--alert", metavar="LEADS", help="Lead times, e.g. 14d,1d."),
    options.confirm_ahead,
)


@click.group()
def meeting() -> None:
    """Meetings: plenaries, working groups, summits, review conferences."""


@meeting.command("cancel")
@click.argument("slug")
@click.option("--postpone", is_flag=True, help="Mark it postponed instead (give --starts).")
@click.option("--starts", metavar="EXPR", help="The new date of a postponement, or TBA.")
@options.source
@pass_app
def cancel(app: App, slug: str, postpone: bool, starts: str | None, source: str | None) -> None:
    """Mark a meeting cancelled (or --postpone to a new date or TBA)."""
    if starts is not None and not postpone:
        raise click.UsageError("--starts goes with --postpone")
    status = "postponed" if postpone else "cancelled"
    items.edit(app, "meeting", slug, source=source, status=status, starts=starts)


@meeting.command("list")
@pass_app
@options.listing
def list_(app: App, flt: Filter, as_json: bool) -> None:
    """List meetings (recurring ones by their next occurrences)."""
    from datetime import timedelta

    from tracker.views import service

    horizon = timedelta(days=app.settings.alerts.recurrence_horizon_days)
    with app.sessions() as session:
        found = service.meetings(session, flt, app.as_of, horizon, app.known_at)
    output.agenda(
        as_json,
        found,
        ["slug", "starts", "body", "location", "kind", "status", "countdown"],
        lambda i: (i.slug, i.when.text, i.body, i.location, i.kind, i.status),
        base_url=app.settings.feeds.base_url,
    )


def _delegations(data: dict[str, Any]) -> None:
    for delegation in data["delegations"]:
        head = ", ".join(p for p in (delegation.get("head"), delegation.get("role")) if p)
        click.echo(f"delegation {delegation['state']}: {head}")
        if delegation.get("members"):
            click.echo("  " + "; ".join(delegation["members"]))


items.item_commands(
    meeting,
    "meeting",
    editing_options,
    lambda m: (
        f"added meeting {m.slug} starting {m.starts_text or 'TBA'}"
        + (f", ending {m.ends_text}" if m.ends_text else "")
        + f", {m.confidence}"
    ),
    (
        "Show a meeting, its delegations, sources and history.",
        "meeting=title slug starts=when:undated ends countdown=human repeats=recurrence"
        " series body kind location status outcome confirm_by=confirmation_due",
    ),
    _delegations,
)

COMMANDS = [meeting]
