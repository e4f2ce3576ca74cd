"""The history read for :mod:`tracker.views.knowledge`: the first change after a moment of
each field of some items (a ``created`` one: the item was not yet known), and the items a
listing may take as then known though its query (as now) left them out.

A listing reads what it could show, not the history since the moment: the items whose
main date then could be in its span (:class:`Dates`; two partial indexes of date texts:
the days by text, the other texts by moment), those whose other listed fields changed
since (rare; the index on ``field, changed_at``), and then the first changes of these
items and of its own rows alone, by id. A listing without a span reads every change
since (:func:`first_changes_after`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, func, or_, select, text
from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog.models import DATE_TEXTS, NOT_A_DAY, Change, Meeting
from tracker.errors import InvalidInput

IDS_PER_QUERY = 500
# Up to this many changes since a moment are read one by one (an index range, no sort);
# more are grouped by SQLite (a scan of the table in item order, cheaper than the range).
FEW_CHANGES = 100_000


@dataclass(frozen=True)
class Dates:
    """Which main dates then believed (a deadline's due, a meeting's start; None: to be
    announced) a listing could take: ``test`` decides, and a day it takes lies from
    ``first`` to ``last`` (the span asked of the index of date texts)."""

    test: Callable[[dates.DateWindow | None], bool]
    first: date = date.min
    last: date = date.max
    # A meeting's start: one starting before ``first`` may last into the span (those that
    # now end on or after ``first``, or recur, are read too).
    reaching: bool = False

    def __call__(self, window: dates.DateWindow | None) -> bool:
        return self.test(window)


@lru_cache(maxsize=65536)
def window_of(text: str) -> dates.DateWindow | None:
    """A date's recorded text as its window; None for a date to be announced. A day
    (``2027-03-02``, most dates) is read directly: the grammar takes ten times longer."""
    if _DAY.fullmatch(text):
        day = date.fromisoformat(text)
        return dates.DateWindow(text, day, day, dates.Precision.DAY)
    if text.strip().upper() == dates.TBA.text.upper():
        return None
    return dates.parse(text)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def could(could_be: Callable[[dates.DateWindow | None], bool], text: str | None) -> bool:
    """Whether a main date's text then (None: none recorded) may be one ``could_be``
    takes (a text no longer readable may)."""
    try:
        return could_be(window_of(text) if text else None)
    except (InvalidInput, ValueError):
        return True


class Search:
    """The items a command's listings may add as known at ``at``, by their spans; what
    every listing reads alike (the texts that are no day, the fields changed) is read once."""

    def __init__(self, session: Session, at: datetime) -> None:
        self._session, self._at = session, at
        self._other_dates: dict[str, list[tuple[int, str | None]]] = {}
        self._fields_after: dict[str, set[int]] = {}

    def dated(self, type_: str, primary: str, could_be: Dates, skipped: Iterable[str]) -> set[int]:
        """The items revised since in a field other than ``skipped``, and those whose main
        date (``primary``) had a text since that ``could_be`` takes."""
        session, at = self._session, self._at
        if type_ not in self._fields_after:
            self._fields_after[type_] = fields_after(session, at, type_, skipped)
        found = set(self._fields_after[type_])
        if type_ not in self._other_dates:
            self._other_dates[type_] = other_dates_after(session, at, type_, primary)
        texts = self._other_dates[type_]
        first, last = could_be.first, could_be.last
        if could_be.reaching and first > date.min:
            early = days_after(session, at, type_, primary, date.min, first)
            reaching = meetings_reaching(session, first)
            texts = texts + [(i, old) for i, old in early if i in reaching]
        if first <= last:
            texts = texts + days_after(session, at, type_, primary, first, last)
        taken = {old: could(could_be, old) for old in {old for _, old in texts}}
        found.update(id_ for id_, old in texts if taken[old])
        return found


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
