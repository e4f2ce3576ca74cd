"""Where a deadline or a meeting stands at an instant: its recorded status, and the states
its dates give it (``open``, ``in-session``, ``awaiting-outcome``). Pure: no I/O, no clock.

A meeting is ``in-session`` only when its start is known to the day (or the hour): a
meeting "at the end of September" may be any of ten days, so it stays ``scheduled`` until
the last of them has passed, and is then ``awaiting-outcome`` like any other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from tracker import text
from tracker.dates import DateWindow, zone
from tracker.errors import ImpossibleChange, InvalidInput

# Outcomes that say the meeting's time came: not before it starts.
_TOOK_ITS_TIME = frozenset({"held", "unconfirmed"})
DERIVED = frozenset({"open", "in-session", "awaiting-outcome"})
# A meeting postponed to a new date is ahead like a scheduled one, and then takes place.
_AHEAD = frozenset({"scheduled", "postponed"})


def state(
    subject: str,
    recorded: str,
    status_on: date | None,
    when: DateWindow | None,
    ends: DateWindow | None,
    tz: str,
    as_of: datetime,
) -> str:
    """Where a ``subject`` ("deadline" or "meeting") stands as of ``as_of``. A status
    reached on a day after ``as_of``'s (met on 5 December, asked of the 1st) was not
    reached yet: the item stands as its first status (pending, scheduled) would."""
    if status_on is not None and _day(when, tz, as_of) < status_on:
        recorded = "pending" if subject == "deadline" else "scheduled"
    if subject == "deadline":
        return deadline_state(recorded, when, tz, as_of)
    return meeting_state(recorded, when, ends, tz, as_of)


def _day(when: DateWindow | None, tz: str, as_of: datetime) -> date:
    """The day ``as_of`` falls on where the item is (its date's zone, else its own)."""
    return as_of.astimezone(zone((when.tz if when else None) or tz)).date()


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


def check_status(
    subject: str,
    status: str,
    when: DateWindow | None,
    tz: str,
    as_of: datetime,
    *,
    initial: str,
    on: date | None,
    dated: bool,
    ends: DateWindow | None = None,
) -> date | None:
    """Refuse a ``status`` the item's date ``when`` rules out as of ``as_of`` (when the
    status or the date is being given: ``dated``), or a day ``on`` it cannot have been
    reached. Returns the day it was reached: ``on``; else for a meeting held, its last day
    (``ends`` or ``when``) if that is behind; else the day of ``as_of``; none for the
    ``initial`` status (scheduled, pending)."""
    problem = status_refusal(subject, status, when, tz, as_of) if dated else None
    if problem:
        raise ImpossibleChange(problem)
    today = _day(when, tz, as_of)
    if on is None:
        if status == initial:
            return None
        last = ends or when
        held_on = last.latest if status == "held" and last and not last.is_tba else today
        return min(today, held_on)
    if status == initial:
        raise InvalidInput(
            f"--status-on is the day a status was reached; a {status} {subject} has none"
        )
    if on > today:
        raise InvalidInput(f"--status-on {on} is after today ({today})")
    problem = status_day_refusal(subject, status, on, when)
    if problem:
        raise ImpossibleChange(problem)
    return on


def status_refusal(
    subject: str, status: str, when: DateWindow | None, tz: str, as_of: datetime
) -> str | None:
    """Why a ``subject`` ("meeting" or "deadline") dated ``when`` cannot be recorded
    ``status`` as of ``as_of``, or None. A meeting is held (or unconfirmed) once it has
    started; a deadline missed once its window has closed; met may come early."""
    if subject == "meeting" and status in _TOOK_ITS_TIME and not has_started(when, tz, as_of):
        return f"a meeting cannot be {status} before it starts ({_dated(when, 'it starts')})"
    if subject == "deadline" and status == "missed" and not window_closed(when, tz, as_of):
        return (
            f"a deadline cannot be missed before its window closes ({_dated(when, 'it is due')});"
            " it can be met early"
        )
    return None


def status_day_refusal(subject: str, status: str, on: date, when: DateWindow | None) -> str | None:
    """Why ``status`` cannot have been reached ``on`` that day, given the item's date."""
    if when is None or when.is_tba:
        return None
    if subject == "meeting" and status in _TOOK_ITS_TIME and on < when.earliest:
        return f"a meeting cannot be {status} on {on}, before it starts ({when})"
    if subject == "deadline" and status == "missed" and on < when.latest:
        return f"a deadline cannot be missed on {on}, before its window closes ({when})"
    return None


def _dated(when: DateWindow | None, prefix: str) -> str:
    if when is None or when.is_tba:
        return "its date is to be announced"
    return f"{prefix} {when}"


def recordable(value: str, statuses: type[StrEnum], noun: str) -> str:
    """A status a person may record, or InvalidInput naming those (a derived one too)."""
    if value in DERIVED:
        allowed = ", ".join(member.value for member in statuses)
        raise InvalidInput(
            f"{noun} status {value!r} follows from the dates and is not recorded: "
            f"record one of {allowed}"
        )
    return text.choice(value, statuses, f"{noun} status")


def postponement_refusal(new: DateWindow | None, old: DateWindow | None) -> str | None:
    """Why a meeting cannot be postponed to ``new`` (None: no --starts given) from ``old``."""
    if new is None:
        return "a postponement takes the new date: give --starts DATE or TBA"
    if old is not None and str(new) == str(old):
        return f"a postponement takes a new date; the meeting already starts {old}"
    return None
