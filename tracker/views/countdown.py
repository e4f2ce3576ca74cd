"""Countdowns: how far an item's window is from an instant. Pure: no I/O, no clock.

A countdown never claims more precision than its date has. Counts are calendar days from
``as_of``'s day in the item's zone: ``days_min`` to the window's first day, ``days_max`` to
its last; ``days_remaining`` is ``days_min`` for a date known to the day (or the hour) and
None for a wider window, whose single day count would be a guess. The words (``human``):

- a date to be announced: "date to be announced" (no counts at all);
- a day or a time: the exact distance, at most two units, as before: "in 2 months, 14
  days", "today", "earlier today" (a time already past), "3 days ago"; a meeting of
  several days, running: "now, ends in 2 days", "now, ends today"; past: counted from
  its last day;
- a wider window ahead: the range of distances to its first and last day, in the unit the
  distance calls for: days while its last day is under 60 days away ("in 10–16 days"),
  whole months under two years ("in 1–13 months"; "in about 9 months" when both ends are
  the same whole month away; "in 20 days – 3 months" when the nearer is under a month
  away), years beyond (rounded: "in 3–4 years", "in about 3 years"), except that a
  calendar year that far away is named ("in 2030");
- a wider window running now (its first day today or past, its last day today or ahead):
  when it closes, at the latest: "by the end of today", "within the next 5 days", "within
  the next 4 weeks" (under 9 weeks), "within the next 3 months";
- a wider window wholly past: the same ranges counted back ("10–16 days ago", "2–4 months
  ago", "3–4 years ago"), except that a past calendar year is named ("in 2025").

A meeting's window runs from its start's first day to its end's last (``last``): counts,
words and status cover the whole meeting. ``status`` is ``upcoming`` while the window's
first day is ahead (a date to be announced is upcoming), ``today`` while the window holds
today, ``passed`` once its last day is behind; a time on its own day is ``today`` until
its instant and ``passed`` after it ("earlier today"), unless it starts a meeting that
has not ended.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from tracker.dates import DateWindow, Precision, zone

# Below this many days to the window's last day, distances are said in days.
NEAR_DAYS = 60
# Below this many whole months, in months; beyond, in years.
FAR_MONTHS = 24
# A window running now closes "within the next N weeks" below this many days.
WEEKS_UNTIL = 63


class CountdownStatus(StrEnum):
    UPCOMING = "upcoming"
    TODAY = "today"
    PASSED = "passed"


@dataclass(frozen=True)
class Countdown:
    """``days_min``/``days_max``: calendar days to the window's first/last day (negative
    once past); ``days_remaining``: ``days_min`` for a day or a time, else None. All three
    are None for a date to be announced."""

    days_min: int | None
    days_max: int | None
    days_remaining: int | None
    status: CountdownStatus
    human: str


TBA_WORDS = "date to be announced"


def countdown(
    window: DateWindow, as_of: datetime, tz: str = "UTC", last: date | None = None
) -> Countdown:
    """Count calendar days from ``as_of`` to the window, in the item's time zone ``tz``.

    ``last``: the last day of what the window starts (a meeting's end), when it is later
    than the window's own: the countdown is ``today`` until that day has passed.
    """
    if window.is_tba:
        return Countdown(None, None, None, CountdownStatus.UPCOMING, TBA_WORDS)
    if last is not None and last > window.latest:
        window = replace(window, latest=last)
        spans = True
    else:
        spans = False
    today = as_of.astimezone(zone(window.tz or tz)).date()
    to_first = (window.earliest - today).days
    to_last = (window.latest - today).days
    if window.is_exact:
        status, human = _exact(window, as_of, tz, today, to_first, to_last, spans)
        return Countdown(to_first, to_last, to_first, status, human)
    if to_first > 0:
        human = _distance(window, today, ahead=True)
        return Countdown(to_first, to_last, None, CountdownStatus.UPCOMING, human)
    if to_last >= 0:
        return Countdown(to_first, to_last, None, CountdownStatus.TODAY, _closes(today, window))
    human = _distance(window, today, ahead=False)
    return Countdown(to_first, to_last, None, CountdownStatus.PASSED, human)


def _exact(
    window: DateWindow,
    as_of: datetime,
    tz: str,
    today: date,
    to_first: int,
    to_last: int,
    spans: bool,
) -> tuple[CountdownStatus, str]:
    """A day or a time (starting something ``spans`` days to ``window.latest``): the exact
    distance."""
    started = window.precision is not Precision.TIME or as_of >= window.start(tz)
    if to_first > 0 or (to_first == 0 and not started):
        return CountdownStatus.UPCOMING if to_first else CountdownStatus.TODAY, (
            f"in {_span(today, window.earliest)}" if to_first else "today"
        )
    if spans and to_last >= 0:
        return CountdownStatus.TODAY, "now, ends " + (
            "today" if to_last == 0 else f"in {_span(today, window.latest)}"
        )
    if to_first == 0:
        if window.precision is Precision.TIME:
            return CountdownStatus.PASSED, "earlier today"
        return CountdownStatus.TODAY, "today"
    return CountdownStatus.PASSED, f"{_span(window.latest, today)} ago"


def _distance(window: DateWindow, today: date, *, ahead: bool) -> str:
    """The range of distances between today and the window's nearer and farther day: 'in
    10–16 days', 'in 1–13 months', '3–4 years ago', a calendar year that far by its name."""
    near, far = (window.earliest, window.latest) if ahead else (window.latest, window.earliest)
    low_days, high_days = sorted((abs((near - today).days), abs((far - today).days)))
    low, high = sorted(_whole_months(min(today, day), max(today, day)) for day in (near, far))
    if window.precision is Precision.YEAR and (not ahead or low >= FAR_MONTHS):
        return f"in {window.earliest.year}"
    if high_days < NEAR_DAYS:
        said = _counted(low_days, high_days, "day", "days")
    elif low == 0:  # under a month to the nearer day: that one in days
        nearer = _counted(low_days, low_days, "day", "days")
        said = f"{nearer} – {_counted(high, high, 'month', 'months')}"
    elif low < FAR_MONTHS:
        said = _counted(low, high, "month", "months", about=True)
    else:
        said = _counted(_years(low), _years(high), "year", "years", about=True)
    return f"in {said}" if ahead else f"{said} ago"


def _counted(low: int, high: int, one: str, many: str, *, about: bool = False) -> str:
    if low == high:
        return f"{'about ' if about else ''}{low} {one if low == 1 else many}"
    return f"{low}–{high} {many}"


def _years(months: int) -> int:
    """Whole months in years, rounded (half up): 30 months is about 3 years."""
    return (months + 6) // 12


def _closes(today: date, window: DateWindow) -> str:
    """A wider window running now: when it closes, at the latest."""
    days = (window.latest - today).days
    if days == 0:
        return "by the end of today"
    if days == 1:
        return "by the end of tomorrow"
    if days < 14:
        return f"within the next {days} days"
    if days < WEEKS_UNTIL:
        return f"within the next {-(-days // 7)} weeks"
    months, left = months_and_days(today, window.latest)
    months += 1 if left else 0
    return f"within the next {months} months"


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


def _whole_months(start: date, end: date) -> int:
    return months_and_days(start, end)[0]
