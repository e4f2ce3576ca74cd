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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.catalog.models import (
    Deadline,
    Meeting,
    deadline_sources,
    meeting_sources,
    stored_window,
)
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW, DateWindow

PAST_CAP = 200
AHEAD_CAP = 1000


@dataclass(frozen=True)
class CalendarItem:
    """A deadline or meeting, with what its VEVENT shows."""

    type: str  # deadline, meeting
    slug: str
    uid: str
    sequence: int
    updated_at: datetime
    title: str
    kind: str
    status: str
    tz: str
    treaty_id: int | None
    treaty_slug: str | None
    treaty_name: str | None
    start: DateWindow
    end: DateWindow | None = None
    notes: str | None = None
    series: str | None = None
    location: str | None = None
    recurrence: str | None = None
    outcome: str | None = None
    delegations: tuple[dict[str, Any], ...] = ()
    sources: tuple[dict[str, str | None], ...] = ()


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


def calendar_items(session: Session, today: date) -> list[CalendarItem]:
    """The deadlines and meetings the calendars hold as of ``today`` (see the docstring)."""
    treaties = {
        t.id: (t.slug, t.name) for t in session.execute(select(Treaty.id, Treaty.slug, Treaty.name))
    }
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
    cited = _sources(session, deadline_sources, "deadline_id", [d.id for d in deadlines])
    items = []
    for d in deadlines:
        due = stored_window(d.due_text, d.due_earliest, d.due_latest, d.due_precision, d.due_time)
        assert due is not None  # a deadline's due date is required
        items.append(
            CalendarItem(
                type="deadline",
                slug=d.slug,
                uid=d.uid,
                sequence=d.sequence,
                updated_at=d.updated_at,
                title=d.title,
                kind=d.kind,
                status=d.status,
                tz=d.tz,
                treaty_id=d.treaty_id,
                treaty_slug=treaties[d.treaty_id][0] if d.treaty_id in treaties else None,
                treaty_name=treaties[d.treaty_id][1] if d.treaty_id in treaties else None,
                start=due,
                notes=d.notes,
                sources=_cited(cited.get(d.id, [])),
            )
        )
    cited = _sources(session, meeting_sources, "meeting_id", [m.id for m in meetings])
    for m in meetings:
        start = stored_window(
            m.starts_text, m.starts_earliest, m.starts_latest, m.starts_precision, m.starts_time
        )
        if start is None:
            continue
        items.append(
            CalendarItem(
                type="meeting",
                slug=m.slug,
                uid=m.uid,
                sequence=m.sequence,
                updated_at=m.updated_at,
                title=m.title,
                kind=m.kind,
                status=m.status,
                tz=m.tz,
                treaty_id=m.treaty_id,
                treaty_slug=treaties[m.treaty_id][0] if m.treaty_id in treaties else None,
                treaty_name=treaties[m.treaty_id][1] if m.treaty_id in treaties else None,
                start=start,
                end=stored_window(
                    m.ends_text, m.ends_earliest, m.ends_latest, m.ends_precision, m.ends_time
                ),
                series=m.series,
                location=m.location,
                recurrence=m.recurrence,
                outcome=m.outcome,
                delegations=tuple(m.delegations or ()),
                sources=_cited(cited.get(m.id, [])),
            )
        )
    return items
