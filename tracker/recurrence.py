"""Recurring meetings: RFC 5545 RRULEs, validated and expanded with dateutil inside a horizon.

A rule may carry the days its series skips (``;EXDATE=YYYYMMDD,…``): see
:func:`split_exdates`. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import MAXYEAR, date, datetime, time, timedelta
from functools import cache
from itertools import islice

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from tracker.errors import InvalidInput

MAX_COUNT = 10_000
MAX_OCCURRENCES = 1_000
HORIZON_YEARS = 10
# Periods of the rule's own frequency that dateutil may step through from a series' start
# to a year past its first occurrence: a count, so a rule is accepted or refused alike on
# every machine. A daily rule first matching more than about four and a half years on is
# refused by it; a weekly one is not before its horizon.
MAX_CANDIDATES = 2_000
# Days in a period, at least: the number of periods over a span is bounded from above.
_PERIOD_DAYS = {YEARLY: 365, MONTHLY: 28, WEEKLY: 7, DAILY: 1}
# The Gregorian calendar repeats every 400 years, weekdays included (146,097 days).
_CYCLE_YEARS = 400


# The recurrence column's width: a rule and the days its series skips.
MAX_STORED = 500


def split_exdates(rule: str) -> tuple[str, frozenset[date]]:
    """A rule as kept (``FREQ=WEEKLY;BYDAY=TU;EXDATE=20270105,20270112``): the RRULE and
    the days its series skips. ``EXDATE`` is the tracker's own part of the rule text (RFC
    5545 makes it a property of its own; the .ics feed writes it so): the days, in the
    meeting's zone, on which an occurrence of the rule does not take place."""
    kept: list[str] = []
    days: set[date] = set()
    for part in rule.split(";"):
        name, _, value = part.partition("=")
        if name.strip().upper() != "EXDATE":
            kept.append(part)
            continue
        days |= {_day(one.strip()) for one in value.split(",")}
    return ";".join(kept), frozenset(days)


def _day(digits: str) -> date:
    refused = InvalidInput(f"recurrence EXDATE {digits!r}: write days as YYYYMMDD")
    if len(digits) != 8 or not digits.isdigit():
        raise refused
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise refused from None


def with_exdates(rule: str, days: Iterable[date]) -> str:
    """A rule with days its series skips added, in canonical form (validated)."""
    skipped = sorted(set(days))
    listed = ";EXDATE=" + ",".join(f"{day:%Y%m%d}" for day in skipped) if skipped else ""
    return validate_rule(rule + listed)


def validate_rule(rule: str) -> str:
    """The rule in canonical form (its skipped days sorted, last), or InvalidInput when it
    is unreadable or too dense."""
    text, skipped = split_exdates(rule.strip())
    text = _validated_rrule(text)
    if skipped:
        text += ";EXDATE=" + ",".join(f"{day:%Y%m%d}" for day in sorted(skipped))
    if len(text) > MAX_STORED:
        raise InvalidInput(
            f"recurrence rule with its EXDATE days is longer than {MAX_STORED} characters"
        )
    return text


def _validated_rrule(rule: str) -> str:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if len(text) > 400:
        raise InvalidInput("recurrence rule is longer than 400 characters")
    parts = {part.partition("=")[0].strip().upper() for part in text.split(";")}
    if {"COUNT", "UNTIL"} <= parts:  # RFC 5545: a series ends one way (dateutil only warns)
        raise InvalidInput("a recurrence ends by COUNT or by UNTIL, not both")
    try:
        parsed = rrulestr(text, dtstart=datetime(2000, 1, 1))  # noqa: DTZ001 (dates only)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot read recurrence rule {rule!r}: {exc}") from None
    if not isinstance(parsed, rrule):
        raise InvalidInput("recurrence must be a single RRULE")
    # dateutil keeps the parts private; HOURLY, MINUTELY and SECONDLY are above DAILY.
    frequency, count = getattr(parsed, "_freq"), getattr(parsed, "_count")  # noqa: B009
    if frequency > DAILY:
        raise InvalidInput("a meeting cannot recur more often than daily")
    for part in ("byhour", "byminute", "bysecond"):
        if len(getattr(parsed, f"_{part}") or ()) > 1:
            raise InvalidInput(f"a meeting cannot recur more often than daily ({part.upper()})")
    if count is not None and count > MAX_COUNT:
        raise InvalidInput(f"recurrence COUNT is over {MAX_COUNT}")
    return text.upper()


def check_series(rule: str, first: date) -> None:
    """Refuse a rule that, from ``first``, has no occurrence within HORIZON_YEARS or needs
    more than MAX_CANDIDATES periods to reach a year past its first occurrence."""
    parsed = _parsed(rule, first)
    found = _first_occurrence(parsed, first)
    if found is None or found > first + relativedelta(years=HORIZON_YEARS):
        raise InvalidInput(
            f"recurrence rule {rule!r} has no occurrence within {HORIZON_YEARS} years of {first}"
        )
    if _periods(parsed, first, found + relativedelta(years=1)) > MAX_CANDIDATES:
        raise InvalidInput(
            f"recurrence rule {rule!r} is too sparse: over {MAX_CANDIDATES} periods "
            "to expand a year of it"
        )


def _parsed(rule: str, first: date) -> rrule:
    parsed = rrulestr(split_exdates(rule)[0], dtstart=datetime.combine(first, time(0)))
    assert isinstance(parsed, rrule)
    return parsed


def _periods(parsed: rrule, start: date, end: date) -> int:
    """How many periods of the rule dateutil steps through from ``start`` to ``end``, at most."""
    return max(0, (end - start).days) // _period_days(parsed) + 1


def _period_days(parsed: rrule) -> int:
    freq, interval = getattr(parsed, "_freq"), getattr(parsed, "_interval")  # noqa: B009
    return _PERIOD_DAYS[freq] * int(interval)


@cache  # a few rules, expanded for every listing
def _expandable(rule: str, first: date) -> bool:
    """Whether a stored rule passes the input checks (a row written before they existed
    may not, and would have dateutil run to the year 9999)."""
    try:
        check_series(rule, first)
    except InvalidInput:
        return False
    return True


def _first_occurrence(parsed: rrule, first: date) -> date | None:
    """The series' first day, found on a copy moved whole 400-year cycles on (the same
    calendar) to end near the year 9999, where dateutil stops: a rule that never matches
    costs a bounded number of periods instead of running to the year 9999 from today."""
    cycles = max(0, (MAXYEAR - HORIZON_YEARS - 1 - first.year) // _CYCLE_YEARS)
    shift = relativedelta(years=cycles * _CYCLE_YEARS)
    moved = parsed.replace(dtstart=datetime.combine(first + shift, time(0)))
    until = getattr(parsed, "_until")  # noqa: B009
    if until is not None:  # (COUNT and UNTIL together are refused by dateutil)
        moved = moved.replace(until=until + shift)
    found = next(iter(moved), None)
    return None if found is None else found.date() - shift


def occurrences(rule: str, first: date, start: date, end: date) -> list[date]:
    """Days from ``first`` on which the rule recurs, within ``start``–``end`` inclusive;
    dateutil steps through at most MAX_CANDIDATES periods (the window is cut short), and a
    rule the input checks refuse has none."""
    if not _expandable(rule, first):
        return []
    parsed = _parsed(rule, first)
    moved = _moved_start(parsed, first, start)
    if moved != first:
        parsed = parsed.replace(dtstart=datetime.combine(moved, time(0)))
    end = min(end, moved + timedelta(days=(MAX_CANDIDATES - 1) * _period_days(parsed)))
    if end < start:
        return []
    window = parsed.between(
        datetime.combine(start, time(0)), datetime.combine(end, time(0)), inc=True
    )
    skipped = split_exdates(rule)[1]
    days = (moment.date() for moment in window)
    return list(islice((day for day in days if day not in skipped), MAX_OCCURRENCES))


def _moved_start(parsed: rrule, first: date, start: date) -> date:
    """``first`` moved forward by whole periods of the rule to at most ``start``: the same
    occurrences from ``start`` on, without dateutil iterating every period since ``first``
    (a yearly meeting since 1990 cost 1 ms per agenda). A COUNT counts from ``first``, and
    a 29 February or a 29th-31st of the month is not on every period, so those stay."""
    freq, interval = getattr(parsed, "_freq"), getattr(parsed, "_interval")  # noqa: B009
    if getattr(parsed, "_count") is not None or first >= start:  # noqa: B009
        return first
    if freq == YEARLY and (first.month, first.day) != (2, 29):
        moved = first + relativedelta(years=(start.year - first.year) // interval * interval)
    elif freq == MONTHLY and first.day <= 28:
        months = (start.year - first.year) * 12 + start.month - first.month
        moved = first + relativedelta(months=months // interval * interval)
    elif freq == WEEKLY:
        moved = first + timedelta(weeks=(start - first).days // 7 // interval * interval)
    elif freq == DAILY:
        moved = first + timedelta(days=(start - first).days // interval * interval)
    else:
        return first
    return moved if moved <= start else first
