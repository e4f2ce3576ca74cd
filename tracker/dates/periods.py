"""Single periods as people write them: a day, a week, a month, a quarter, a half, a season,
a part of a month or year, a year. Each form is a pattern and a builder of its window."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

from dateutil.relativedelta import relativedelta

from tracker.dates.windows import MAX_YEAR, MIN_YEAR, DateWindow, Precision

# The month names dateutil's parser knows, without importing the parser (a fifth of the
# CLI's startup beyond its floor went to dateutil.parser and the dateutil.tz it pulls in).
MONTHS = {
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
MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
YEAR = r"(?P<year>\d{4})"
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
# Meteorological seasons of the northern hemisphere: first month, month count. Winter
# spans two years and is written with both (winter 2026/27).
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9}
_HALVES = {"h1": 1, "first": 1, "1st": 1, "h2": 2, "second": 2, "2nd": 2}

_PATTERN_TEXTS = [
    ("iso-day", r"(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    # Months 13 and up are left to EDTF, where 21–24 are seasons.
    ("iso-month", r"(?P<year>\d{4})-(?P<m>0?[1-9]|1[0-2])"),
    ("iso-week", r"(?P<year>\d{4})-?W(?P<w>\d{2})"),
    ("quarter", r"Q(?P<q>[1-4])\s+(?P<year>\d{4})|(?P<year2>\d{4})-?Q(?P<q2>[1-4])"),
    (
        "half",
        r"(?P<h>H[12])\s+(?P<year>\d{4})|(?P<year2>\d{4})-?(?P<h2>H[12])"
        r"|(?P<h3>first|1st|second|2nd)\s+half\s+of\s+(?P<year3>\d{4})",
    ),
    ("season", r"(?P<season>spring|summer|autumn|fall)\s+" + YEAR),
    ("winter", r"winter\s+(?P<year>\d{4})(?:\s*[/–-]\s*(?P<next>\d{2}|\d{4}))?"),
    ("year", YEAR),
    (
        "week",
        r"(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+week\s+of\s+"
        + MONTH
        + r",?\s+"
        + YEAR,
    ),
    (
        "part",
        r"(?P<part>early|mid|late|beginning of|start of|middle of|end of)"
        r"(?:[\s-]+" + MONTH + r")?[\s,-]+" + YEAR,
    ),
    (
        "day-month",
        r"(?:[A-Za-z]+,?\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + MONTH + r",?\s+" + YEAR,
    ),
    (
        "month-day",
        r"(?:[A-Za-z]+,?\s+)?" + MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+" + YEAR,
    ),
    ("month", MONTH + r",?\s+" + YEAR),
]


@cache
def patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Compiled on the first parse: most commands never parse a date (~8 ms saved)."""
    return [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PATTERN_TEXTS]


def checked_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    return year


def month_number(name: str) -> int:
    number = MONTHS.get(name.lower())
    if number is None:
        raise ValueError(f"unknown month {name!r}")
    return number


def _year(match: re.Match[str], group: str = "year") -> int:
    return checked_year(int(match.group(group)))


def month_end(year: int, month: int) -> date:
    return date(year, month, 1) + relativedelta(months=1, days=-1)


def day_window(when: date) -> DateWindow:
    return DateWindow(when.isoformat(), when, when, Precision.DAY)


def _build_iso_day(match: re.Match[str]) -> DateWindow:
    return day_window(date(_year(match), int(match.group("m")), int(match.group("d"))))


def _build_named_day(match: re.Match[str]) -> DateWindow:
    return day_window(date(_year(match), month_number(match.group("month")), int(match["d"])))


def month_window(year: int, month: int) -> DateWindow:
    first = date(year, month, 1)
    return DateWindow(f"{first:%B %Y}", first, month_end(year, month), Precision.MONTH)


def _build_iso_month(match: re.Match[str]) -> DateWindow:
    return month_window(_year(match), int(match.group("m")))


def _build_month(match: re.Match[str]) -> DateWindow:
    return month_window(_year(match), month_number(match.group("month")))


def _build_iso_week(match: re.Match[str]) -> DateWindow:
    year, week = _year(match), int(match.group("w"))
    first = date.fromisocalendar(year, week, 1)
    return DateWindow(f"{year}-W{week:02d}", first, first + timedelta(days=6), Precision.WEEK)


def _months(text: str, year: int, first: int, count: int, precision: Precision) -> DateWindow:
    """The window of ``count`` whole months from month ``first`` of ``year``."""
    start = date(year, first, 1)
    last = start + relativedelta(months=count, days=-1)
    return DateWindow(text, start, last, precision)


def _build_quarter(match: re.Match[str]) -> DateWindow:
    quarter = int(match.group("q") or match.group("q2"))
    year = _year(match, "year" if match.group("year") else "year2")
    return _months(f"Q{quarter} {year}", year, 3 * quarter - 2, 3, Precision.QUARTER)


def _build_half(match: re.Match[str]) -> DateWindow:
    said = (match.group("h") or match.group("h2") or match.group("h3")).lower()
    year = _year(match, next(g for g in ("year", "year2", "year3") if match.group(g)))
    half = _HALVES[said]
    name = "first" if half == 1 else "second"
    return _months(f"{name} half of {year}", year, 6 * half - 5, 6, Precision.HALF)


def season_window(season: str, year: int) -> DateWindow:
    name = "autumn" if season == "fall" else season
    return _months(f"{name} {year}", year, SEASONS[season], 3, Precision.SEASON)


def _build_season(match: re.Match[str]) -> DateWindow:
    return season_window(match.group("season").lower(), _year(match))


def winter_window(year: int) -> DateWindow:
    """The winter from December of ``year`` to the end of February of the next year."""
    return _months(f"winter {year}/{(year + 1) % 100:02d}", year, 12, 3, Precision.SEASON)


def _build_winter(match: re.Match[str]) -> DateWindow:
    year = _year(match)
    said = match.group("next")
    if said is None:
        raise ValueError(
            f"winter {year} is ambiguous: write winter {year - 1}/{year % 100:02d} "
            f"or winter {year}/{(year + 1) % 100:02d}"
        )
    if int(said) % 10 ** len(said) != (year + 1) % 10 ** len(said):
        raise ValueError(f"a winter spans two consecutive years, e.g. winter {year}/{year + 1}")
    checked_year(year + 1)
    return winter_window(year)


def _build_year(match: re.Match[str]) -> DateWindow:
    year = _year(match)
    return DateWindow(str(year), date(year, 1, 1), date(year, 12, 31), Precision.YEAR)


def _build_week(match: re.Match[str]) -> DateWindow:
    year, month = _year(match), month_number(match.group("month"))
    ordinal = _WEEK_ORDINALS[match.group("ord").lower()]
    end_of_month = month_end(year, month)
    last_week = ordinal == 0
    first = end_of_month - timedelta(days=6) if last_week else date(year, month, 7 * ordinal - 6)
    text = f"{_WEEK_NAMES[ordinal]} week of {first:%B %Y}"
    return DateWindow(text, first, first + timedelta(days=6), Precision.WEEK)


def _build_part(match: re.Match[str]) -> DateWindow:
    part = _PARTS[" ".join(match.group("part").lower().split())]
    year = _year(match)
    if match.group("month"):
        month = month_number(match.group("month"))
        first_day, last_day = _PART_OF_MONTH_DAYS[part]
        last = date(year, month, min(last_day, calendar.monthrange(year, month)[1]))
        joiner = "-" if part == "mid" else " "
        text = f"{part}{joiner}{date(year, month, 1):%B %Y}"
        return DateWindow(text, date(year, month, first_day), last, Precision.RANGE)
    first_month, last_month = _PART_OF_YEAR_MONTHS[part]
    text = f"{part} {year}"
    return DateWindow(
        text, date(year, first_month, 1), month_end(year, last_month), Precision.RANGE
    )


BUILDERS: dict[str, Callable[[re.Match[str]], DateWindow]] = {
    "iso-day": _build_iso_day,
    "iso-month": _build_iso_month,
    "iso-week": _build_iso_week,
    "quarter": _build_quarter,
    "half": _build_half,
    "season": _build_season,
    "winter": _build_winter,
    "year": _build_year,
    "week": _build_week,
    "part": _build_part,
    "day-month": _build_named_day,
    "month-day": _build_named_day,
    "month": _build_month,
}
