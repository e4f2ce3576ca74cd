"""The countdown board, ``index.html``: gathered from the database, rendered with Jinja2.

Every query is bounded, so the board costs the same with a hundred deadlines or 100k:

- the cards: the :data:`CARDS` nearest deadlines not yet passed (cancelled and superseded
  ones left out);
- "Recently passed": deadlines passed within :data:`RECENT`, the latest first, at most
  :data:`PASSED_SHOWN`;
- the meetings table: meetings (and occurrences) within :data:`MEETINGS_WITHIN`, at most
  :data:`MEETINGS_SHOWN`;
- the timeline: a lane per treaty, and marks for the deadlines and meetings from
  :data:`TIMELINE_PAST` back to the chart's end, the :data:`TIMELINE_MARKS` nearest to today
  (a recurring meeting: its occurrences within the meetings table's year).

The page changes with the day: :func:`board_page` says until when it stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from tracker.catalog.models import Deadline, Meeting
from tracker.dates import LONGEST_WINDOW, DateWindow, Precision, zone
from tracker.views.countdowns import HIDDEN
from tracker.views.items import Entry
from tracker.web.timeline import Point

if TYPE_CHECKING:
    from jinja2 import Template

    from tracker.settings import Settings

RECENT = timedelta(days=365)
MEETINGS_WITHIN = timedelta(days=365)
CARDS = 6
PASSED_SHOWN = 12
MEETINGS_SHOWN = 50
TIMELINE_PAST = timedelta(days=3 * 365)
TIMELINE_MARKS = 300
# A window's last day in the item's zone may be a day either side of the board's today.
ZONE_SLACK = timedelta(days=2)


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


def _shown_deadlines() -> Any:
    from tracker.views.countdowns import HIDDEN

    return select(Deadline).options(lazyload(Deadline.treaty)).where(Deadline.status.not_in(HIDDEN))


def _cards(session: Session, today: date, as_of: datetime) -> list[Entry]:
    """The nearest deadlines not passed: read a few at a time until there are enough."""
    from tracker.views.items import deadline_entry

    since = today - ZONE_SLACK
    # The first-day bound lets the index on (due_earliest, due_latest) serve the search.
    query = _shown_deadlines().where(
        Deadline.due_latest >= since, Deadline.due_earliest >= since - LONGEST_WINDOW
    )
    query = query.order_by(Deadline.due_earliest, Deadline.slug)
    limit = CARDS * 2
    while True:
        found = list(session.scalars(query.limit(limit)))
        entries = [deadline_entry(d, as_of) for d in found]
        ahead = [e for e in entries if e.countdown.status.value != "passed"]
        if len(ahead) >= CARDS or len(found) < limit:
            return ahead[:CARDS]
        limit *= 4


def _passed(session: Session, today: date, as_of: datetime) -> list[Entry]:
    from tracker.views.items import deadline_entry

    since = today - RECENT
    query = _shown_deadlines().where(
        Deadline.due_latest >= since,
        Deadline.due_latest <= today + ZONE_SLACK,
        Deadline.due_earliest >= since - LONGEST_WINDOW,
        Deadline.due_earliest <= today + ZONE_SLACK,
    )
    # Latest first by the first day, which the index serves; sorted by the last day below.
    found = session.scalars(
        query.order_by(Deadline.due_earliest.desc(), Deadline.slug).limit(PASSED_SHOWN * 2)
    )
    passed = [
        e for e in (deadline_entry(d, as_of) for d in found) if e.countdown.status.value == "passed"
    ]
    return sorted(passed, key=lambda e: e.when.latest, reverse=True)[:PASSED_SHOWN]


def _timeline_points(
    session: Session, today: date, last: date, ahead_of_table: Sequence[Entry]
) -> list[Point]:
    """The deadlines and meetings between TIMELINE_PAST ago and ``last``, nearest first.
    Deadlines are read as columns (a mark needs no countdown, no sources). A recurring
    meeting is marked where the meetings table has it (the next year): expanding its rule
    over the whole chart again cost more than the rest of the board."""
    from tracker.catalog import queries
    from tracker.catalog.treaties import Treaty

    first = today - TIMELINE_PAST
    columns = select(
        Deadline.title,
        Treaty.slug,
        Deadline.due_text,
        Deadline.due_earliest,
        Deadline.due_latest,
        Deadline.due_precision,
        Deadline.due_time,
    ).outerjoin(Treaty, Deadline.treaty_id == Treaty.id)
    window = columns.where(Deadline.status.not_in(HIDDEN), Deadline.due_earliest <= last)
    ahead = window.where(Deadline.due_earliest >= today).order_by(Deadline.due_earliest)
    behind = window.where(Deadline.due_earliest < today, Deadline.due_earliest >= first)
    rows = [
        *session.execute(ahead.limit(TIMELINE_MARKS)),
        *session.execute(behind.order_by(Deadline.due_earliest.desc()).limit(TIMELINE_MARKS)),
    ]
    points = [
        Point("deadline", title, treaty, DateWindow(text, early, late, Precision(precision), at))
        for title, treaty, text, early, late, precision, at in rows
    ]
    for meeting in queries.meetings(session, queries.Filter(today=first, within=last - first)):
        starts = meeting.starts
        if starts is not None and not meeting.recurrence:
            slug = meeting.treaty.slug if meeting.treaty else None
            points.append(Point("meeting", meeting.title, slug, starts))
    recurring = set(session.scalars(select(Meeting.slug).where(Meeting.recurrence.is_not(None))))
    points += [
        Point(e.type, e.title, e.treaty, e.when) for e in ahead_of_table if e.slug in recurring
    ]
    nearest = sorted(points, key=lambda p: (abs((p.when.earliest - today).days), p.title))
    return nearest[:TIMELINE_MARKS]


def gather(session: Session, settings: Settings, as_of: datetime) -> Board:
    from tracker.catalog import queries
    from tracker.catalog import treaty_editing as service
    from tracker.views.items import agenda
    from tracker.web.timeline import timeline

    today = as_of.astimezone(zone(settings.timezone)).date()
    # First: the items' treaties are then found in the session, not joined to every row.
    treaties = service.list_treaties(session)
    flt = queries.Filter(today=today, within=MEETINGS_WITHIN)
    meetings = agenda((), queries.meetings(session, flt), as_of, today, today + MEETINGS_WITHIN)
    chart = timeline(treaties, [], today)
    marks = _timeline_points(session, today, chart.last, meetings)
    return Board(
        title=settings.feeds.title,
        today=today,
        as_of=as_of,
        countdowns=_cards(session, today, as_of),
        passed=_passed(session, today, as_of),
        meetings=meetings[:MEETINGS_SHOWN],
        treaties=[service.treaty_dict(t, today) for t in treaties],
        timeline=timeline(treaties, marks, today),
    )


def valid_until(board: Board, zones: Iterable[str]) -> datetime:
    """The first instant the same rows could give a different page: a midnight in a zone a
    countdown or date is counted in, or a timed item starting (today becomes earlier today).
    Entries near today are all among the cards, the strip or the meetings table."""
    shown: Sequence[Entry] = [*board.countdowns, *board.passed, *board.meetings]
    names = {*zones, "UTC", *(e.when.tz or e.tz for e in shown)}
    midnights = []
    for name in names:
        local = zone(name)
        tomorrow = board.as_of.astimezone(local).date() + timedelta(days=1)
        midnights.append(datetime.combine(tomorrow, time(0), local))
    starts = [
        e.when.start(e.tz)
        for e in shown
        if e.when.precision is Precision.TIME and e.when.start(e.tz) > board.as_of
    ]
    return min([*midnights, *starts]).astimezone(UTC)


@cache
def _template() -> Template:
    """Compiled once per process: compiling costs more than rendering."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("tracker.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return environment.get_template("board.html")


def render(board: Board) -> bytes:
    return _template().render(board=board).encode("utf-8")


def board_page(session: Session, settings: Settings, as_of: datetime) -> tuple[bytes, datetime]:
    """The board's HTML as of ``as_of``, and the instant until which it stays the same."""
    board = gather(session, settings, as_of)
    return render(board), valid_until(board, [settings.timezone])


def build_board(session: Session, settings: Settings, as_of: datetime) -> bytes:
    """The board's HTML as of ``as_of``."""
    return render(gather(session, settings, as_of))
