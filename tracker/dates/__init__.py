"""Date expressions as diplomats write them, parsed to a window of days.

Pure: no I/O, no clock. ``parse("end of September 2021")`` gives the window
21–30 September 2021 with precision ``range``; ``str()`` of a window is
its canonical expression, which parses back to the same window. The forms live in
:mod:`~tracker.dates.periods` (single periods), :mod:`~tracker.dates.times` (moments),
:mod:`~tracker.dates.spans` (ranges, intervals, deadlines) and
:mod:`~tracker.dates.edtf_forms` (EDTF strings).
"""

from __future__ import annotations

from datetime import date

from tracker.dates import edtf_forms, periods, spans, times
from tracker.dates.durations import format_duration, parse_duration, parse_durations
from tracker.dates.windows import (
    LONGEST_WINDOW,
    MAX_YEAR,
    MIN_YEAR,
    TBA,
    ZONE_ALIASES,
    DateWindow,
    Precision,
    parse_zone,
    zone,
)
from tracker.errors import InvalidInput

__all__ = [
    "ACCEPTED_FORMS",
    "LONGEST_WINDOW",
    "MAX_EXPRESSION_LENGTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "TBA",
    "ZONE_ALIASES",
    "DateWindow",
    "Precision",
    "format_duration",
    "parse",
    "parse_duration",
    "parse_durations",
    "parse_zone",
    "zone",
]

MAX_EXPRESSION_LENGTH = 80

ACCEPTED_FORMS = (
    "2026-02-05, 5 February 2026, 2026-02-05T10:00 Europe/Geneva, 2026-12-09T18:59:29Z, "
    "2026-12-09T18:59+01:00, 2026-02, February 2026, 2027-W10, Q2 2023, H1 2027, "
    "second half of 2027, spring 2027, winter 2026/27, 2027, first week of October 2023, "
    "end of September 2021, mid-June 2021, early March 2027, late 2026, 8–12 March 2027, "
    "30 March – 3 April 2027, 2027-03-08/2027-03-12, by end of 2026, "
    "no later than 15 May 2027, EDTF 2027-03~ 2027? 2027-21"
)


def parse(expression: str, *, recorded_on: date | None = None) -> DateWindow:
    """Parse a date expression or raise :class:`InvalidInput` showing the accepted forms.

    ``recorded_on`` is the day the expression is recorded: a deadline written ``by …`` or
    ``no later than …`` opens on it. Without it those forms are refused, since the window
    would depend on a day nobody gave.
    """
    text = " ".join(str(expression).split())
    if not text:
        raise InvalidInput(f"empty date: expected one of {ACCEPTED_FORMS}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidInput(f"date expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        return _parse(text, recorded_on)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"invalid date {text!r}: {exc}") from None


def _parse(text: str, recorded_on: date | None) -> DateWindow:
    moment = times.PATTERN.fullmatch(text)  # before intervals: a zone name has a slash
    if moment:
        return times.build(moment)
    deadline = spans.DEADLINE.fullmatch(text)
    if deadline:
        return spans.build_deadline(deadline, recorded_on, _parse_one)
    if "/" in text and not text.lower().startswith("winter"):  # winter 2026/27
        return spans.build_interval(text, _parse_one)
    day_range = spans.DAY_RANGE.fullmatch(text)
    if day_range:
        return spans.build_day_range(day_range)
    return _parse_one(text)


def _parse_one(text: str) -> DateWindow:
    """One moment or period (an end of a range or interval, or a whole expression)."""
    moment = times.PATTERN.fullmatch(text)
    if moment:
        return times.build(moment)
    for kind, pattern in periods.patterns():
        match = pattern.fullmatch(text)
        if match:
            return periods.BUILDERS[kind](match)
    if edtf_forms.LOOKS_LIKE_EDTF.fullmatch(text):
        return edtf_forms.read(text)
    raise InvalidInput(f"cannot read date {text!r}: expected one of {ACCEPTED_FORMS}")
