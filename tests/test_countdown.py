import re
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.dates import TBA, DateWindow, Precision, parse
from tracker.views.countdown import CountdownStatus, countdown, months_and_days

AS_OF = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

CASES = [
    ("2026-02-05", (35, 35, 35), CountdownStatus.UPCOMING, "in 1 month, 4 days"),
    ("2026-01-01", (0, 0, 0), CountdownStatus.TODAY, "today"),
    ("2025-12-29", (-3, -3, -3), CountdownStatus.PASSED, "3 days ago"),
    ("2026-01-11", (10, 10, 10), CountdownStatus.UPCOMING, "in 10 days"),
    ("Q1 2026", (0, 89, None), CountdownStatus.TODAY, "within the next 3 months"),
    ("first week of January 2026", (0, 6, None), CountdownStatus.TODAY, "within the next 6 days"),
    ("January 2026", (0, 30, None), CountdownStatus.TODAY, "within the next 5 weeks"),
    ("first week of October 2026", (273, 279, None), CountdownStatus.UPCOMING, "in about 9 months"),
    ("late 2026", (243, 364, None), CountdownStatus.UPCOMING, "in 8–11 months"),
    ("spring 2026", (59, 150, None), CountdownStatus.UPCOMING, "in 2–4 months"),
    ("2027", (365, 729, None), CountdownStatus.UPCOMING, "in 12–23 months"),
    ("2030", (1461, 1825, None), CountdownStatus.UPCOMING, "in 2030"),
    ("2030-W10", (1523, 1529, None), CountdownStatus.UPCOMING, "in about 4 years"),
    ("H2 2028", (912, 1095, None), CountdownStatus.UPCOMING, "in about 3 years"),
    ("2025", (-365, -1, None), CountdownStatus.PASSED, "in 2025"),
    ("late November 2025", (-41, -32, None), CountdownStatus.PASSED, "32–41 days ago"),
    ("Q2 2025", (-275, -185, None), CountdownStatus.PASSED, "6–9 months ago"),
    ("2025-02-05", (-330, -330, -330), CountdownStatus.PASSED, "10 months, 27 days ago"),
]


@pytest.mark.parametrize(
    ("expression", "days", "status", "human"), CASES, ids=[case[0] for case in CASES]
)
def test_countdown_as_of_new_year_2026(expression, days, status, human):
    result = countdown(parse(expression), AS_OF)
    counted = (result.days_min, result.days_max, result.days_remaining)
    assert (counted, result.status, result.human) == (days, status, human)


def test_new_start_expiry_is_35_days_away_on_new_years_day():
    assert countdown(parse("2026-02-05"), AS_OF).days_remaining == 35


def test_near_window_shows_a_range_of_days():
    result = countdown(parse("first week of January 2026"), datetime(2025, 12, 20, tzinfo=UTC))
    assert result.human == "in 12–18 days"


def test_a_window_starting_within_a_month_and_ending_later_names_both_units():
    result = countdown(parse("Q1 2026"), datetime(2025, 12, 10, tzinfo=UTC))
    assert result.human == "in 22 days – 3 months"


def test_one_month_at_the_far_end_is_singular():
    result = countdown(parse("January 2027"), datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert result.human == "in 30 days – 1 month"


def test_a_date_to_be_announced_has_no_days():
    result = countdown(TBA, AS_OF)
    assert (result.days_min, result.days_max, result.days_remaining) == (None, None, None)
    assert (result.status, result.human) == (CountdownStatus.UPCOMING, "date to be announced")


def test_days_are_counted_in_the_items_time_zone():
    late_evening_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already 23 Nov in Geneva
    assert countdown(parse("2026-11-30"), late_evening_utc, "UTC").days_remaining == 8
    assert countdown(parse("2026-11-30"), late_evening_utc, "Europe/Zurich").days_remaining == 7


def test_a_timed_item_has_passed_once_its_hour_has():
    window = parse("2026-01-01T10:00 UTC")
    assert countdown(window, AS_OF).status is CountdownStatus.PASSED
    assert countdown(window, AS_OF).human == "earlier today"
    assert countdown(window, AS_OF - timedelta(hours=3)).status is CountdownStatus.TODAY


MEETING = [
    (datetime(2026, 11, 29, 12, tzinfo=UTC), (1, 5), CountdownStatus.UPCOMING, "in 1 day"),
    (datetime(2026, 11, 30, 12, tzinfo=UTC), (0, 4), CountdownStatus.TODAY, "now, ends in 4 days"),
    (datetime(2026, 12, 4, 12, tzinfo=UTC), (-4, 0), CountdownStatus.TODAY, "now, ends today"),
    (datetime(2026, 12, 6, 12, tzinfo=UTC), (-6, -2), CountdownStatus.PASSED, "2 days ago"),
]


@pytest.mark.parametrize(("as_of", "days", "status", "human"), MEETING, ids=str)
def test_a_meeting_counts_to_its_start_and_is_today_until_its_last_day(as_of, days, status, human):
    result = countdown(parse("2026-11-30"), as_of, "UTC", last=date(2026, 12, 4))
    assert ((result.days_min, result.days_max), result.status, result.human) == (
        days,
        status,
        human,
    )


def test_a_timed_meeting_that_has_begun_is_running_not_earlier_today():
    result = countdown(
        parse("2026-11-30T10:00 UTC"),
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        last=date(2026, 12, 1),
    )
    assert (result.status, result.human) == (CountdownStatus.TODAY, "now, ends in 1 day")


WIDE = [p for p in Precision if p not in (Precision.TIME, Precision.DAY, Precision.TBA)]
# What only a date known to the day may say: one count of days (or of months and days).
SINGLE_DAY_COUNT = re.compile(
    r"^(today|earlier today|(in )?\d+ (day|month|year)s?(, \d+ \w+)?( ago)?)$"
)


@settings(max_examples=500)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(1, 3000),
    st.sampled_from(WIDE),
    st.datetimes(
        min_value=datetime(1890, 1, 1), max_value=datetime(2110, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_wider_window_never_claims_a_single_day_count(first, span, precision, as_of):
    window = DateWindow("w", first, first + timedelta(days=span), precision)
    result = countdown(window, as_of)
    assert result.days_remaining is None
    assert result.days_min is not None and result.days_max is not None
    assert result.days_max - result.days_min == span
    assert not SINGLE_DAY_COUNT.match(result.human), result.human
    assert "None" not in result.human


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(0, 3000),
    st.sampled_from(list(Precision)),
    st.datetimes(
        min_value=datetime(1890, 1, 1), max_value=datetime(2110, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_status_follows_the_windows_days(first, span, precision, as_of):
    window = DateWindow("w", first, first + timedelta(days=span), precision)
    if precision in (Precision.TIME, Precision.DAY, Precision.TBA):
        window = TBA if precision is Precision.TBA else DateWindow("w", first, first, precision)
    result = countdown(window, as_of)
    if window.is_tba:
        assert result.status is CountdownStatus.UPCOMING and result.days_min is None
    elif result.days_min is not None and result.days_min > 0:
        assert result.status is CountdownStatus.UPCOMING
    elif result.days_max is not None and result.days_max < 0:
        assert result.status is CountdownStatus.PASSED
    else:
        assert result.status in (CountdownStatus.TODAY, CountdownStatus.PASSED)
        assert result.status is CountdownStatus.TODAY or precision is Precision.TIME


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4000)),
)
def test_days_to_go_never_grow_as_time_passes(as_of, later):
    for window in (parse("first week of October 2030"), parse("2030-10-01")):
        before, after = countdown(window, as_of), countdown(window, as_of + later)
        assert after.days_min <= before.days_min and after.days_max <= before.days_max


@settings(max_examples=2000)
@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)), st.integers(0, 4000))
def test_months_and_days_are_what_relativedelta_says(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    delta = relativedelta(end, start)
    assert months_and_days(start, end) == (delta.years * 12 + delta.months, delta.days)
