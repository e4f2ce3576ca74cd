"""Countdowns: how far an item's window is from an instant. Pure: no I/O, no clock."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from tracker.dates import DateWindow, Precision, zone


class CountdownStatus(StrEnum):
    UPCOMING = "upcoming"
    TODAY = "today"
    IN_WINDOW = "in-window"
    PASSED = "passed"


@dataclass(frozen=True)
class Countdown:
    days_remaining: int
    status: CountdownStatus
    human: str


def countdown(window: DateWindow, as_of: datetime, tz: str = "UTC") -> Countdown:
    """Count calendar days from ``as_of`` to the window, in the item's time zone ``tz``.

    ``days_remaining`` is counted to the window's first day, negative once it is past.
    """
    if window.is_tba:
        return Countdown(0, CountdownStatus.UPCOMING, "date to be announced")
    today = as_of.astimezone(zone(window.tz or tz)).date()
    to_first = (window.earliest - today).days
    to_last = (window.latest - today).days
    if window.precision is Precision.TIME and to_first == 0:
        status = CountdownStatus.TODAY if as_of < window.start(tz) else CountdownStatus.PASSED
        human = "today" if status is CountdownStatus.TODAY else "earlier today"
        return Countdown(0, status, human)
    if to_first > 0:
        if to_first == to_last:
            human = f"in {_span(today, window.earliest)}"
        else:
            human = f"in {_range(today, window.earliest, window.latest)}"
        return Countdown(to_first, CountdownStatus.UPCOMING, human)
    if to_first == 0 and to_last == 0:
        return Countdown(0, CountdownStatus.TODAY, "today")
    if to_last >= 0:
        left = "ends today" if to_last == 0 else f"ends in {_span(today, window.latest)}"
        return Countdown(to_first, CountdownStatus.IN_WINDOW, f"now (window {left})")
    return Countdown(to_first, CountdownStatus.PASSED, f"{_span(window.latest, today)} ago")


def _add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, its day clamped to the month's last (as dateutil's
    relativedelta does)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_and_days(start: date, end: date) -> tuple[int, int]:
    """Whole months from ``start`` to ``end`` (not before it), and the days left over: what
    ``relativedelta(end, start)`` gives, without its cost (a feed counts hundreds)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if _add_months(start, months) > end:
        months -= 1
    return months, (end - _add_months(start, months)).days


def _span(start: date, end: date) -> str:
    """'2 months, 14 days'; at most two units, the largest first."""
    months, days = months_and_days(start, end)
    parts = [(months // 12, "year"), (months % 12, "month"), (days, "day")]
    units = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return ", ".join(units[:2]) or "0 days"


def _range(today: date, first: date, last: date) -> str:
    """'10–16 days' for a near window; '2–5 months' for a far one."""
    days_first, days_last = (first - today).days, (last - today).days
    if days_last < 60:
        return f"{days_first}–{days_last} days"
    low, high = _whole_months(today, first), _whole_months(today, last)
    unit = "months"
    if high >= 24:
        low, high, unit = low // 12, high // 12, "years"
    return f"about {low} {unit}" if low == high else f"{low}–{high} {unit}"


def _whole_months(start: date, end: date) -> int:
    return months_and_days(start, end)[0]
