"""Listings bound a deadline's first day by the longest window: none is lost to the bound."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.catalog import queries
from tracker.catalog.queries import Filter, Scope

from .factories import make_deadline


def listed(session, today: date, **options) -> list[str]:
    return [d.slug for d in queries.deadlines(session, Filter(today=today, **options))]


@pytest.mark.parametrize(
    ("today", "shown"),
    [(date(2024, 12, 31), ["leap-year"]), (date(2025, 1, 1), [])],
    ids=["last-day-of-the-window", "day-after"],
)
def test_a_year_long_window_is_upcoming_until_its_last_day(session, today, shown):
    make_deadline(session, "A leap year", due="2024", slug="leap-year")
    session.commit()
    assert listed(session, today, within=timedelta(days=60)) == shown
    assert listed(session, today) == shown


def test_a_year_long_window_that_just_closed_is_in_the_recent_past(session):
    make_deadline(session, "A leap year", due="2024", slug="leap-year")
    make_deadline(session, "Long ago", due="2020-05-01", slug="long-ago")
    session.commit()
    recent = listed(session, date(2025, 1, 10), scope=Scope.PAST, within=timedelta(days=30))
    assert recent == ["leap-year"]
