"""Expanding a rule from a moved start gives the days dateutil gives from the first one."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr

from tracker.recurrence import occurrences

RULES = [
    "FREQ=YEARLY",
    "FREQ=YEARLY;INTERVAL=2",
    "FREQ=YEARLY;BYMONTH=1,7",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=2TU",
    "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
    "FREQ=YEARLY;UNTIL=20300101",
    "FREQ=MONTHLY",
    "FREQ=MONTHLY;INTERVAL=3",
    "FREQ=MONTHLY;BYDAY=1MO",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;COUNT=40",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
    "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SA,SU",
    "FREQ=DAILY;INTERVAL=5",
]


def from_the_first_day(rule: str, first: date, start: date, end: date) -> list[date]:
    parsed = rrulestr(rule, dtstart=datetime.combine(first, time(0)))
    window = parsed.between(datetime.combine(start, time(0)), datetime.combine(end, time(0)), True)
    return [moment.date() for moment in window]


@pytest.mark.parametrize("rule", RULES)
def test_occurrences_match_dateutil_from_the_first_day(rule: str) -> None:
    rng = random.Random(rule)
    for _ in range(150):
        # 29 February and month ends are among the first days drawn.
        first = date(1990, 1, 1) + timedelta(days=rng.randint(0, 40 * 365))
        start = date(2000, 1, 1) + timedelta(days=rng.randint(0, 40 * 365))
        end = start + timedelta(days=rng.randint(0, 400))
        assert occurrences(rule, first, start, end) == from_the_first_day(rule, first, start, end)


@pytest.mark.parametrize("first", [date(1992, 2, 29), date(1990, 1, 31)])
def test_a_day_not_in_every_period_keeps_its_own_occurrences(first: date) -> None:
    rule = "FREQ=YEARLY" if first.month == 2 else "FREQ=MONTHLY"
    start, end = date(2026, 1, 1), date(2029, 12, 31)
    assert occurrences(rule, first, start, end) == from_the_first_day(rule, first, start, end)
