"""The listings' SQL conditions (:mod:`tracker.catalog.queries`) as Python tests of one row.

A listing as known at a moment (:func:`tracker.views.knowledge.relist`) asks them of the
rows revised since, whose earlier values no query can see. Each mirrors its query: change
one, change the other (tests/test_known_at.py lists both ways).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, Meeting, MeetingStatus
from tracker.catalog.queries import Filter, Scope
from tracker.dates import LONGEST_WINDOW, DateWindow
from tracker.views import knowledge
from tracker.views.filters import BoardFilter
from tracker.views.items import from_deadline, from_meeting

RowT = TypeVar("RowT", Deadline, Meeting)
_HIDDEN = frozenset({"cancelled", "superseded"})  # as tracker.views.board.HIDDEN


def in_window(earliest: date, latest: date, flt: Filter, longest: timedelta | None = None) -> bool:
    """As ``queries._window_conditions``: a dated window the filter's scope and span take."""
    since = None
    if flt.scope is Scope.UPCOMING:
        since = flt.today - flt.passed_grace
    elif flt.scope is Scope.PAST and not latest < flt.today:
        return False
    if flt.within is not None:
        if flt.scope is Scope.PAST:
            since = flt.today - flt.within
        elif earliest > flt.today + flt.within:
            return False
    if since is not None:
        if latest < since:
            return False
        if longest is not None and earliest < since - longest:
            return False
    return True


def _named(row: Deadline | Meeting, flt: Filter) -> bool:
    """As ``queries._common``: the filter's treaty and kinds."""
    if flt.treaty and (row.treaty is None or row.treaty.slug != flt.treaty):
        return False
    return not flt.kinds or row.kind in flt.kinds


def _undated_taken(flt: Filter) -> bool:
    return flt.undated and flt.scope is not Scope.PAST


def deadline(flt: Filter) -> Callable[[Deadline], bool]:
    """As ``queries.deadlines``."""

    def keep(row: Deadline) -> bool:
        if not _named(row, flt):
            return False
        if row.due_earliest is None or row.due_latest is None:
            return _undated_taken(flt)
        return in_window(row.due_earliest, row.due_latest, flt, LONGEST_WINDOW)

    return keep


def _days(flt: Filter) -> tuple[date, date]:
    """The first and last day :func:`in_window` takes as a window of one day (a meeting
    starting on one ends on or after it: the last holds for its start, and the first
    for its start when it has no end)."""
    first, last = date.min, date.max
    if flt.scope is Scope.UPCOMING:
        first = flt.today - flt.passed_grace
    elif flt.scope is Scope.PAST:
        last = flt.today - timedelta(days=1)
    if flt.within is not None:
        if flt.scope is Scope.PAST:
            first = flt.today - flt.within
        else:
            last = flt.today + flt.within
    return first, last


def deadline_due(flt: Filter) -> knowledge.Dates:
    """Whether a deadline due then on a window could be listed (its due alone decides)."""

    def could_be(window: DateWindow | None) -> bool:
        if window is None:
            return _undated_taken(flt)
        return in_window(window.earliest, window.latest, flt, LONGEST_WINDOW)

    return knowledge.Dates(could_be, *_days(flt))


def meeting(flt: Filter, *, include_undated: bool = False) -> Callable[[Meeting], bool]:
    """As ``queries.meetings``: dated in the window, recurring, or undated when asked."""

    def keep(row: Meeting) -> bool:
        if not _named(row, flt):
            return False
        if row.starts_earliest is None or row.starts_latest is None:
            return include_undated or _undated_taken(flt)
        if row.recurrence is not None:
            return True
        end = row.ends_latest if row.ends_latest is not None else row.starts_latest
        return in_window(row.starts_earliest, end, flt)

    return keep


def meeting_start(flt: Filter) -> knowledge.Dates:
    """Whether a meeting starting then on a window could be listed: not if it starts after
    the span (a recurring one then has no occurrence in it either)."""

    def could_be(window: DateWindow | None) -> bool:
        if window is None or flt.within is None or flt.scope is Scope.PAST:
            return True
        return window.earliest <= flt.today + flt.within

    return knowledge.Dates(could_be, *_days(flt), reaching=True)


def _undated_window(window: DateWindow | None) -> bool:
    return window is None


# Whether an item dated then on a window could be listed as to be announced (on no day).
to_be_announced = knowledge.Dates(_undated_window, first=date.max, last=date.min)


def undated(kinds_treaty: Filter) -> Callable[[Deadline | Meeting], bool]:
    """As ``queries.undated_deadlines`` / ``undated_meetings``: no date, the filter's
    treaty and kinds."""

    def keep(row: Deadline | Meeting) -> bool:
        first = row.due_earliest if isinstance(row, Deadline) else row.starts_earliest
        # (a restated row passes for its model: tracker.views.knowledge.KnownRow)
        return first is None and _named(row, kinds_treaty)

    return keep


@dataclass(frozen=True)
class Board:
    """As the board's sections' queries (:func:`tracker.views.sections.ahead`): dated
    deadlines shown whose window closes on or after ``since``, single meetings ending on
    or after it, recurring ones; each narrowed by ``only``."""

    since: date
    only: BoardFilter
    as_of: datetime

    def relist(
        self,
        session: Session,
        known: knowledge.Knowledge,
        model: type[RowT],
        rows: Iterable[RowT],
        *,
        recurring: bool = False,
    ) -> list[RowT]:
        """``rows`` as known, in the query's order (by date, else by slug)."""
        keep = self._keep(recurring)
        listed = knowledge.relist(session, known, model, rows, keep)
        return sorted(listed, key=lambda row: self._order(row, recurring))

    def _keep(self, recurring: bool) -> Callable[[Deadline | Meeting], bool]:
        def keep(row: Deadline | Meeting) -> bool:
            if isinstance(row, Deadline):
                closes = row.due_latest
                shown = row.status not in _HIDDEN and row.due_earliest is not None
                return shown and closes is not None and closes >= self.since and self._in(row)
            if row.starts_earliest is None or (row.recurrence is not None) != recurring:
                return False
            ends = row.ends_latest or row.starts_latest
            dated = recurring or (ends is not None and ends >= self.since)
            return dated and self._in(row)

        return keep

    def _in(self, row: Deadline | Meeting) -> bool:
        if isinstance(row, Deadline):
            return self.only.matches(from_deadline(row, self.as_of))
        return self.only.matches(from_meeting(row, self.as_of))

    @staticmethod
    def _order(row: Deadline | Meeting, recurring: bool) -> tuple[date, str]:
        first = row.due_earliest if isinstance(row, Deadline) else row.starts_earliest
        return (date.min if recurring or first is None else first), row.slug


def undated_shown(only: BoardFilter, as_of: datetime) -> Callable[[Deadline | Meeting], bool]:
    """As :func:`tracker.views.board.undated`'s queries, of one row."""

    def keep(row: Deadline | Meeting) -> bool:
        if isinstance(row, Deadline):
            shown = row.due_earliest is None and row.status not in _HIDDEN
            return shown and only.matches(from_deadline(row, as_of))
        shown = row.starts_earliest is None and row.status != MeetingStatus.CANCELLED.value
        return shown and only.matches(from_meeting(row, as_of))

    return keep


def on_board(since: date) -> Callable[[Deadline], bool]:
    """As :func:`tracker.views.board.on_board`, of one row."""

    def keep(row: Deadline) -> bool:
        closes = row.due_latest
        return row.status not in _HIDDEN and closes is not None and closes >= since

    return keep


def named(slugs: Sequence[str]) -> Callable[[Deadline], bool]:
    """As :func:`tracker.views.board.select_countdowns` given slugs: a deadline named, or
    one of a treaty named."""
    wanted = set(slugs)

    def keep(row: Deadline) -> bool:
        return row.slug in wanted or (row.treaty is not None and row.treaty.slug in wanted)

    return keep
