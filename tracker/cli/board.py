"""`tracker countdown` and `tracker upcoming`: the board and the agenda."""

from __future__ import annotations

import click

from tracker.cli import options, output
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
@options.as_json
@pass_app
def countdown(
    app: App, slugs: tuple[str, ...], limit: int | None, show_all: bool, as_json: bool
) -> None:
    """Countdowns to deadlines. A SLUG names a deadline, or a treaty for all its deadlines.

    Default: the nearest 50 deadlines not yet passed or passed in the last 30 days, in
    date order (cancelled and superseded ones left out).
    """
    from tracker.catalog.queries import Filter, check_deadlines_or_treaties, undated_deadlines
    from tracker.views.board import BOARD_SIZE, HIDDEN, countdowns, known_undated

    if show_all:
        limit = None
    elif limit is None and not slugs:
        limit = BOARD_SIZE
    with app.sessions() as session:
        check_deadlines_or_treaties(session, slugs)
        # One more than shown, to tell the reader whether there are more.
        found = countdowns(
            session,
            slugs,
            today=app.today,
            as_of=app.as_of,
            limit=None if limit is None else limit + 1,
            known_at=app.known_at,
        )
        # The board counts to dates; those to be announced are named, never hidden.
        tba = [] if slugs else undated_deadlines(session, Filter(today=app.today))
        tba = known_undated(session, tba, app.known_at)
        tba = [deadline for deadline in tba if deadline.status not in HIDDEN]
    items = found[:limit]
    output.listing(
        as_json,
        [item.as_dict(app.settings.feeds.base_url) for item in items],
        ["deadline", "due", "treaty", "days", "countdown"],
        [(i.title, i.when.text, i.treaty, output.days(i), i.countdown.human) for i in items],
        title=f"Countdowns as of {app.today:%d %B %Y}",
    )
    if not as_json and len(found) > len(items):
        click.echo(f"(the first {limit} in date order; --limit N or --all for more)")
    if not as_json and tba:
        click.echo(f"(and {len(tba)} with a date to be announced: tracker upcoming --undated)")


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
@click.option(
    "--undated",
    is_flag=True,
    help="Instead: the deadlines and meetings whose date is to be announced.",
)
@options.treaty
@options.as_json
@pass_app
def upcoming(
    app: App,
    within: str,
    kinds: tuple[str, ...],
    undated: bool,
    treaty: str | None,
    as_json: bool,
) -> None:
    """One agenda of deadlines and meetings, in date order (or --undated: those whose date
    is to be announced)."""
    from tracker.catalog.queries import Filter, check_filter
    from tracker.dates import parse_duration
    from tracker.views import service

    flt = Filter(today=app.today, within=parse_duration(within), treaty=treaty, kinds=kinds)
    with app.sessions() as session:
        check_filter(session, flt)
        tba = service.undated(session, flt, app.as_of, app.known_at)
        items = tba if undated else service.upcoming(session, flt, app.as_of, app.known_at)
    if undated and not items and not as_json:
        click.echo("No deadline or meeting has a date to be announced.")
        return
    if undated:
        title = "Date to be announced"
    else:
        title = f"Upcoming within {within} of {app.today:%d %B %Y}"
    output.agenda(
        as_json,
        items,
        ["when", "type", "title", "where / treaty", "status", "countdown"],
        lambda i: (i.when.text, i.type, i.title, i.location or i.treaty, i.status),
        title=title,
        base_url=app.settings.feeds.base_url,
    )
    if tba and not undated and not as_json:
        # Never hidden: a date to be announced may be any day, this window's too.
        click.echo(f"(and {len(tba)} with a date to be announced: tracker upcoming --undated)")


COMMANDS = [countdown, upcoming]
