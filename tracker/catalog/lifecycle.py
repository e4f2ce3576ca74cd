"""Where a deadline or a meeting stands at an instant: its recorded status, and the states
its dates give it (``open``, ``in-session``, ``awaiting-outcome``). Pure: no I/O, no clock.

A meeting is ``in-session`` only when its start is known to the day (or the hour): a
meeting "at the end of September" may be any of ten days, so it stays ``scheduled`` until
the last of them has passed, and is then ``awaiting-outcome`` like any other.
"""

from __future__ import annotations

from datetime import datetime

from tracker.dates import DateWindow

# What a person records; the rest is derived.
RECORDED_MEETING_OUTCOMES = frozenset({"held", "postponed", "cancelled", "unconfirmed"})
DERIVED = frozenset({"open", "in-session", "awaiting-outcome"})
# A meeting postponed to a new date is ahead like a scheduled one, and then takes place.
_AHEAD = frozenset({"scheduled", "postponed"})


def meeting_state(
    recorded: str,
    starts: DateWindow | None,
    ends: DateWindow | None,
    tz: str,
    as_of: datetime,
) -> str:
    """``scheduled`` (or ``postponed``, to its new date), then ``in-session``, then
    ``awaiting-outcome`` for a meeting recorded as scheduled or postponed and dated; the
    recorded state otherwise."""
    if recorded not in _AHEAD or starts is None or starts.is_tba:
        return recorded
    last = ends or starts
    if as_of >= last.end(starts.tz or tz):
        return "awaiting-outcome"
    if starts.is_exact and as_of >= starts.start(tz):
        return "in-session"
    return recorded


def deadline_state(recorded: str, due: DateWindow | None, tz: str, as_of: datetime) -> str:
    """``open`` while a pending deadline's window is running; the recorded state otherwise
    (a pending deadline whose window has closed stays pending until someone records it met
    or missed)."""
    if recorded != "pending" or due is None or due.is_tba or due.at is not None:
        return recorded
    if due.start(tz) <= as_of < due.end(tz):
        return "open"
    return recorded


def has_started(starts: DateWindow | None, tz: str, as_of: datetime) -> bool:
    """Whether a meeting can have begun by ``as_of`` (its earliest start is past)."""
    return starts is not None and not starts.is_tba and as_of >= starts.start(tz)


def window_closed(due: DateWindow | None, tz: str, as_of: datetime) -> bool:
    """Whether a deadline's whole window is behind ``as_of``."""
    return due is not None and not due.is_tba and as_of >= due.end(tz)
