"""`tracker countdown` and `tracker upcoming`: the board and the agenda."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("slugs", nargs=-1)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="At most N deadlines (default: 50 on the default board, every named one).",
)
@click.option("--all", "show_all", is_flag=True, help="Every deadline on the board, no limit.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def countdown(
    app: App, slugs: tuple[str, ...], limit: int | None, show_all: bool, as_json: bool
) -> None:
    """Countdowns to deadlines. A SLUG names a deadline, or a treaty for all its deadlines.

    Default: the nearest 50 deadlines not yet passed or passed in the last 30 days, in
    date order (cancelled and superseded ones left out).
    """
    from tracker.views.countdowns import BOARD_SIZE, RECENTLY_PASSED, select_countdowns
    from tracker.views.items import deadline_entry

    if show_all:
        limit = None
    elif limit is None and not slugs:
        limit = BOARD_SIZE
    with app.sessions() as session:
        # One more than shown, to tell the reader whether there are more.
        chosen = select_countdowns(
            session,
            slugs,
            today=app.today,
            recent=RECENTLY_PASSED,
            limit=None if limit is None else limit + 1,
        )
        more = limit is not None and len(chosen) > limit
        entries = [deadline_entry(d, app.as_of) for d in chosen[:limit]]
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
    if more:
        click.echo(f"(the first {limit} in date order; --limit N or --all for more)")


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
    from tracker.catalog import queries
    from tracker.dates import parse_duration
    from tracker.views.items import agenda

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
