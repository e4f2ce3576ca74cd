"""The date forms people write beyond a single day or period: moments with offsets, ranges,
intervals, ISO weeks, halves, seasons, deadlines that end on a day, and EDTF strings."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.dates import ACCEPTED_FORMS, LONGEST_WINDOW, Precision, parse, parse_zone, zone
from tracker.errors import InvalidInput

RECORDED = date(2026, 12, 3)

CASES = [
    ("2026-12-09T18:59:29Z", date(2026, 12, 9), date(2026, 12, 9), Precision.TIME),
    ("2026-12-09T18:59:29.25+01:00", date(2026, 12, 9), date(2026, 12, 9), Precision.TIME),
    ("2026-12-09T00:30+01:00", date(2026, 12, 8), date(2026, 12, 8), Precision.TIME),
    ("8–12 March 2027", date(2027, 3, 8), date(2027, 3, 12), Precision.RANGE),
    ("8-12 March 2027", date(2027, 3, 8), date(2027, 3, 12), Precision.RANGE),
    ("8 – 12 March 2027", date(2027, 3, 8), date(2027, 3, 12), Precision.RANGE),
    ("30 March – 3 April 2027", date(2027, 3, 30), date(2027, 4, 3), Precision.RANGE),
    ("30 March-3 April 2027", date(2027, 3, 30), date(2027, 4, 3), Precision.RANGE),
    ("28 Dec 2026 – 3 Jan 2027", date(2026, 12, 28), date(2027, 1, 3), Precision.RANGE),
    ("28 December – 3 January 2027", date(2026, 12, 28), date(2027, 1, 3), Precision.RANGE),
    ("2027-03-08/2027-03-12", date(2027, 3, 8), date(2027, 3, 12), Precision.RANGE),
    ("2027-03/2027-05", date(2027, 3, 1), date(2027, 5, 31), Precision.RANGE),
    ("2027-W10", date(2027, 3, 8), date(2027, 3, 14), Precision.WEEK),
    ("2026-W53", date(2026, 12, 28), date(2027, 1, 3), Precision.WEEK),
    ("H1 2027", date(2027, 1, 1), date(2027, 6, 30), Precision.HALF),
    ("2027-H2", date(2027, 7, 1), date(2027, 12, 31), Precision.HALF),
    ("first half of 2027", date(2027, 1, 1), date(2027, 6, 30), Precision.HALF),
    ("second half of 2027", date(2027, 7, 1), date(2027, 12, 31), Precision.HALF),
    ("spring 2027", date(2027, 3, 1), date(2027, 5, 31), Precision.SEASON),
    ("summer 2027", date(2027, 6, 1), date(2027, 8, 31), Precision.SEASON),
    ("autumn 2027", date(2027, 9, 1), date(2027, 11, 30), Precision.SEASON),
    ("fall 2027", date(2027, 9, 1), date(2027, 11, 30), Precision.SEASON),
    ("winter 2026/27", date(2026, 12, 1), date(2027, 2, 28), Precision.SEASON),
    ("winter 2027/2028", date(2027, 12, 1), date(2028, 2, 29), Precision.SEASON),
    ("early March 2027", date(2027, 3, 1), date(2027, 3, 10), Precision.RANGE),
    ("late 2027", date(2027, 9, 1), date(2027, 12, 31), Precision.RANGE),
    ("by end of 2026", RECORDED, date(2026, 12, 31), Precision.RANGE),
    ("by the end of March 2027", RECORDED, date(2027, 3, 31), Precision.RANGE),
    ("no later than 15 May 2027", RECORDED, date(2027, 5, 15), Precision.RANGE),
    ("by 2030", RECORDED, date(2030, 12, 31), Precision.RANGE),
    ("2027-03~", date(2027, 2, 1), date(2027, 4, 30), Precision.MONTH),
    ("2027~", date(2026, 1, 1), date(2028, 12, 31), Precision.YEAR),
    ("2027-03-08~", date(2027, 3, 7), date(2027, 3, 9), Precision.DAY),
    ("2027?", date(2027, 1, 1), date(2027, 12, 31), Precision.YEAR),
    ("2027-21", date(2027, 3, 1), date(2027, 5, 31), Precision.SEASON),
    ("2027-23", date(2027, 9, 1), date(2027, 11, 30), Precision.SEASON),
    ("2027-03-XX", date(2027, 3, 1), date(2027, 3, 31), Precision.MONTH),
    ("201X", date(2010, 1, 1), date(2019, 12, 31), Precision.RANGE),
]


@pytest.mark.parametrize(
    ("expression", "earliest", "latest", "precision"), CASES, ids=[case[0] for case in CASES]
)
def test_expression_parses_to_its_window(expression, earliest, latest, precision):
    window = parse(expression, recorded_on=RECORDED)
    assert (window.earliest, window.latest, window.precision) == (earliest, latest, precision)


@pytest.mark.parametrize("expression", [case[0] for case in CASES])
def test_printed_window_parses_back_to_the_same_window(expression):
    window = parse(expression, recorded_on=RECORDED)
    again = parse(str(window))  # no recorded day: the printed form does not need one
    assert again == window
    assert again.latest - again.earliest <= LONGEST_WINDOW


@pytest.mark.parametrize(
    ("expression", "printed"),
    [
        ("8-12 March 2027", "8–12 March 2027"),
        ("2027-03-08/2027-03-12", "8–12 March 2027"),
        ("28 Dec 2026 – 3 Jan 2027", "28 December 2026 – 3 January 2027"),
        ("H1 2027", "first half of 2027"),
        ("fall 2027", "autumn 2027"),
        ("winter 2027/2028", "winter 2027/28"),
        ("by the end of March 2027", "3 December 2026 – 31 March 2027"),
        ("2026-12-09T18:59:29.25+0100", "2026-12-09T18:59:29.250000+01:00"),
        ("2026-12-09T18:59:29Z", "2026-12-09T18:59:29 UTC"),
    ],
)
def test_a_window_prints_as_a_person_writes_it(expression, printed):
    assert str(parse(expression, recorded_on=RECORDED)) == printed


def test_a_moment_with_an_offset_is_kept_in_utc():
    window = parse("2026-12-09T00:30+01:00")
    assert window.start("Europe/Zurich") == datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    assert window.at == time(23, 30) and window.tz == "UTC"


def test_uncertain_keeps_the_window_and_says_so():
    sure, unsure = parse("2027"), parse("2027?")
    assert (unsure.earliest, unsure.latest) == (sure.earliest, sure.latest)
    assert unsure.uncertain and not sure.uncertain
    assert parse("2027-03-08%").uncertain  # % is uncertain and approximate


def test_every_example_in_the_accepted_forms_parses():
    examples = ACCEPTED_FORMS.replace("EDTF ", "").split(", ")
    for example in examples[-1].split() + examples[:-1]:
        parse(example, recorded_on=RECORDED)


REFUSED = [
    ("winter 2027", "winter 2026/27 or winter 2027/28"),
    ("2027-24", "winter 2026/27 or winter 2027/28"),
    ("winter 2026/28", "two consecutive years"),
    ("2027-03-28T02:30 Europe/Berlin", "does not exist in Europe/Berlin"),
    ("2026-10-25T02:30 Europe/Berlin", "2026-10-25T02:30+02:00 or 2026-10-25T02:30+01:00"),
    ("2026-02-05T10:00 localtime", "unknown time zone 'localtime'"),
    ("2026-02-05T10:00 Factory", "unknown time zone 'Factory'"),
    ("2026-02-05T10:00 posixrules", "unknown time zone"),
    ("2026-02-05T10:00 posix/Europe/Berlin", "unknown time zone"),
    ("2026-02-05T10:00 right/UTC", "unknown time zone"),
    ("2026-02-05T10:00+25:00", "not a UTC offset"),
    ("by end of 2026", "opens on the day it is recorded"),
    ("12-8 March 2027", "ends before it starts"),
    ("30 February – 3 March 2027", "day is out of range"),
    ("2027-01-01/2037-01-01", "more than ten years"),
    ("2027-03-08/..", "needs both ends"),
    ("2027-03-08/", "needs both ends"),
    ("2027-03-08T10:00Z/2027-03-09", "give its ends as days"),
    ("2027-W54", "invalid date"),
    ("2027-13", "cannot read EDTF date"),
    ("2027-25", "not one of 21–23"),
    ("201X~", "more than ten years"),
    ("19XX", "more than ten years"),
    ("1799~", "outside 1800–2200"),
]


@pytest.mark.parametrize(("expression", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_expression_says_why_in_one_line(expression, reason):
    with pytest.raises(InvalidInput, match=None) as caught:
        parse(expression)
    message = str(caught.value)
    assert reason in message and "\n" not in message


def test_a_deadline_that_ended_before_it_was_recorded_is_refused():
    with pytest.raises(InvalidInput, match="ended before 2026-12-03"):
        parse("by end of 2025", recorded_on=RECORDED)


@pytest.mark.parametrize(
    "name", ["localtime", "Factory", "posixrules", "posix/Europe/Berlin", "right/UTC", "EST5EDT"]
)
def test_non_geographic_zone_names_are_refused(name):
    with pytest.raises(InvalidInput, match="unknown time zone"):
        zone(name)
    with pytest.raises(InvalidInput, match="unknown time zone"):
        parse_zone(name)


@pytest.mark.parametrize("name", ["UTC", "Europe/Geneva", "Europe/Zurich", "Etc/GMT+3"])
def test_iana_places_utc_and_aliases_are_accepted(name):
    assert parse_zone(name) == name


DAYS = st.dates(min_value=date(1800, 1, 1), max_value=date(2190, 12, 31))


@given(DAYS, st.integers(min_value=0, max_value=LONGEST_WINDOW.days))
def test_any_day_range_round_trips(first, length):
    last = first + timedelta(days=length)
    for written in (f"{first.isoformat()}/{last.isoformat()}", str(parse(f"{first}/{last}"))):
        window = parse(written)
        assert (window.earliest, window.latest) == (first, last)
        assert parse(str(window)) == window


@given(DAYS, st.integers(min_value=0, max_value=40))
def test_named_day_ranges_round_trip(first, length):
    last = first + timedelta(days=length)
    written = f"{first.day} {first:%b} {first.year} - {last.day} {last:%b} {last.year}"
    window = parse(written)
    assert (window.earliest, window.latest) == (first, last)
    assert parse(str(window)) == window


@given(DAYS)
def test_every_iso_week_round_trips(day):
    year, week, _ = day.isocalendar()
    window = parse(f"{year}-W{week:02d}")
    assert window.earliest <= day <= window.latest
    assert parse(str(window)) == window


@given(st.integers(min_value=1801, max_value=2199), st.sampled_from(["H1", "H2"]))
def test_every_half_and_season_round_trips(year, half):
    for written in (f"{half} {year}", f"spring {year}", f"winter {year}/{year + 1}"):
        window = parse(written)
        assert parse(str(window)) == window


@given(
    st.datetimes(min_value=datetime(1801, 1, 1), max_value=datetime(2199, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_every_moment_with_an_offset_round_trips(moment, minutes):
    offset = timezone(timedelta(minutes=minutes))
    written = moment.replace(tzinfo=offset).isoformat()
    window = parse(written)
    assert window.start("UTC") == moment.replace(tzinfo=offset)
    assert parse(str(window)) == window


@given(DAYS, st.integers(min_value=0, max_value=9 * 365))
def test_a_deadline_window_opens_when_recorded_and_round_trips(recorded, ahead):
    end = recorded + timedelta(days=ahead)
    window = parse(f"no later than {end.day} {end:%B %Y}", recorded_on=recorded)
    assert (window.earliest, window.latest) == (recorded, end)
    assert parse(str(window)) == window


@given(st.integers(min_value=1801, max_value=2199), st.integers(min_value=1, max_value=12))
def test_approximate_month_widens_a_month_each_side_and_round_trips(year, month):
    window = parse(f"{year}-{month:02d}~")
    exact = parse(f"{year}-{month:02d}")
    assert window.earliest < exact.earliest and window.latest > exact.latest
    assert (window.earliest.day, (window.latest + timedelta(days=1)).day) == (1, 1)
    assert parse(str(window)) == window


@given(st.text(alphabet="0123456789X-/~?% WHQ", max_size=24))
def test_no_window_is_longer_than_the_longest(text):
    try:
        window = parse(text, recorded_on=RECORDED)
    except InvalidInput:
        return
    assert timedelta(0) <= window.latest - window.earliest <= LONGEST_WINDOW


def test_an_edit_opens_a_by_deadline_on_its_own_day():
    from tracker.catalog.editing import DeadlineFields

    fields = DeadlineFields.parse(recorded_on=RECORDED, title="X", due="by end of 2026")
    due = fields.values()["due"]
    assert (due.earliest, due.latest, due.precision) == (RECORDED, date(2026, 12, 31), "range")
