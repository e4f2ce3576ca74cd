"""`tracker countdown` and `tracker upcoming`: the board and the agenda."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from tracker.cli import output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)

RECENTLY_PASSED = timedelta(days=30)


@click.command()
@click.argument("slugs", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def countdown(app: App, slugs: tuple[str, ...], as_json: bool) -> None:
    """Countdowns to deadlines. A SLUG names a deadline, or a treaty for all its deadlines.

    Default: every pending deadline, and the others not yet passed or passed in the
    last 30 days.
    """
    from tracker.schedule.agenda import deadline_entry
    from tracker.schedule.board import select_countdowns

    with app.sessions() as session:
        chosen = select_countdowns(session, slugs, today=app.today, recent=RECENTLY_PASSED)
        entries = [deadline_entry(d, app.as_of) for d in chosen]
    if as_json:
        output.emit_json([e.as_countdown() for e in entries])
        return
    output.table(
        ["deadline", "due", "treaty", "days", "countdown"],
        [
            (e.title, e.when.text, e.treaty, e.countdown.days_remaining, e.countdown.human)
            for e in entries
        ],
        title=f"Countdowns as of {app.today:%d %B %Y}",
    )


@click.command()
@click.option(
    "--within", default="180d", show_default=True, metavar="DURATION", help="How far ahead to look."
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="Only this kind of deadline or meeting (e.g. plenary).",
)
@click.option("--treaty", metavar="SLUG")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def upcoming(
    app: App, within: str, kinds: tuple[str, ...], treaty: str | None, as_json: bool
) -> None:
    """One agenda of deadlines and meetings, in date order."""
    from tracker.dates import parse_duration
    from tracker.schedule import queries
    from tracker.schedule.agenda import agenda

    window = parse_duration(within)
    flt = queries.Filter(today=app.today, within=window, treaty=treaty, kinds=kinds)
    with app.sessions() as session:
        entries = agenda(
            queries.deadlines(session, flt),
            queries.meetings(session, flt),
            app.as_of,
            app.today,
            app.today + window,
        )
    if as_json:
        output.emit_json([e.as_agenda() for e in entries])
        return
    rows: list[tuple[Any, ...]] = [
        (e.when.text, e.type, e.title, e.location or e.treaty, e.status, e.countdown.human)
        for e in entries
    ]
    output.table(
        ["when", "type", "title", "where / treaty", "status", "countdown"],
        rows,
        title=f"Upcoming within {within} of {app.today:%d %B %Y}",
    )


COMMANDS = [countdown, upcoming]
