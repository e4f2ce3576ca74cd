from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tracker.dates import TBA, parse
from tracker.views.countdown import countdown
from tracker.views.items import Item
from tracker.views.wording import (
    confidence_phrase,
    expected_phrase,
    item_phrase,
    source_phrase,
    status_phrase,
    when_phrase,
)


@pytest.mark.parametrize(
    ("expression", "phrase"),
    [
        ("first week of October 2023", "expected in the first week of October 2023"),
        ("2027-W10", "expected in week 2027-W10"),
        ("end of September 2021", "expected at the end of September 2021"),
        ("Q3 2027", "expected in Q3 2027"),
    ],
)
def test_an_imprecise_date_reads_as_a_person_would_say_it(expression: str, phrase: str) -> None:
    assert expected_phrase(parse(expression)) == phrase


# Words for states, confidence, sources and dates, as every reader shows them.

AS_OF = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("in-session", "in session"),
        ("awaiting-outcome", "awaiting outcome"),
        ("open", "open (its window is running)"),
        ("unconfirmed", "unconfirmed (no source shows it took place)"),
        ("postponed", "postponed"),
        ("held", "held"),
    ],
)
def test_a_lifecycle_state_reads_in_words(status: str, words: str) -> None:
    assert status_phrase(status) == words


@pytest.mark.parametrize(
    ("confidence", "words"),
    [
        ("confirmed", "confirmed — official calendar or notice"),
        ("announced", "announced — reported by the parties"),
        ("expected", "expected — by treaty schedule or pattern"),
        ("reported", "reported — a single secondary source"),
    ],
)
def test_a_confidence_says_what_it_rests_on(confidence: str, words: str) -> None:
    assert confidence_phrase(confidence) == words


def test_a_source_is_said_with_its_grade_and_caveat() -> None:
    source = {"title": "News", "publisher": "WNN", "grade": "unverified", "caveat": "not WNN"}
    assert source_phrase(source) == "News, WNN [unverified] — caveat: not WNN"
    assert source_phrase({"title": "Calendar", "grade": "primary"}) == (
        "Calendar [primary (official)]"
    )


@pytest.mark.parametrize(
    ("expression", "as_of", "phrase"),
    [
        ("2027", datetime(2024, 12, 1, tzinfo=UTC), "expected in 2027"),
        ("2026-12-12", datetime(2026, 11, 22, tzinfo=UTC), "in 20 days (2026-12-12)"),
    ],
)
def test_when_is_said_no_more_precisely_than_the_date(
    expression: str, as_of: datetime, phrase: str
) -> None:
    said = when_phrase(parse(expression), "UTC", as_of)
    assert said == phrase
    assert "its start" not in said


def test_a_date_known_to_the_year_is_said_with_the_countdowns_own_words() -> None:
    as_of = datetime(2026, 12, 2, tzinfo=UTC)
    said = when_phrase(parse("2027"), "UTC", as_of)
    human = countdown(parse("2027"), as_of, "UTC").human
    assert said == f"expected in 2027 ({human})"  # never "its start is in 30 days"


def test_a_date_to_be_announced_is_said_so() -> None:
    assert when_phrase(TBA, "UTC", AS_OF) == "date to be announced"


def test_an_item_is_said_with_its_state_and_confidence_as_of_an_instant() -> None:
    meeting = Item(
        "meeting",
        "revcon",
        "Review Conference",
        "review-conference",
        parse("2026-11-30"),
        "America/New_York",
        "scheduled",
        datetime(2026, 11, 1, tzinfo=UTC),
        confidence="confirmed",
        ends=parse("2026-12-04"),
    )
    assert item_phrase(meeting, AS_OF) == (
        "now, ends in 2 days (2026-11-30); in session; confirmed — official calendar or notice"
    )
    assert "; scheduled; " in item_phrase(meeting)  # as of its own instant, a month before


def test_a_status_reached_later_is_not_yet_the_state_before_that_day() -> None:
    before = datetime(2026, 12, 1, 12, tzinfo=UTC)
    met = Item(
        "deadline", "d", "Ratify", "ratification", parse("2027"), "UTC", "met", before,
        status_on=date(2026, 12, 5),
    )  # fmt: skip
    assert met.status == "pending"
    assert replace(met, as_of=datetime(2026, 12, 6, tzinfo=UTC)).status == "met"
