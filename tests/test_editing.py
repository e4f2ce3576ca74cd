from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tracker.catalog import editing, history, queries
from tracker.catalog.models import Change, Deadline, stable_uid
from tracker.errors import InvalidInput, NotFound

from .factories import make_deadline, make_meeting, make_treaty


def test_moving_a_deadline_records_the_change_and_bumps_the_sequence(session, now):
    make_treaty(session)
    deadline = make_deadline(session, due="Q3 2027", treaty="new-start")
    later = now + timedelta(days=2)
    _, changes = editing.edit(
        session, deadline.slug, editing.DeadlineFields.parse(due="2027-08-01"), now=later
    )
    assert [(c.field, c.old, c.new) for c in changes] == [("due", "Q3 2027", "2027-08-01")]
    assert (deadline.sequence, deadline.updated_at) == (1, later)
    assert deadline.uid == stable_uid("deadline", deadline.slug)


def test_an_edit_that_changes_nothing_records_nothing(session, now):
    deadline = make_deadline(session, due="2027-01-01")
    _, changes = editing.edit(
        session, deadline.slug, editing.DeadlineFields.parse(due="1 January 2027"), now=now
    )
    assert changes == [] and deadline.sequence == 0


def test_postponing_a_meeting_is_history(session, now):
    meeting = make_meeting(session, starts="end of September 2021")
    _, changes = editing.edit(
        session,
        meeting.slug,
        editing.MeetingFields.parse(starts="2021-09-30", status="held"),
        now=now,
    )
    assert {(c.field, c.old, c.new) for c in changes} == {
        ("starts", "end of September 2021", "2021-09-30"),
        ("status", "scheduled", "held"),
        ("status_on", None, "2021-09-30"),  # held on its day, not the day it was recorded
    }


def test_removed_deadline_keeps_its_history(session, now):
    deadline = make_deadline(session, slug="gone")
    editing.remove(session, deadline, now=now)
    session.flush()
    fields = session.scalars(select(Change.field).where(Change.subject_slug == "gone")).all()
    assert fields == ["created", "removed"]
    with pytest.raises(NotFound):
        queries.deadline(session, "gone")


def test_slugs_are_derived_from_titles_and_kept_unique(session):
    assert make_deadline(session, "Договор СНВ-III: review!").slug == "iii-review"
    assert make_deadline(session, "New START expires").slug == "new-start-expires"
    assert make_deadline(session, "New START expires").slug == "new-start-expires-2"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"title": "two\r\nlines"}, "line break"),
        ({"title": "x" * 501}, "longer than 500"),
        ({"kind": "party"}, "unknown deadline kind"),
        ({"alert": "soon"}, "cannot read duration"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"note": "bad\x00byte"}, "control character"),
    ],
)
def test_bad_fields_are_refused_before_anything_changes(session, values, message):
    with pytest.raises(InvalidInput, match=message):
        make_deadline(session, **values)
    assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_recurring_meeting_must_not_recur_more_than_daily(session):
    with pytest.raises(InvalidInput, match="more often than daily"):
        make_meeting(session, repeat="FREQ=HOURLY")


def test_meeting_cannot_end_before_it_starts(session):
    with pytest.raises(InvalidInput, match="ends"):
        make_meeting(session, starts="2026-11-30", ends="2026-11-01")


def test_history_lists_changes_in_order(session, now):
    deadline = make_deadline(session, due="2027")
    for step, due in enumerate(["Q2 2027", "June 2027", "2027-06-15"], start=1):
        editing.edit(
            session,
            deadline.slug,
            editing.DeadlineFields.parse(due=due),
            now=now + timedelta(days=step),
        )
    assert [c.new for c in history.history(session, deadline)][1:] == [
        "Q2 2027",
        "June 2027",
        "2027-06-15",
    ]
