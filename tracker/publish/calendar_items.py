"""What the calendars hold, read with bounded queries as plain rows.

Of the deadlines, and of the meetings: those that have not ended, nearest first, at most
:data:`AHEAD_CAP`; those that have ended, the most recently begun first, at most
:data:`PAST_CAP`. Recurring meetings always (their RRULE carries them on); undated
meetings never. A schedule of a few hundred items is there whole; with 100k, a calendar
keeps what a subscriber looks at and older items drop out (the board, the API and the
CLI still list them). A cancelled (or superseded) item stays, shown cancelled, for
:data:`CANCELLED_KEPT` after the change that cancelled it, then drops out. A treaty's
calendar is its share of these, so the caps bound every build.

Rows are read as columns (those a feed shows, with their treaty's slug and name joined),
and the sources in one query per type: loading ORM objects (each with its treaty, the
treaty's parties and every source) cost more than writing the calendars.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Executable, Select, func, select
from sqlalchemy.orm import Session

from tracker.catalog.models import Change, Deadline, Meeting, deadline_sources, meeting_sources
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW, DateWindow
from tracker.views.items import Item, Sources, deadline_item, meeting_item, whole
from tracker.views.knowledge import Knowledge, restate_records

PAST_CAP = 200
AHEAD_CAP = 1000
# How long a cancelled item stays in the calendars, so subscribers' copies see it cancelled.
CANCELLED_KEPT = timedelta(days=30)
_ENDED = ("cancelled", "superseded")


def _nearest(
    session: Session,
    query: Select[Any],
    last: Any,
    first: Any,
    today: date,
    longest: timedelta | None,
) -> list[Any]:
    """Rows not ended by ``today`` nearest first, then the most recently begun of those
    ended. Both searches also bound the first day (no window is longer than ``longest``),
    so an index on it serves them instead of a scan of the whole table (``longest`` None:
    windows of any length)."""
    ahead = query.where(last >= today)
    if longest is not None:
        ahead = ahead.where(first >= today - longest)
    past = query.where(last < today, first < today)
    return [
        *records(session, ahead.order_by(first, last).limit(AHEAD_CAP)),
        *records(session, past.order_by(first.desc(), last.desc()).limit(PAST_CAP)),
    ]


@lru_cache(maxsize=8)
def _record(fields: tuple[str, ...]) -> Any:
    return namedtuple("Record", fields)  # the fields are known when the query runs


def records(session: Session, query: Executable) -> list[Any]:
    """The rows of ``query`` as named tuples. An item reads some twenty columns of its row
    by name: on a SQLAlchemy ``Row`` each costs half a microsecond (its ``__getattr__``,
    after the class's own attributes are searched), on a named tuple a tenth of that."""
    result = session.execute(query)
    return list(map(_record(tuple(result.keys()))._make, result))


# What no feed shows of a deadline's or meeting's row: not read.
_UNSHOWN = frozenset(("alert_leads", "created_at"))
_CITATIONS = {"deadline": deadline_sources, "meeting": meeting_sources}


def _shown(model: type[Deadline] | type[Meeting]) -> Select[Any]:
    """A deadline's or meeting's columns a feed shows, with its treaty's slug and name (one
    join by primary key instead of a query of every treaty)."""
    columns = [column for column in model.__table__.c if column.name not in _UNSHOWN]
    treaty = Treaty.slug.label("treaty_slug"), Treaty.name.label("treaty_name")
    return select(*columns, *treaty).outerjoin(Treaty, model.treaty_id == Treaty.id)


def _sources(session: Session, type_: str, ids: Sequence[int]) -> dict[int, Sources]:
    """The sources each item cites, in the order they were added, each with its grade and
    caveat (read in the same query: a calendar shows them beside the source)."""
    if not ids:
        return {}
    link = _CITATIONS[type_]
    owner = link.c[f"{type_}_id"]
    rows = session.execute(
        select(
            owner,
            Source.title,
            Source.publisher,
            Source.url,
            Source.key,
            Source.published,
            Source.grade,
            Source.caveat,
        )
        .join(Source, Source.id == link.c.source_id)
        .where(owner.in_(ids))
        .order_by(owner, Source.id)
    )
    found: dict[int, list[dict[str, str | None]]] = {}
    for owner_id, title, publisher, url, key, published, grade, caveat in rows:
        cited = {"key": key, "title": title, "publisher": publisher, "url": url}
        cited["published"] = published.isoformat() if published else None
        cited["grade"], cited["caveat"] = grade, caveat  # as Source.as_dict() has them
        found.setdefault(owner_id, []).append(cited)
    return {owner_id: tuple(cited) for owner_id, cited in found.items()}


def _items(
    session: Session, rows: Mapping[str, Sequence[Any]], as_of: datetime, *, calendar: bool
) -> list[tuple[int, Item]]:
    """Rows of :func:`_shown` (by type) as items by row id (an undated meeting is left
    out); for a ``calendar``, read whole: with their sources and calendar identity."""
    items = []
    for type_, found in rows.items():
        build = deadline_item if type_ == "deadline" else meeting_item
        cited = _sources(session, type_, [row.id for row in found]) if calendar else {}
        for row in found:
            more = (whole(type_, row) | {"sources": cited.get(row.id, ())}) if calendar else {}
            item = build(row, as_of, treaty=row.treaty_slug, treaty_name=row.treaty_name, **more)
            if item is not None:
                items.append((row.id, item))
    return items


def _cancelled_on(session: Session, type_: str, rows: Sequence[Any]) -> dict[int, date]:
    """The day each cancelled row of ``rows`` was last given its status (a row recorded so
    from the start: its last change)."""
    ids = [row.id for row in rows if row.status in _ENDED]
    if not ids:
        return {}
    found = session.execute(
        select(Change.subject_id, func.max(Change.changed_at))
        .where(
            Change.subject_type == type_,
            Change.subject_id.in_(ids),
            Change.field == "status",
            Change.new.in_(_ENDED),
        )
        .group_by(Change.subject_id)
    )
    changed = {subject: at for subject, at in found}
    return {
        row.id: changed.get(row.id, row.updated_at).date() for row in rows if row.status in _ENDED
    }


def _current(session: Session, type_: str, rows: list[Any], today: date) -> list[Any]:
    """``rows`` without those cancelled more than :data:`CANCELLED_KEPT` before ``today``
    (by the day, so what a calendar holds changes only when the day turns)."""
    cancelled = _cancelled_on(session, type_, rows)
    return [
        row for row in rows if row.id not in cancelled or today < cancelled[row.id] + CANCELLED_KEPT
    ]


def calendar_items(
    session: Session, as_of: datetime, today: date, known: Knowledge | None = None
) -> list[Item]:
    """The deadlines and meetings the calendars hold as of ``today`` (see the docstring);
    as ``known`` when given (:func:`tracker.views.knowledge.restate_records`)."""
    deadlines = _nearest(
        session,
        _shown(Deadline),
        Deadline.due_latest,
        Deadline.due_earliest,
        today,
        LONGEST_WINDOW,
    )
    dated = _shown(Meeting).where(Meeting.starts_earliest.is_not(None))
    ends = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    single = dated.where(Meeting.recurrence.is_(None))
    # A meeting may last longer than any date window: no bound on its first day.
    meetings = _nearest(session, single, ends, Meeting.starts_earliest, today, None)
    meetings += records(session, dated.where(Meeting.recurrence.is_not(None)).order_by(Meeting.id))
    found = {
        "deadline": _current(session, "deadline", deadlines, today),
        "meeting": _current(session, "meeting", meetings, today),
    }
    found = {type_: restate_records(session, known, type_, rows) for type_, rows in found.items()}
    return [item for _, item in _items(session, found, as_of, calendar=True)]


def items_by_id(
    session: Session, ids: dict[str, set[int]], as_of: datetime, known: Knowledge | None = None
) -> dict[tuple[str, int], Item]:
    """The deadlines and meetings of ``ids`` (by type), as they are now, or as ``known``
    (without their sources and calendar identity: a news entry shows when the item is,
    and its treaty)."""
    found = {
        type_: restate_records(
            session,
            known,
            type_,
            records(session, _shown(model).where(model.id.in_(ids.get(type_, ())))),
        )
        for type_, model in (("deadline", Deadline), ("meeting", Meeting))
    }
    items = _items(session, found, as_of, calendar=False)
    return {(item.type, key): item for key, item in items}


# Recorded states that the dates move on (to open, in session, awaiting outcome).
_DATED_STATES = frozenset(("pending", "scheduled", "postponed"))


def next_state_change(items: Sequence[Item], as_of: datetime) -> datetime | None:
    """The first instant after ``as_of`` at which an item's state may change with its
    dates alone (a window opening or closing, a meeting going into session or ending):
    the calendars say the state, so they are built again then. Every bound of a window
    counts, which may be a little early, never late.

    Bounds are ordered by their day first (cheap), and instants worked out only for the
    first few days: a day's instants lie within a day or two of its midnight in UTC, and
    working out every item's cost a tenth of a feed build."""
    floor = as_of.date() - timedelta(days=2)
    bounds: list[tuple[date, bool, str, DateWindow]] = []
    for item in items:
        if item.recorded_status not in _DATED_STATES:
            continue
        for window in (item.when, item.ends):
            if window is None or window.is_tba:
                continue
            if window.earliest >= floor:
                bounds.append((window.earliest, False, item.tz, window))
            if window.latest >= floor:
                bounds.append((window.latest, True, item.tz, window))
    bounds.sort(key=itemgetter(0))
    found: datetime | None = None
    for day, closes, tz, window in bounds:
        if found is not None and day > found.date() + timedelta(days=2):
            break
        instant = window.end(tz) if closes else window.start(tz)
        if instant > as_of and (found is None or instant < found):
            found = instant
    return found
