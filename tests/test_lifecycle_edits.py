"""Editing dates and states as they are (issue 13, items 1, 3, 4): dates to be announced,
a confidence lowered by an uncertain date, transitions refused when the dates rule them out,
a range of days as a meeting's span, and a recurring series that keeps its end."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker.catalog import editing, history
from tracker.catalog.models import Change
from tracker.errors import ImpossibleChange, InvalidInput

from .conftest import CURRENT_TIME
from .factories import make_deadline, make_meeting
from .process import tracker


def changed(changes: list[Change]) -> set[tuple[str, str | None, str | None]]:
    return {(c.field, c.old, c.new) for c in changes}


def change_count(session) -> int:
    return int(session.scalar(select(func.count()).select_from(Change)))


def edit_meeting(session, slug: str, now=CURRENT_TIME, **values: str):
    return editing.edit(session, slug, editing.MeetingFields.parse(**values), now=now)


def edit_deadline(session, slug: str, now=CURRENT_TIME, **values: str):
    return editing.edit(session, slug, editing.DeadlineFields.parse(**values), now=now)


# Dates to be announced


@pytest.mark.parametrize("written", ["TBA", "tbd", "To Be Announced", " to  be announced "])
def test_a_deadline_to_be_announced_stores_no_date(session, written):
    deadline = make_deadline(session, due=written, slug="undated")
    assert deadline.due is None and deadline.due_text is None
    assert [c.new for c in history.history(session, deadline)] == ["TBA"]


def test_moving_a_date_to_tba_records_the_old_date(session):
    make_deadline(session, due="2027-03-08", slug="moved")
    _, changes = edit_deadline(session, "moved", due="TBA")
    assert changed(changes) == {("due", "2027-03-08", "TBA")}
    _, again = edit_deadline(session, "moved", due="tba")
    assert again == []  # TBA to TBA changes nothing


def test_a_meeting_to_be_announced_has_no_end(session):
    make_meeting(session, starts="2027-03-08", ends="2027-03-12", slug="talks")
    meeting, changes = edit_meeting(session, "talks", starts="TBA")
    assert meeting.starts is None and meeting.ends is None
    assert changed(changes) >= {("starts", "2027-03-08", "TBA"), ("ends", "2027-03-12", None)}
    with pytest.raises(InvalidInput, match="to be announced has no --ends"):
        make_meeting(session, starts="TBA", ends="2027-03-12")


def test_a_repeating_meeting_needs_a_date_to_repeat_from(session):
    with pytest.raises(InvalidInput, match="repeating meeting needs --starts"):
        make_meeting(session, starts="TBA", repeat="FREQ=MONTHLY")


# Confidence


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "expected"),
        ("confirmed", "announced"),
        ("expected", "reported"),
        ("reported", "reported"),
    ],
)
def test_an_uncertain_date_lowers_the_confidence_one_step(session, given, expected):
    options = {"confidence": given} if given else {}
    fields = editing.DeadlineFields.parse(title="Review", due="2027?", **options)
    assert fields.said and expected in fields.said[0]
    assert editing.add(session, fields, now=CURRENT_TIME).confidence == expected


def test_a_certain_date_keeps_the_confidence_given_and_changes_are_history(session):
    deadline = make_deadline(session, due="2027-03-08", confidence="confirmed", slug="c")
    assert deadline.confidence == "confirmed"
    _, changes = edit_deadline(session, "c", confidence="reported")
    assert changed(changes) == {("confidence", "confirmed", "reported")}
    with pytest.raises(InvalidInput, match="unknown confidence"):
        edit_deadline(session, "c", confidence="sure")


# Transitions


@pytest.mark.parametrize("status", ["held", "unconfirmed"])
def test_a_meeting_cannot_be_held_before_it_starts(session, status):
    meeting = make_meeting(session, starts="2027-03-08", slug="future")
    before = change_count(session)
    with pytest.raises(ImpossibleChange, match=f"cannot be {status} before it starts"):
        edit_meeting(session, "future", status=status)
    assert meeting.status == "scheduled" and change_count(session) == before


def test_a_meeting_held_is_held_on_its_last_day_unless_told(session):
    make_meeting(session, starts="2026-11-16", ends="2026-11-18", slug="past")
    meeting, changes = edit_meeting(session, "past", status="held")
    assert meeting.status_on == date(2026, 11, 18)
    assert ("status", "scheduled", "held") in changed(changes)
    with pytest.raises(ImpossibleChange, match="before it starts"):
        edit_meeting(session, "past", status_on="2026-11-10")
    assert edit_meeting(session, "past", status_on="2026-11-17")[0].status_on == date(2026, 11, 17)


def test_a_deadline_is_missed_only_once_its_window_closes(session):
    make_deadline(session, due="Q4 2026", slug="window")
    with pytest.raises(ImpossibleChange, match="before its window closes"):
        edit_deadline(session, "window", status="missed")
    later = CURRENT_TIME + timedelta(days=60)
    assert edit_deadline(session, "window", now=later, status="missed")[0].status == "missed"


def test_a_deadline_can_be_met_early_on_a_day_given_or_today(session):
    make_deadline(session, due="2027-05-15", slug="early")
    deadline, _ = edit_deadline(session, "early", status="met")
    assert deadline.status_on == CURRENT_TIME.date()
    deadline, changes = edit_deadline(session, "early", status_on="2026-11-01")
    assert changed(changes) == {("status_on", "2026-11-22", "2026-11-01")}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"status": "met", "status_on": "2026-12-01"}, "after today"),
        ({"status_on": "2026-11-01"}, "a pending deadline has none"),
        ({"status": "open"}, "follows from the dates.*record one of pending, met"),
        ({"status": "met", "status_on": "spring 2026"}, "must be a day"),
    ],
)
def test_impossible_status_days_are_refused(session, values, message):
    make_deadline(session, due="2027-05-15", slug="d")
    with pytest.raises(InvalidInput, match=message):
        edit_deadline(session, "d", **values)


def test_derived_meeting_states_cannot_be_recorded(session):
    make_meeting(session, slug="m")
    with pytest.raises(InvalidInput, match="record one of scheduled, held, postponed"):
        edit_meeting(session, "m", status="in-session")


def test_a_postponement_takes_a_new_date_or_tba_and_keeps_the_old_one_in_history(session):
    make_meeting(session, starts="2027-03-08", slug="later")
    with pytest.raises(InvalidInput, match="give --starts DATE or TBA"):
        edit_meeting(session, "later", status="postponed")
    with pytest.raises(InvalidInput, match="already starts 2027-03-08"):
        edit_meeting(session, "later", status="postponed", starts="8 March 2027")
    meeting, changes = edit_meeting(session, "later", status="postponed", starts="TBA")
    assert ("starts", "2027-03-08", "TBA") in changed(changes)
    assert meeting.status == "postponed"
    _, dated = edit_meeting(session, "later", starts="2027-06-01")
    assert changed(dated) == {("starts", "TBA", "2027-06-01")}


# A range of days


@pytest.mark.parametrize(
    ("written", "first", "last"),
    [
        ("8–12 March 2027", "2027-03-08", "2027-03-12"),
        ("8-12 March 2027", "2027-03-08", "2027-03-12"),
        ("30 March – 3 April 2027", "2027-03-30", "2027-04-03"),
        ("2027-03-08/2027-03-12", "2027-03-08", "2027-03-12"),
    ],
)
def test_a_range_of_days_is_a_meetings_span(session, written, first, last):
    meeting = make_meeting(session, starts=written)
    assert (meeting.starts_text, meeting.starts_precision) == (first, "day")
    assert meeting.ends_text == last


@pytest.mark.parametrize("written", ["early March 2027", "end of September 2021", "Q2 2027"])
def test_a_part_of_a_month_stays_a_window_of_the_start(session, written):
    meeting = make_meeting(session, starts=written)
    assert meeting.starts_text == written and meeting.ends is None


def test_a_range_with_ends_given_or_for_a_deadline_stays_a_window(session):
    meeting = make_meeting(session, starts="8–10 March 2027", ends="2027-03-12")
    assert (meeting.starts_text, meeting.ends_text) == ("8–10 March 2027", "2027-03-12")
    assert make_deadline(session, due="8–12 March 2027").due_text == "8–12 March 2027"


def test_editing_to_a_range_records_the_first_and_last_day(session):
    make_meeting(session, starts="Q1 2027", slug="span")
    _, changes = edit_meeting(session, "span", starts="8–12 March 2027")
    assert changed(changes) == {("starts", "Q1 2027", "2027-03-08"), ("ends", None, "2027-03-12")}


# Recurring series


@pytest.mark.parametrize(
    "rule", ["FREQ=MONTHLY;BYDAY=1TU;UNTIL=20281231", "FREQ=WEEKLY;BYDAY=TU;COUNT=12"]
)
def test_a_recurring_series_keeps_its_end(session, rule):
    meeting = make_meeting(session, starts="2027-01-05", repeat=rule.lower())
    assert meeting.recurrence == rule


def test_a_series_ends_one_way_only(session):
    with pytest.raises(InvalidInput, match="COUNT or by UNTIL, not both"):
        make_meeting(session, starts="2027-01-05", repeat="FREQ=MONTHLY;COUNT=3;UNTIL=20281231")


# Through the CLI


def test_marking_a_future_meeting_held_fails_and_changes_nothing(home: Path):
    as_of = ("--as-of", "2026-11-22T09:00Z")
    add = ("meeting", "add", "Talks", "--starts", "8–12 March 2027", "--slug", "fixture-talks")
    added = tracker(home, *as_of, *add)
    assert added.returncode == 0, added.stderr
    assert "starting 2027-03-08, ending 2027-03-12" in added.stdout
    before = tracker(home, *as_of, "meeting", "show", "fixture-talks", "--json").stdout
    refused = tracker(home, *as_of, "meeting", "edit", "fixture-talks", "--status", "held")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "before it starts" in refused.stderr
    after = tracker(home, *as_of, "meeting", "show", "fixture-talks", "--json").stdout
    assert json.loads(after) == json.loads(before)
    shown = json.loads(after)
    assert (shown["earliest"], shown["ends"]["latest"]) == ("2027-03-08", "2027-03-12")
