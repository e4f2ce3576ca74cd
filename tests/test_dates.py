from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.dates import ACCEPTED_FORMS, Precision, parse, parse_durations
from tracker.errors import InvalidInput

CASES = [
    ("2026-02-05", date(2026, 2, 5), date(2026, 2, 5), Precision.DAY),
    ("5 February 2026", date(2026, 2, 5), date(2026, 2, 5), Precision.DAY),
    ("February 5, 2026", date(2026, 2, 5), date(2026, 2, 5), Precision.DAY),
    ("Wednesday 28 July 2021", date(2021, 7, 28), date(2021, 7, 28), Precision.DAY),
    ("2026-02-05T10:00 Europe/Geneva", date(2026, 2, 5), date(2026, 2, 5), Precision.TIME),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), Precision.MONTH),
    ("February 2026", date(2026, 2, 1), date(2026, 2, 28), Precision.MONTH),
    ("Q2 2023", date(2023, 4, 1), date(2023, 6, 30), Precision.QUARTER),
    ("2027", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("first week of October 2023", date(2023, 10, 1), date(2023, 10, 7), Precision.WEEK),
    ("last week of February 2024", date(2024, 2, 23), date(2024, 2, 29), Precision.WEEK),
    ("end of September 2021", date(2021, 9, 21), date(2021, 9, 30), Precision.RANGE),
    ("mid-June 2021", date(2021, 6, 11), date(2021, 6, 20), Precision.RANGE),
    ("early March 2027", date(2027, 3, 1), date(2027, 3, 10), Precision.RANGE),
    ("late 2026", date(2026, 9, 1), date(2026, 12, 31), Precision.RANGE),
]


@pytest.mark.parametrize(
    ("expression", "earliest", "latest", "precision"), CASES, ids=[case[0] for case in CASES]
)
def test_expression_parses_to_its_window(expression, earliest, latest, precision):
    window = parse(expression)
    assert (window.earliest, window.latest, window.precision) == (earliest, latest, precision)


@pytest.mark.parametrize("expression", [case[0] for case in CASES])
def test_canonical_text_parses_back_to_the_same_window(expression):
    window = parse(expression)
    assert parse(str(window)) == window


def test_time_expression_keeps_its_hour_and_zone():
    window = parse("2026-02-05T10:00 Europe/Geneva")
    assert window.at == time(10, 0)
    assert window.start("UTC").isoformat() == "2026-02-05T10:00:00+01:00"


BAD = [
    "31 February 2027",
    "",
    "   ",
    "Q5 2020",
    "0000",
    "10000",
    "2026-13-01",
    "2026-02-05T25:00",
    "2026-02-05T10:00 Mars/Olympus",
    "Smarch 2020",
    "x" * 10_000,
    "next Tuesday",
]


@pytest.mark.parametrize("expression", BAD, ids=[repr(b[:20]) for b in BAD])
def test_bad_expression_is_refused_with_one_line(expression):
    with pytest.raises(InvalidInput) as caught:
        parse(expression)
    assert "\n" not in str(caught.value)


def test_unreadable_expression_error_lists_the_accepted_forms():
    with pytest.raises(InvalidInput, match="expected one of") as caught:
        parse("sometime soon")
    assert ACCEPTED_FORMS in str(caught.value)


@given(st.text(max_size=60))
def test_parser_raises_nothing_but_its_own_error(text):
    try:
        window = parse(text)
    except InvalidInput:
        return
    assert window.earliest <= window.latest


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)))
def test_every_day_round_trips(day):
    assert parse(day.isoformat()).earliest == day
    assert parse(f"{day.day} {day:%B %Y}").earliest == day


def test_lead_times_sort_longest_first_without_repeats():
    assert [d.days for d in parse_durations("7d,90d,30d,7d,1w")] == [90, 30, 7]
