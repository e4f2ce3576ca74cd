"""The countdown board, ``index.html``: gathered from the database, rendered with Jinja2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from tracker.dates import zone
from tracker.schedule.agenda import Entry

if TYPE_CHECKING:
    from tracker.settings import Settings

RECENT = timedelta(days=365)
MEETINGS_WITHIN = timedelta(days=365)
CARDS = 6


@dataclass(frozen=True)
class Board:
    title: str
    today: date
    as_of: datetime
    countdowns: list[Entry]
    passed: list[Entry]
    meetings: list[Entry]
    treaties: list[dict[str, Any]]
    timeline: Any


def gather(session: Session, settings: Settings, as_of: datetime) -> Board:
    from tracker.schedule import queries
    from tracker.schedule.agenda import agenda, deadline_entry
    from tracker.schedule.board import select_countdowns
    from tracker.treaties import service
    from tracker.web.timeline import timeline

    today = as_of.astimezone(zone(settings.timezone)).date()
    chosen = select_countdowns(session, (), today=today, recent=RECENT)
    entries = [deadline_entry(d, as_of) for d in chosen]
    ahead = [e for e in entries if e.countdown.status.value != "passed"]
    passed = sorted(
        (e for e in entries if e.countdown.status.value == "passed"),
        key=lambda e: e.when.latest,
        reverse=True,
    )
    flt = queries.Filter(today=today, within=MEETINGS_WITHIN)
    meetings = agenda((), queries.meetings(session, flt), as_of, today, today + MEETINGS_WITHIN)
    treaties = service.list_treaties(session)
    everything = queries.Filter(today=today, scope=queries.Scope.ALL)
    chart = timeline(treaties, [], today)
    chart_entries = agenda(
        queries.deadlines(session, everything),
        queries.meetings(session, everything),
        as_of,
        chart.first,
        chart.last,
    )
    return Board(
        title=settings.feeds.title,
        today=today,
        as_of=as_of,
        countdowns=ahead[:CARDS],
        passed=passed,
        meetings=meetings,
        treaties=[service.treaty_dict(t, today) for t in treaties],
        timeline=timeline(treaties, chart_entries, today),
    )


def render(board: Board) -> bytes:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("tracker.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("board.html").render(board=board).encode("utf-8")


def build_board(session: Session, settings: Settings, as_of: datetime) -> bytes:
    """The board's HTML as of ``as_of``."""
    return render(gather(session, settings, as_of))
