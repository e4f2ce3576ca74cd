"""Windows between two days: day ranges (``8–12 March 2027``), ISO intervals
(``2027-03-08/2027-03-12``) and deadlines that end on a day (``by end of 2026``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from tracker.dates.periods import MONTH, checked_year, day_window, month_number
from tracker.dates.windows import LONGEST_WINDOW, DateWindow, Precision
from tracker.errors import InvalidInput

_DASH = r"\s*(?:[-–—]|to)\s*"
DAY_RANGE = re.compile(
    r"(?P<d1>\d{1,2})(?:\s+(?P<m1>[A-Za-z]{3,9})\.?(?:,?\s+(?P<y1>\d{4}))?)?"
    + _DASH
    + r"(?P<d2>\d{1,2})\s+"
    + MONTH
    + r",?\s+(?P<year>\d{4})",
    re.IGNORECASE,
)
DEADLINE = re.compile(r"(?:by|no later than|not later than)\s+(?:the\s+)?(?P<end>.+)", re.I)


def span(first: date, last: date) -> DateWindow:
    """The window from ``first`` to ``last``, written as a person would write the range."""
    if last < first:
        raise InvalidInput(f"{day_text(first)} – {day_text(last)} ends before it starts")
    if last == first:
        return day_window(first)
    if last - first > LONGEST_WINDOW:
        raise InvalidInput(
            f"{day_text(first)} – {day_text(last)} spans more than ten years: give a shorter range"
        )
    return DateWindow(range_text(first, last), first, last, Precision.RANGE)


def range_text(first: date, last: date) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{day_text(last)}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {day_text(last)}"
    return f"{day_text(first)} – {day_text(last)}"


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def build_day_range(match: re.Match[str]) -> DateWindow:
    """``8–12 March 2027``, ``30 March – 3 April 2027``, ``28 Dec 2026 – 3 Jan 2027``;
    the first day takes the month and year of the last when it does not give them."""
    year, month = checked_year(int(match["year"])), month_number(match["month"])
    last = date(year, month, int(match["d2"]))
    first_month = month_number(match["m1"]) if match["m1"] else month
    first_year = checked_year(int(match["y1"])) if match["y1"] else year
    first = date(first_year, first_month, int(match["d1"]))
    if first > last and not match["y1"] and match["m1"]:
        first = date(checked_year(year - 1), first_month, first.day)  # 28 Dec – 3 Jan 2027
    return span(first, last)


def build_interval(text: str, parse_one: Callable[[str], DateWindow]) -> DateWindow:
    """``START/END`` (ISO 8601 / EDTF): from the first day of START to the last of END."""
    start_text, end_text = (part.strip() for part in text.split("/", 1))
    if not start_text or not end_text or ".." in (start_text, end_text):
        raise InvalidInput(f"interval {text!r} needs both ends, e.g. 2027-03-08/2027-03-12")
    start, end = parse_one(start_text), parse_one(end_text)
    if start.at is not None or end.at is not None:
        raise InvalidInput(f"interval {text!r}: give its ends as days, not times")
    window = span(start.earliest, end.latest)
    if not (start.uncertain or end.uncertain or "~" in text or "%" in text):
        return window
    # A qualified end keeps the interval in EDTF form, which says what the range cannot.
    shown = f"{start.text}/{end.text}"
    uncertain = start.uncertain or end.uncertain
    return DateWindow(shown, window.earliest, window.latest, window.precision, uncertain=uncertain)


def build_deadline(
    match: re.Match[str], recorded_on: date | None, parse_one: Callable[[str], DateWindow]
) -> DateWindow:
    """A deadline that ends with the window it names and opens on the day it was recorded."""
    end = parse_one(match["end"])
    if recorded_on is None:
        raise InvalidInput(
            f"{match[0]!r} opens on the day it is recorded, and no day was given: "
            f"write it as a range from that day, e.g. "
            f"{range_text(end.latest.replace(day=1), end.latest)}"
        )
    if end.latest < recorded_on:
        raise InvalidInput(f"{match[0]!r} ended before {recorded_on.isoformat()}")
    return span(recorded_on, end.latest)
