"""Recurring meetings: RFC 5545 RRULEs, validated and expanded with dateutil inside a horizon.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import islice

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from tracker.errors import InvalidInput

MAX_COUNT = 10_000
MAX_OCCURRENCES = 1_000


def validate_rule(rule: str) -> str:
    """The rule in canonical form, or InvalidInput when it is unreadable or too dense."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if len(text) > 400:
        raise InvalidInput("recurrence rule is longer than 400 characters")
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
    if count is not None and count > MAX_COUNT:
        raise InvalidInput(f"recurrence COUNT is over {MAX_COUNT}")
    return text.upper()


def occurrences(rule: str, first: date, start: date, end: date) -> list[date]:
    """Days from ``first`` on which the rule recurs, within ``start``–``end`` inclusive."""
    parsed = rrulestr(rule, dtstart=datetime.combine(first, time(0)))
    assert isinstance(parsed, rrule)
    moved = _moved_start(parsed, first, start)
    if moved != first:
        parsed = parsed.replace(dtstart=datetime.combine(moved, time(0)))
    window = parsed.between(
        datetime.combine(start, time(0)), datetime.combine(end, time(0)), inc=True
    )
    return [moment.date() for moment in islice(window, MAX_OCCURRENCES)]


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
