"""The history read for :mod:`tracker.views.knowledge`: which items became known after a
moment, which a listing may take as then known, and the first change after it of each
field of some items.

A listing reads what it could show, not the history since the moment: the items created
since (the index on ``field, changed_at``), the items whose main date then believed could
be in the listing's span (the date texts' index covers them), those whose other listed
fields changed since (rare), and then the exact first changes of these items alone, by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, func, or_, select, text
from sqlalchemy.orm import Session

from tracker.catalog.models import DATE_TEXTS, NOT_A_DAY, Change, Meeting

Key = tuple[str, int]  # (subject type, id)
IDS_PER_QUERY = 500
# Up to this many changes since a moment are read one by one (an index range, no sort);
# more are grouped by SQLite (a scan of the table in item order, cheaper than the range).
FEW_CHANGES = 100_000


def days_after(
    session: Session, at: datetime, type_: str, field: str, first: date, last: date
) -> list[tuple[int, str | None]]:
    """``(id, old)`` of the changes of a main date after ``at`` whose earlier text is a
    day from ``first`` to ``last`` (compared as text: a day's ISO text orders as its day;
    a range along the index of date texts)."""
    query = select(Change.subject_id, Change.old).where(
        Change.field == field,
        text(DATE_TEXTS),  # as the partial index says it: the index is used
        Change.old >= first.isoformat(),
        Change.old <= last.isoformat(),
        Change.changed_at > at,
        Change.subject_type == type_,
    )
    return [(id_, old) for id_, old in session.execute(query)]


def meetings_reaching(session: Session, day: date) -> set[int]:
    """The meetings that now end on or after ``day``, or recur."""
    query = select(Meeting.id).where(
        or_(Meeting.recurrence.is_not(None), Meeting.ends_latest >= day)
    )
    return set(session.scalars(query))


def other_dates_after(
    session: Session, at: datetime, type_: str, field: str
) -> list[tuple[int, str | None]]:
    """``(id, old)`` of the changes of a main date after ``at`` whose earlier text is no
    day: a month, a range, a time, TBA, none (few: a range of their own index)."""
    query = select(Change.subject_id, Change.old).where(
        Change.field == field,
        text(f"{DATE_TEXTS} AND {NOT_A_DAY}"),  # as the partial index says it
        Change.changed_at > at,
        Change.subject_type == type_,
    )
    return [(id_, old) for id_, old in session.execute(query)]


def fields_after(session: Session, at: datetime, type_: str, skipped: Iterable[str]) -> set[int]:
    """The items of a type with a field other than ``skipped`` changed after ``at``. The
    fields on record are found one at a time along the index (a loose index scan: one
    seek per field name), then each one's changes since."""
    skip, found = set(skipped), set[int]()
    field = _next_field(session, None)
    while field is not None:
        if field not in skip:
            query = select(Change.subject_id).where(
                Change.field == field, Change.changed_at > at, Change.subject_type == type_
            )
            found.update(session.scalars(query))
        field = _next_field(session, field)
    return found


def _next_field(session: Session, after: str | None) -> str | None:
    query = select(Change.field).order_by(Change.field).limit(1)
    return session.scalar(query if after is None else query.where(Change.field > after))


def first_changes_of(
    session: Session, at: datetime, type_: str, ids: Sequence[int]
) -> Iterator[tuple[int, str, str | None]]:
    """``(id, field, old)`` of each field's first change after ``at`` of the items of
    ``ids`` (read by id along the subject index, newest first: the earliest comes last)."""
    for start in range(0, len(ids), IDS_PER_QUERY):
        chosen = ids[start : start + IDS_PER_QUERY]
        query = (
            select(Change.subject_id, Change.field, Change.old)
            .where(Change.subject_type == type_, Change.subject_id.in_(chosen))
            .where(Change.changed_at > at)
            .order_by(Change.changed_at.desc(), Change.id.desc())
        )
        found: dict[tuple[int, str], str | None] = {}
        for id_, field, old in session.execute(query):
            found[(id_, field)] = old
        for (id_, field), old in found.items():
            yield id_, field, old


def first_changes_after(session: Session, at: datetime) -> Iterable[Sequence[Any]]:
    """For each item and field changed after ``at``, its first change since: ``(subject
    type, subject id, field, old, ...)``; for a listing that may take any revised item. A
    few changes since (the usual case: a recent moment) are read newest first along the
    index on ``changed_at``; many (a moment deep in the history) are reduced by the
    database, one row per item and field: PostgreSQL's DISTINCT ON, SQLite's bare column
    beside MIN (``old`` of the row holding the MIN)."""
    columns = (Change.subject_type, Change.subject_id, Change.field)
    later = select(*columns, Change.old).where(Change.changed_at > at)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import distinct_on

        first = (*columns, Change.changed_at, Change.id)
        return session.execute(later.ext(distinct_on(*columns)).order_by(*first))
    if dialect == "sqlite":
        count = session.scalar(select(func.count()).where(Change.changed_at > at)) or 0
        if count > FEW_CHANGES:
            earliest = func.min(Change.changed_at, type_=String())
            return session.execute(later.add_columns(earliest).group_by(*columns))
    newest_first = later.order_by(Change.changed_at.desc(), Change.id.desc())
    found: dict[tuple[str, int, str], Sequence[Any]] = {}
    for row in session.execute(newest_first):  # the earliest is written last
        found[(row[0], row[1], row[2])] = row
    return found.values()
