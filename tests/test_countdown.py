from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.dates import parse
from tracker.views.countdown import CountdownStatus, countdown, months_and_days

AS_OF = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

CASES = [
    ("2026-02-05", 35, CountdownStatus.UPCOMING, "in 1 month, 4 days"),
    ("2026-01-01", 0, CountdownStatus.TODAY, "today"),
    ("2025-12-29", -3, CountdownStatus.PASSED, "3 days ago"),
    ("2026-01-11", 10, CountdownStatus.UPCOMING, "in 10 days"),
    ("Q1 2026", 0, CountdownStatus.IN_WINDOW, "now (window ends in 2 months, 30 days)"),
    ("first week of October 2026", 273, CountdownStatus.UPCOMING, "in about 9 months"),
    ("late 2026", 243, CountdownStatus.UPCOMING, "in 8–11 months"),
    ("2025-02-05", -330, CountdownStatus.PASSED, "10 months, 27 days ago"),
]


@pytest.mark.parametrize(
    ("expression", "days", "status", "human"), CASES, ids=[case[0] for case in CASES]
)
def test_countdown_as_of_new_year_2026(expression, days, status, human):
    result = countdown(parse(expression), AS_OF)
    assert (result.days_remaining, result.status, result.human) == (days, status, human)


def test_new_start_expiry_is_35_days_away_on_new_years_day():
    assert countdown(parse("2026-02-05"), AS_OF).days_remaining == 35


def test_near_window_shows_a_range_of_days():
    result = countdown(parse("first week of January 2026"), datetime(2025, 12, 20, tzinfo=UTC))
    assert result.human == "in 12–18 days"


def test_days_are_counted_in_the_items_time_zone():
    late_evening_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already 23 Nov in Geneva
    assert countdown(parse("2026-11-30"), late_evening_utc, "UTC").days_remaining == 8
    assert countdown(parse("2026-11-30"), late_evening_utc, "Europe/Zurich").days_remaining == 7


def test_a_timed_item_has_passed_once_its_hour_has():
    window = parse("2026-01-01T10:00 UTC")
    assert countdown(window, AS_OF).status is CountdownStatus.PASSED
    assert countdown(window, AS_OF - timedelta(hours=3)).status is CountdownStatus.TODAY


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4000)),
)
def test_days_remaining_never_grows_as_time_passes(as_of, later):
    window = parse("first week of October 2030")
    assert (
        countdown(window, as_of + later).days_remaining <= countdown(window, as_of).days_remaining
    )


@settings(max_examples=2000)
@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)), st.integers(0, 4000))
def test_months_and_days_are_what_relativedelta_says(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    delta = relativedelta(end, start)
    assert months_and_days(start, end) == (delta.years * 12 + delta.months, delta.days)
