"""Recurring meetings: RFC 5545 RRULEs, validated and expanded with dateutil inside a horizon.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import islice

from dateutil.rrule import DAILY, rrule, rrulestr

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
    window = parsed.between(
        datetime.combine(start, time(0)), datetime.combine(end, time(0)), inc=True
    )
    return [moment.date() for moment in islice(window, MAX_OCCURRENCES)]
