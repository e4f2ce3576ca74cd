"""The listings' SQL conditions (:mod:`tracker.catalog.queries`) as Python tests of one row.

A listing as known at a moment (:func:`tracker.views.knowledge.relist`) asks them of the
rows revised since, whose earlier values no query can see. Each mirrors its query: change
one, change the other (tests/test_known_at.py lists both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.queries import Filter, Scope
from tracker.dates import LONGEST_WINDOW, DateWindow


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


def deadline_due(flt: Filter) -> Callable[[DateWindow | None], bool]:
    """Whether a deadline due then on a window could be listed (its due alone decides)."""

    def could_be(window: DateWindow | None) -> bool:
        if window is None:
            return _undated_taken(flt)
        return in_window(window.earliest, window.latest, flt, LONGEST_WINDOW)

    return could_be


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


def meeting_start(flt: Filter) -> Callable[[DateWindow | None], bool]:
    """Whether a meeting starting then on a window could be listed: not if it starts after
    the span (a recurring one then has no occurrence in it either)."""

    def could_be(window: DateWindow | None) -> bool:
        if window is None or flt.within is None or flt.scope is Scope.PAST:
            return True
        return window.earliest <= flt.today + flt.within

    return could_be


def undated(kinds_treaty: Filter) -> Callable[[Deadline | Meeting], bool]:
    """As ``queries.undated_deadlines`` / ``undated_meetings``: no date, the filter's
    treaty and kinds."""

    def keep(row: Deadline | Meeting) -> bool:
        first = row.due_earliest if isinstance(row, Deadline) else row.starts_earliest
        # (a restated row passes for its model: tracker.views.knowledge.KnownRow)
        return first is None and _named(row, kinds_treaty)

    return keep
