"""Dates as a feed entry says them: absolute ("5 February 2026", "1–5 June 2026", "end of
September 2026"), never counted from an instant ("in 9 days", "2 days ago"): a feed reader
shows an entry for weeks, and a count is wrong the day after it was written.
"""

from __future__ import annotations

import re
from datetime import date, time

from tracker.dates import DateWindow, Precision
from tracker.views.items import Item
from tracker.views.wording import one_line

# A window written as ISO days ("2026-02-05", "2026-06-01/2026-06-05") is said in words;
# any other ("end of September 2026", "Q3 2030", "2027") is already said as people do.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
# An alert body's date: an ISO day, or a time with its zone as written.
_ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::\d{2})?)?(?: (\S+))?$")


def day_said(day: date) -> str:
    """``5 February 2026``."""
    return f"{day.day} {day:%B %Y}"


def days_said(first: date, last: date) -> str:
    """``5 February 2026``, ``1–5 June 2026``, ``28 May – 3 June 2026``,
    ``28 December 2026 – 3 January 2027``."""
    if first == last:
        return day_said(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{day_said(last)}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {day_said(last)}"
    return f"{day_said(first)} – {day_said(last)}"


def _moment_said(day: date, at: time | None, tz: str | None) -> str:
    if at is None:
        return day_said(day)
    return f"{day_said(day)}, {at:%H:%M}" + (f" {tz}" if tz else "")


def window_said(window: DateWindow, tz: str) -> str:
    """A date in words: a day, a time with its zone, a window as people write it."""
    if window.is_tba:
        return "date to be announced"
    if window.precision is Precision.TIME:
        return _moment_said(window.earliest, window.at, window.tz or tz)
    if window.precision is Precision.DAY or _ISO.match(window.text):
        return days_said(window.earliest, window.latest)
    return one_line(window.text)


def item_when_said(item: Item) -> str:
    """When an item is: its date, or a meeting's span (``1–5 June 2026``; ``28 July 2021,
    09:00–17:00 Europe/Geneva``)."""
    start, end = item.when, item.ends
    if end is None or end.is_tba or start.is_tba:
        return window_said(start, item.tz)
    if start.is_exact and end.is_exact:
        if start.at is not None and end.at is not None and start.earliest == end.latest:
            zone = start.tz or item.tz
            return f"{day_said(start.earliest)}, {start.at:%H:%M}–{end.at:%H:%M} {zone}"
        if start.at is None and end.at is None:
            return days_said(start.earliest, end.latest)
    return f"{window_said(start, item.tz)} to {window_said(end, item.tz)}"


def written_moment_said(text: str) -> str:
    """A date as an alert body writes it (``2026-02-05``, ``2021-07-28T09:00 Europe/Geneva``)
    in words; any other text as it is."""
    matched = _ISO_MOMENT.match(text.strip())
    if matched is None:
        return one_line(text)
    day, hour, minute, zone = matched.groups()
    at = time(int(hour), int(minute)) if hour is not None else None
    try:
        return _moment_said(date.fromisoformat(day), at, zone)
    except ValueError:
        return one_line(text)
