"""What the calendars hold, read with bounded queries as plain rows.

Of the deadlines, and of the meetings: those that have not ended, nearest first, at most
:data:`AHEAD_CAP`; those that have ended, the most recently begun first, at most
:data:`PAST_CAP`. Recurring meetings always (their RRULE carries them on); undated
meetings never. A schedule of a few hundred items is there whole; with 100k, a calendar
keeps what a subscriber looks at and older items drop out (the board, the API and the
CLI still list them). A treaty's calendar is its share of these, so the caps bound every
build.

Rows are read as columns, with the treaties and sources in one query each: loading ORM
objects (each with its treaty, the treaty's parties and every source) cost more than
writing the calendars.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, Meeting, deadline_sources, meeting_sources
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW
from tracker.views.items import Item, deadline_item, meeting_item, whole

PAST_CAP = 200
AHEAD_CAP = 1000


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
        *session.execute(ahead.order_by(first, last).limit(AHEAD_CAP)),
        *session.execute(past.order_by(first.desc(), last.desc()).limit(PAST_CAP)),
    ]


def _sources(session: Session, link: Any, column: str, ids: Sequence[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    if not ids:
        return found
    owner = link.c[column]
    rows = session.execute(
        select(owner, Source.title, Source.publisher, Source.url, Source.key, Source.published)
        .join(Source, Source.id == link.c.source_id)
        .where(owner.in_(ids))
        .order_by(owner, Source.id)
    )
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return found


def _cited(rows: Sequence[Any]) -> tuple[dict[str, str | None], ...]:
    return tuple(
        {
            "key": r.key,
            "title": r.title,
            "publisher": r.publisher,
            "url": r.url,
            "published": r.published.isoformat() if r.published else None,
        }
        for r in rows
    )


def _items(
    session: Session, deadlines: Sequence[Any], meetings: Sequence[Any], as_of: datetime
) -> list[tuple[int, Item]]:
    """Deadline and meeting rows (all their columns) as items by row id, with their
    treaties and sources (an undated meeting is left out)."""
    treaties = {
        t.id: (t.slug, t.name) for t in session.execute(select(Treaty.id, Treaty.slug, Treaty.name))
    }
    items = []
    for type_, rows, link, build in (
        ("deadline", deadlines, deadline_sources, deadline_item),
        ("meeting", meetings, meeting_sources, meeting_item),
    ):
        cited = _sources(session, link, f"{type_}_id", [row.id for row in rows])
        for row in rows:
            slug, name = treaties.get(row.treaty_id, (None, None))
            sources = _cited(cited.get(row.id, []))
            more = whole(type_, row)
            item = build(row, as_of, treaty=slug, treaty_name=name, sources=sources, **more)
            if item is not None:
                items.append((row.id, item))
    return items


def calendar_items(session: Session, as_of: datetime, today: date) -> list[Item]:
    """The deadlines and meetings the calendars hold as of ``today`` (see the docstring)."""
    deadlines = _nearest(
        session,
        select(Deadline.__table__),
        Deadline.due_latest,
        Deadline.due_earliest,
        today,
        LONGEST_WINDOW,
    )
    table = Meeting.__table__
    dated = select(table).where(Meeting.starts_earliest.is_not(None))
    ends = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    single = dated.where(Meeting.recurrence.is_(None))
    # A meeting may last longer than any date window: no bound on its first day.
    meetings = _nearest(session, single, ends, Meeting.starts_earliest, today, None)
    meetings += session.execute(dated.where(Meeting.recurrence.is_not(None)).order_by(Meeting.id))
    return [item for _, item in _items(session, deadlines, meetings, as_of)]


def items_by_id(
    session: Session, ids: dict[str, set[int]], as_of: datetime
) -> dict[tuple[str, int], Item]:
    """The deadlines and meetings of ``ids`` (by type), as they are now."""
    deadlines = session.execute(
        select(Deadline.__table__).where(Deadline.id.in_(ids.get("deadline", ())))
    ).all()
    meetings = session.execute(
        select(Meeting.__table__).where(Meeting.id.in_(ids.get("meeting", ())))
    ).all()
    return {(item.type, key): item for key, item in _items(session, deadlines, meetings, as_of)}
