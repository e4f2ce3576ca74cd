"""The board's sections: in session now, the next 30 days, later, and recently changed.

Where an item goes is said once, by :func:`section_of`:

- "now": a meeting in session or a deadline whose window is running (whatever its
  countdown says of its first day);
- "next": not passed, and the whole of its date window (its first possible day to its
  last) within :data:`NEXT_DAYS` days: a date known only as "2027" is not said to be
  within the month because its first possible day is;
- "later": the rest not passed; a passed item is on no section (it may be among the
  recently changed).

Every query is bounded (:data:`READ` rows of each kind ahead, :data:`CHANGES_READ`
history rows), so the board costs the same on a large database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.views import conditions, knowledge
from tracker.views.filters import BoardFilter
from tracker.views.items import (
    Item,
    agenda,
    from_deadline,
    from_meeting,
    in_date_order,
    meeting_items,
)
from tracker.views.knowledge import Knowledge
from tracker.views.wording import change_title

NEXT_DAYS = 30
# At most this many items in each section.
NOW_SHOWN = 30
NEXT_SHOWN = 50
LATER_SHOWN = 30
READ = 2 * (NOW_SHOWN + NEXT_SHOWN + LATER_SHOWN)
# A recurring meeting's occurrences within this far ahead.
OCCURRENCES_WITHIN = timedelta(days=365)
# "Recently changed": the newest change of each item changed within RECENT_CHANGES.
RECENT_CHANGES = timedelta(days=30)
CHANGED_SHOWN = 10
CHANGES_READ = 200
# A window's last day in the item's zone may be a day either side of the board's today.
ZONE_SLACK = timedelta(days=2)
UNDER_WAY = frozenset(("open", "in-session"))


@dataclass(frozen=True)
class Changed:
    """An item as it is now, and the newest change to it (in words) and when it was made."""

    item: Item
    what: str
    at: datetime


@dataclass(frozen=True)
class Sections:
    now: list[Item]
    next: list[Item]
    later: list[Item]

    def shown(self) -> list[Item]:
        return [*self.now, *self.next, *self.later]


def section_of(item: Item) -> str | None:
    """ "now", "next", "later", or None (passed); see the module's docstring."""
    if item.status in UNDER_WAY:
        return "now"
    counted = item.countdown
    if counted.status.value == "passed" or counted.days_min is None:
        return None  # passed, or a date to be announced (a section of its own)
    window_days = (item.when.latest - item.when.earliest).days
    return "next" if counted.days_min + window_days <= NEXT_DAYS else "later"


def sections(items: Iterable[Item]) -> Sections:
    """The items sorted into their sections, in date order, each at most its size."""
    found: dict[str | None, list[Item]] = {"now": [], "next": [], "later": []}
    for item in in_date_order(list(items)):
        found.setdefault(section_of(item), []).append(item)
    return Sections(
        found["now"][:NOW_SHOWN], found["next"][:NEXT_SHOWN], found["later"][:LATER_SHOWN]
    )


def ahead(
    session: Session,
    today: date,
    as_of: datetime,
    only: BoardFilter,
    known: Knowledge | None = None,
) -> list[Item]:
    """Dated deadlines and meetings (each occurrence of a recurring one within a year) whose
    window has not closed, the nearest :data:`READ` of each, narrowed by ``only``; as
    ``known`` (:mod:`tracker.views.knowledge`) when given."""
    since = today - ZONE_SLACK
    deadlines = (
        select(Deadline)
        .options(queries.line_loading(Deadline))
        .where(Deadline.status.not_in(("cancelled", "superseded")))
        .where(Deadline.due_latest >= since, Deadline.due_earliest.is_not(None))
        .order_by(Deadline.due_earliest, Deadline.slug)
    )
    ends = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    dated = select(Meeting).options(queries.line_loading(Meeting))
    dated = dated.where(Meeting.starts_earliest.is_not(None))
    single = dated.where(Meeting.recurrence.is_(None), ends >= since)
    single = single.order_by(Meeting.starts_earliest, Meeting.slug)
    recurring = dated.where(Meeting.recurrence.is_not(None)).order_by(Meeting.slug)
    deadlines = only.narrow(deadlines, Deadline).limit(READ)
    found_deadlines = list(session.scalars(deadlines))
    singles = list(session.scalars(only.narrow(single, Meeting).limit(READ)))
    series = list(session.scalars(only.narrow(recurring, Meeting).limit(READ)))
    if known is not None:
        board = conditions.Board(since, only, as_of)
        found_deadlines = board.relist(session, known, Deadline, found_deadlines)[:READ]
        singles = board.relist(session, known, Meeting, singles)[:READ]
        series = board.relist(session, known, Meeting, series, recurring=True)[:READ]
    items = [from_deadline(row, as_of) for row in found_deadlines]
    for meeting in singles:
        items += meeting_items(meeting, as_of, since, today + OCCURRENCES_WITHIN)
    items += agenda((), series, as_of, since, today + OCCURRENCES_WITHIN)
    return items


def recently_changed(
    session: Session,
    as_of: datetime,
    only: BoardFilter,
    limit: int = CHANGED_SHOWN,
    known: Knowledge | None = None,
) -> list[Changed]:
    """The items changed within :data:`RECENT_CHANGES` before ``as_of`` (news, not a
    seed's past), newest first, each once with its newest change; items since removed are
    left out. As ``known``: only the changes then known, the items as then known."""
    until = as_of if known is None else min(as_of, known.at)
    rows = session.execute(
        select(Change)
        .where(Change.news.is_(True))
        .where(Change.changed_at > as_of - RECENT_CHANGES, Change.changed_at <= until)
        .order_by(Change.changed_at.desc(), Change.id.desc())
        .limit(CHANGES_READ)
    ).scalars()
    newest: dict[tuple[str, int], Change] = {}
    for change in rows:
        newest.setdefault((change.subject_type, change.subject_id), change)
    items = _items_by_id(session, newest, as_of, only, known)
    found = [
        Changed(
            items[key],
            change_title(c.subject_type, c.subject_title, c.field, c.old, c.new),
            c.changed_at,
        )
        for key, c in newest.items()
        if key in items
    ]
    return found[:limit]


def _items_by_id(
    session: Session,
    keys: Iterable[tuple[str, int]],
    as_of: datetime,
    only: BoardFilter,
    known: Knowledge | None = None,
) -> dict[tuple[str, int], Item]:
    """The deadlines and meetings of ``keys`` that ``only`` keeps, as they are now (a
    recurring meeting as its first occurrence with its rule, as the feeds have it)."""
    keys = list(keys)
    deadline_ids = [key for kind, key in keys if kind == "deadline"]
    meeting_ids = [key for kind, key in keys if kind == "meeting"]
    deadlines = select(Deadline).options(queries.line_loading(Deadline))
    meetings = select(Meeting).options(queries.line_loading(Meeting))
    found: dict[tuple[str, int], Item] = {}
    if deadline_ids:
        query = only.narrow(deadlines.where(Deadline.id.in_(deadline_ids)), Deadline)
        rows = knowledge.relist(session, known, Deadline, session.scalars(query), _any, adds=False)
        found |= {("deadline", d.id): from_deadline(d, as_of) for d in rows}
    if meeting_ids:
        chosen = only.narrow(meetings.where(Meeting.id.in_(meeting_ids)), Meeting)
        held = knowledge.relist(session, known, Meeting, session.scalars(chosen), _any, adds=False)
        found |= {("meeting", m.id): from_meeting(m, as_of) for m in held}
    return found


def _any(row: object) -> bool:
    """Every row asked for by id (as known: those not yet known left out, revised ones
    restated)."""
    return True
