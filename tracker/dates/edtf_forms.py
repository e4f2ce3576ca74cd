"""EDTF level 0/1 strings (``2027-03~``, ``2027?``, ``2027-21``, ``201X``), read with the
``edtf`` package; the windows follow our rules, not the package's:

- ``~`` (approximate) widens the window by one unit (day, month, season or year) each side;
- ``?`` (uncertain) keeps the window and marks it uncertain; ``%`` does both;
- seasons are meteorological (21 spring = March–May); 24 (winter) is refused as ambiguous,
  as ``winter 2027`` is.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from tracker.dates.periods import checked_year, month_end, season_window
from tracker.dates.windows import LONGEST_WINDOW, DateWindow, Precision
from tracker.errors import InvalidInput

# Only strings of this shape go to the edtf parser (which imports pyparsing, ~30 ms).
LOOKS_LIKE_EDTF = re.compile(r"[0-9X]{4}(?:-[0-9X]{2}){0,2}[?~%]?", re.IGNORECASE)
_SEASONS = {"21": "spring", "22": "summer", "23": "autumn"}


def read(text: str) -> DateWindow:
    from edtf import parser as edtf

    try:
        parsed = edtf.parse_edtf(text.upper())
    except edtf.EDTFParseException:
        raise InvalidInput(f"cannot read EDTF date {text!r}") from None
    inner = parsed.date if isinstance(parsed, edtf.UncertainOrApproximate) else parsed
    if isinstance(inner, edtf.Season):
        base, unit = _season(str(inner.season), int(str(inner._year))), relativedelta(months=3)
    elif isinstance(inner, edtf.Date):  # Unspecified is a Date too
        base, unit = _strict(parsed), _unit(inner)
    else:
        raise InvalidInput(f"EDTF date {text!r} is not one of the forms we read")
    both = parsed.is_uncertain_and_approximate
    if parsed.is_approximate or both:
        first = base.earliest - unit
        last = base.latest + timedelta(days=1) + unit - timedelta(days=1)
        _check_years(first, last)
        base = DateWindow(base.text, first, last, base.precision)
    if base.latest - base.earliest > LONGEST_WINDOW:
        raise InvalidInput(f"EDTF date {text!r} spans more than ten years")
    uncertain = bool(parsed.is_uncertain or both)
    return DateWindow(str(parsed), base.earliest, base.latest, base.precision, uncertain=uncertain)


def _season(code: str, year: int) -> DateWindow:
    if code == "24":
        raise InvalidInput(
            f"{year}-24 (winter {year}) is ambiguous: write winter {year - 1}/{year % 100:02d} "
            f"or winter {year}/{(year + 1) % 100:02d}"
        )
    if code not in _SEASONS:
        raise InvalidInput(f"EDTF season {code} is not one of 21–23 (spring, summer, autumn)")
    return season_window(_SEASONS[code], checked_year(year))


def _strict(parsed: object) -> DateWindow:
    """The days the package gives the string without its qualifiers."""
    lower, upper = parsed.lower_strict(), parsed.upper_strict()  # type: ignore[attr-defined]
    first, last = date(*lower[:3]), date(*upper[:3])
    _check_years(first, last)
    return DateWindow("", first, last, _precision(first, last))


def _check_years(first: date, last: date) -> None:
    checked_year(first.year)
    checked_year(last.year)


def _precision(first: date, last: date) -> Precision:
    if first == last:
        return Precision.DAY
    if first.day == 1 and last == month_end(first.year, first.month):
        return Precision.MONTH
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and (
        first.year == last.year
    ):
        return Precision.YEAR
    return Precision.RANGE


def _unit(inner: object) -> relativedelta:
    """One step of the finest part the string gives: a day, a month or a year."""
    if _given(getattr(inner, "_day", None)):
        return relativedelta(days=1)
    if _given(getattr(inner, "_month", None)):
        return relativedelta(months=1)
    return relativedelta(years=1)


def _given(part: str | None) -> bool:
    return bool(part) and "X" not in str(part).upper()
