"""Date expressions as diplomats write them, parsed to a window of days.

Pure: no I/O, no clock. ``parse("end of September 2021")`` gives the window
21–30 September 2021 with precision ``part-of-month``; ``str()`` of a window is
its canonical expression, which parses back to the same window.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from tracker.errors import InvalidInput

MIN_YEAR, MAX_YEAR = 1800, 2200
MAX_EXPRESSION_LENGTH = 80
# No expression parses to a longer window than a year (Jan 1 to Dec 31): queries use this
# to bound a search by a window's first day, which an index serves, from its last day.
LONGEST_WINDOW = timedelta(days=365)

ACCEPTED_FORMS = (
    "2026-02-05, 5 February 2026, 2026-02-05T10:00 Europe/Geneva, 2026-02, February 2026, "
    "Q2 2023, 2027, first week of October 2023, end of September 2021, mid-June 2021, "
    "early March 2027, late 2026"
)


# Names people use that IANA does not have: Geneva shares Zurich's rules.
ZONE_ALIASES = {"Europe/Geneva": "Europe/Zurich", "Asia/Calcutta": "Asia/Kolkata"}


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name or an alias; raises InvalidInput for an unknown one."""
    key = ZONE_ALIASES.get(name, name)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r} (use an IANA name like Europe/Zurich)"
        ) from None


class Precision(StrEnum):
    TIME = "time"
    DAY = "day"
    WEEK = "week"
    PART_OF_MONTH = "part-of-month"
    MONTH = "month"
    QUARTER = "quarter"
    PART_OF_YEAR = "part-of-year"
    YEAR = "year"


@dataclass(frozen=True)
class DateWindow:
    """The days an event may fall on, ``earliest`` to ``latest`` inclusive."""

    text: str
    earliest: date
    latest: date
    precision: Precision
    at: time | None = None
    tz: str | None = None

    def __str__(self) -> str:
        return self.text

    @property
    def is_exact(self) -> bool:
        return self.precision in (Precision.TIME, Precision.DAY)

    def start(self, zone: str) -> datetime:
        """The first instant of the window, in the window's zone or else ``zone``."""
        return datetime.combine(self.earliest, self.at or time(0), tzinfo=zone_(self.tz or zone))

    def end(self, zone: str) -> datetime:
        """The instant the window closes: its time, or midnight after its last day."""
        if self.at is not None:
            return self.start(zone)
        return datetime.combine(self.latest + timedelta(days=1), time(0), zone_(self.tz or zone))


zone_ = zone  # DateWindow's methods take a parameter named ``zone``

# The month names dateutil's parser knows, without importing the parser (a fifth of the
# CLI's startup beyond its floor went to dateutil.parser and the dateutil.tz it pulls in).
_MONTHS = {
    name.lower(): number
    for number, names in enumerate(
        [
            ("Jan", "January"),
            ("Feb", "February"),
            ("Mar", "March"),
            ("Apr", "April"),
            ("May",),
            ("Jun", "June"),
            ("Jul", "July"),
            ("Aug", "August"),
            ("Sep", "Sept", "September"),
            ("Oct", "October"),
            ("Nov", "November"),
            ("Dec", "December"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>\d{4})"
_WEEK_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": 0,
}
_WEEK_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", 0: "last"}
_PARTS = {
    "early": "early",
    "beginning of": "early",
    "start of": "early",
    "mid": "mid",
    "middle of": "mid",
    "late": "late",
    "end of": "end of",
}
_PART_OF_MONTH_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31), "end of": (21, 31)}
_PART_OF_YEAR_MONTHS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12), "end of": (9, 12)}

_PATTERN_TEXTS = [
    (
        "time",
        r"(?P<year>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{1,2}):(?P<min>\d{2})"
        r"(?:\s*(?P<zone>Z|UTC|[A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+))?",
    ),
    ("iso-day", r"(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    ("iso-month", r"(?P<year>\d{4})-(?P<m>\d{1,2})"),
    ("quarter", r"Q(?P<q>[1-4])\s+(?P<year>\d{4})|(?P<year2>\d{4})-?Q(?P<q2>[1-4])"),
    ("year", _YEAR),
    (
        "week",
        r"(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+week\s+of\s+"
        + _MONTH
        + r",?\s+"
        + _YEAR,
    ),
    (
        "part",
        r"(?P<part>early|mid|late|beginning of|start of|middle of|end of)"
        r"(?:[\s-]+" + _MONTH + r")?[\s,-]+" + _YEAR,
    ),
    (
        "day-month",
        r"(?:[A-Za-z]+,?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+" + _YEAR,
    ),
    (
        "month-day",
        r"(?:[A-Za-z]+,?\s+)?" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR,
    ),
    ("month", _MONTH + r",?\s+" + _YEAR),
]


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Compiled on the first parse: most commands never parse a date (~8 ms saved)."""
    return [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PATTERN_TEXTS]


def parse(expression: str) -> DateWindow:
    """Parse a date expression or raise :class:`InvalidInput` showing the accepted forms."""
    text = " ".join(str(expression).split())
    if not text:
        raise InvalidInput(f"empty date: expected one of {ACCEPTED_FORMS}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidInput(f"date expression longer than {MAX_EXPRESSION_LENGTH} characters")
    for kind, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match:
            try:
                return _BUILDERS[kind](match)
            except (ValueError, OverflowError) as exc:
                raise InvalidInput(f"invalid date {text!r}: {exc}") from None
    raise InvalidInput(f"cannot read date {text!r}: expected one of {ACCEPTED_FORMS}")


def _year(match: re.Match[str], group: str = "year") -> int:
    year = int(match.group(group))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return year


def _month(match: re.Match[str]) -> int:
    number = _MONTHS.get(match.group("month").lower())
    if number is None:
        raise ValueError(f"unknown month {match.group('month')!r}")
    return number


def _month_end(year: int, month: int) -> date:
    return date(year, month, 1) + relativedelta(months=1, days=-1)


def _day(year: int, month: int, day: int) -> DateWindow:
    when = date(year, month, day)
    return DateWindow(when.isoformat(), when, when, Precision.DAY)


def _build_time(match: re.Match[str]) -> DateWindow:
    when = date(_year(match), int(match.group("m")), int(match.group("d")))
    at = time(int(match.group("h")), int(match.group("min")))
    zone = match.group("zone")
    if zone and zone.upper() in ("Z", "UTC"):
        zone = "UTC"
    if zone:
        try:
            ZoneInfo(ZONE_ALIASES.get(zone, zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
    text = f"{when.isoformat()}T{at:%H:%M}" + (f" {zone}" if zone else "")
    return DateWindow(text, when, when, Precision.TIME, at=at, tz=zone)


def _build_iso_day(match: re.Match[str]) -> DateWindow:
    return _day(_year(match), int(match.group("m")), int(match.group("d")))


def _build_named_day(match: re.Match[str]) -> DateWindow:
    return _day(_year(match), _month(match), int(match.group("d")))


def _build_month_window(year: int, month: int) -> DateWindow:
    first = date(year, month, 1)
    return DateWindow(f"{first:%B %Y}", first, _month_end(year, month), Precision.MONTH)


def _build_iso_month(match: re.Match[str]) -> DateWindow:
    return _build_month_window(_year(match), int(match.group("m")))


def _build_month(match: re.Match[str]) -> DateWindow:
    return _build_month_window(_year(match), _month(match))


def _build_quarter(match: re.Match[str]) -> DateWindow:
    quarter = int(match.group("q") or match.group("q2"))
    year = _year(match, "year" if match.group("year") else "year2")
    first = date(year, 3 * quarter - 2, 1)
    return DateWindow(f"Q{quarter} {year}", first, _month_end(year, 3 * quarter), Precision.QUARTER)


def _build_year(match: re.Match[str]) -> DateWindow:
    year = _year(match)
    return DateWindow(str(year), date(year, 1, 1), date(year, 12, 31), Precision.YEAR)


def _build_week(match: re.Match[str]) -> DateWindow:
    year, month = _year(match), _month(match)
    ordinal = _WEEK_ORDINALS[match.group("ord").lower()]
    end_of_month = _month_end(year, month)
    last_week = ordinal == 0
    first = end_of_month - timedelta(days=6) if last_week else date(year, month, 7 * ordinal - 6)
    text = f"{_WEEK_NAMES[ordinal]} week of {first:%B %Y}"
    return DateWindow(text, first, first + timedelta(days=6), Precision.WEEK)


def _build_part(match: re.Match[str]) -> DateWindow:
    part = _PARTS[" ".join(match.group("part").lower().split())]
    year = _year(match)
    if match.group("month"):
        month = _month(match)
        first_day, last_day = _PART_OF_MONTH_DAYS[part]
        last = date(year, month, min(last_day, calendar.monthrange(year, month)[1]))
        joiner = "-" if part == "mid" else " "
        text = f"{part}{joiner}{date(year, month, 1):%B %Y}"
        return DateWindow(text, date(year, month, first_day), last, Precision.PART_OF_MONTH)
    first_month, last_month = _PART_OF_YEAR_MONTHS[part]
    text = f"{part} {year}"
    return DateWindow(
        text, date(year, first_month, 1), _month_end(year, last_month), Precision.PART_OF_YEAR
    )


_BUILDERS = {
    "time": _build_time,
    "iso-day": _build_iso_day,
    "iso-month": _build_iso_month,
    "quarter": _build_quarter,
    "year": _build_year,
    "week": _build_week,
    "part": _build_part,
    "day-month": _build_named_day,
    "month-day": _build_named_day,
    "month": _build_month,
}


def parse_zone(name: str) -> str:
    """Check a time zone name; return it unchanged."""
    zone(name)
    return name


def parse_duration(text: str) -> timedelta:
    """``90d``, ``2w``, ``12h``, ``0d`` as a timedelta (lead times, ``--within``)."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dwh])\s*", text or "", re.IGNORECASE)
    if not match:
        raise InvalidInput(f"cannot read duration {text!r}: expected e.g. 90d, 2w or 12h")
    amount, unit = int(match.group(1)), match.group(2).lower()
    return {
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
        "h": timedelta(hours=amount),
    }[unit]


def parse_durations(text: str) -> list[timedelta]:
    """A comma-separated list of durations, longest first, without repeats."""
    parts = [part for part in (text or "").split(",") if part.strip()]
    if not parts:
        raise InvalidInput("expected at least one duration, e.g. 90d,30d,7d")
    return sorted({parse_duration(part) for part in parts}, reverse=True)


def format_duration(delta: timedelta) -> str:
    if delta.seconds and not delta.days:
        return f"{delta.seconds // 3600}h"
    return f"{delta.days}d"
