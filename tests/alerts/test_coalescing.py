"""One message per change: edits to one item close together become one change notice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline, make_meeting
from tracker import plan
from tracker.catalog import editing
from tracker.catalog.models import Meeting
from tracker.db import transaction
from tracker.notifiers.base import Message
from tracker.outbox.change_notices import DEFAULT_WINDOW, record_changes
from tracker.outbox.models import Notice
from tracker.outbox.notices import Channels
from tracker.settings import Settings

from .helpers import RecordingNotifier, add_subscriber, make_worker

WINDOW = timedelta(minutes=2)
SLUG = "ssd-plenary"


@pytest.fixture
def start(session_factory: sessionmaker[Session], now: datetime) -> datetime:
    """A meeting in Geneva, 4–8 May 2027, and an immediate subscriber; edits come later."""
    with transaction(session_factory) as session:
        make_meeting(
            session, "SSD plenary", starts="2027-05-04", ends="2027-05-08", slug=SLUG, now=now
        )
        session.flush()
        editing.edit(session, SLUG, editing.MeetingFields.parse(location="Geneva"), now=now)
        add_subscriber(session, now=now)
    return now + timedelta(hours=1)


def edit(factory: sessionmaker[Session], at: datetime, **values: str) -> None:
    with transaction(factory) as session:
        editing.edit(session, SLUG, editing.MeetingFields.parse(**values), now=at)


def changes_sent(
    factory: sessionmaker[Session], at: datetime, email: RecordingNotifier
) -> list[Message]:
    """Tick at ``at``; every change message sent so far."""
    make_worker(factory, at, email).tick()
    return [m for m in email.sent if m.kind == "change"]


def test_the_default_window_is_two_minutes() -> None:
    assert Settings().alerts.coalesce_seconds == 120
    assert timedelta(seconds=Settings().alerts.coalesce_seconds) == DEFAULT_WINDOW


def test_one_edit_of_the_date_and_the_location_is_one_notice_listing_both(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, starts="2027-05-11", ends="2027-05-15", location="Vienna")
    email = RecordingNotifier()
    assert changes_sent(session_factory, start, email) == []
    assert changes_sent(session_factory, start + WINDOW - timedelta(seconds=1), email) == []
    [notice] = changes_sent(session_factory, start + WINDOW, email)
    assert notice.subject == (
        "Moved: SSD plenary → 2027-05-11 to 2027-05-15 (was 2027-05-04 to 2027-05-08)"
        " — also location"
    )
    assert "start: 2027-05-04 → 2027-05-11" in notice.text
    assert "end: 2027-05-08 → 2027-05-15" in notice.text
    assert "location: Geneva → Vienna" in notice.text
    # the item as it is: when, its lifecycle state and the confidence of its date
    assert "Now: " in notice.text and "announced — reported by the parties" in notice.text
    assert "pending" in notice.text or "scheduled" in notice.text
    assert changes_sent(session_factory, start + 2 * WINDOW, email) == [notice]


def test_a_date_move_says_moved_with_the_new_and_the_old_window(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, starts="2027-05-11", ends="2027-05-15")
    [notice] = changes_sent(session_factory, start + WINDOW, RecordingNotifier())
    assert notice.subject == (
        "Moved: SSD plenary → 2027-05-11 to 2027-05-15 (was 2027-05-04 to 2027-05-08)"
    )


def test_the_source_of_the_change_is_named(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    with transaction(session_factory) as session:
        editing.edit(
            session,
            SLUG,
            editing.MeetingFields.parse(location="Vienna"),
            now=start,
            source="https://www.state.gov/ssd",
            source_grade="primary",
        )
    [notice] = changes_sent(session_factory, start + WINDOW, RecordingNotifier())
    assert notice.subject == "Changed: SSD plenary — location: Geneva → Vienna"
    assert "Source: " in notice.text and "[primary (official)]" in notice.text


def test_two_edits_within_the_window_are_one_notice_from_the_first_old_to_the_last_new(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna")
    second = start + timedelta(seconds=90)
    edit(session_factory, second, location="New York", starts="2027-05-05")
    email = RecordingNotifier()
    assert changes_sent(session_factory, start + WINDOW, email) == []  # the window moved on
    assert changes_sent(session_factory, second + WINDOW - timedelta(seconds=1), email) == []
    [notice] = changes_sent(session_factory, second + WINDOW, email)
    assert "location: Geneva → New York" in notice.text
    assert "start: 2027-05-04 → 2027-05-05" in notice.text
    assert "(2 edits)" in notice.text
    with session_factory() as session:
        [recorded] = session.scalars(select(Notice).where(Notice.kind == "change"))
        meeting = session.scalar(select(Meeting.id).where(Meeting.slug == SLUG))
    # exactly once by the item and its last change; it covers the three rows of two edits
    assert recorded.identity == f"change:meeting:{meeting}:{recorded.change_id}"
    assert len(recorded.payload["changes"]) == 3
    assert recorded.change_id == max(recorded.payload["changes"])


def test_an_edit_and_its_undo_within_the_window_send_nothing(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna", starts="2027-05-06")
    edit(session_factory, start + timedelta(seconds=30), location="Geneva", starts="2027-05-04")
    email = RecordingNotifier()
    for minutes in (0, 2, 3, 60):
        assert changes_sent(session_factory, start + timedelta(minutes=minutes), email) == []
    # a later change is told from where things stood before the undone one
    later = start + timedelta(hours=2)
    edit(session_factory, later, location="Vienna")
    [notice] = changes_sent(session_factory, later + WINDOW, email)
    assert notice.subject == "Changed: SSD plenary — location: Geneva → Vienna"
    assert "start:" not in notice.text


def test_only_the_field_undone_is_left_out(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna", starts="2027-05-06")
    edit(session_factory, start + timedelta(seconds=30), starts="2027-05-04")
    [notice] = changes_sent(session_factory, start + timedelta(minutes=3), RecordingNotifier())
    assert notice.subject == "Changed: SSD plenary — location: Geneva → Vienna"


def test_an_edit_after_the_window_is_a_second_notice(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    email = RecordingNotifier()
    edit(session_factory, start, location="Vienna")
    assert len(changes_sent(session_factory, start + WINDOW, email)) == 1
    later = start + WINDOW + timedelta(seconds=1)
    edit(session_factory, later, location="New York")
    first, second = changes_sent(session_factory, later + WINDOW, email)
    assert "Geneva → Vienna" in first.subject
    assert "Vienna → New York" in second.subject
    assert first.identity != second.identity


def test_the_plan_holds_the_window_close_and_an_idle_tick_finds_it(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna")
    worker = make_worker(session_factory, start, RecordingNotifier())
    assert worker.tick().next_at == start + WINDOW


def test_a_new_item_and_its_first_edits_are_one_new_item_notice(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2027-03-01", slug="data", now=start)
    with transaction(session_factory) as session:
        fields = editing.DeadlineFields.parse(due="2027-03-08")
        editing.edit(session, "data", fields, now=start + timedelta(seconds=20))
    [notice] = changes_sent(session_factory, start + timedelta(minutes=3), RecordingNotifier())
    assert notice.subject == "New deadline: Data exchange (2027-03-08)"


def test_an_item_added_and_removed_within_the_window_sends_nothing(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    with transaction(session_factory) as session:
        made = make_deadline(session, "Data exchange", due="2027-03-01", slug="data", now=start)
        session.flush()
        editing.remove(session, made, now=start + timedelta(seconds=5))
    assert changes_sent(session_factory, start + WINDOW * 2, RecordingNotifier()) == []


def test_two_workers_record_the_notice_once(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna")
    at = start + WINDOW
    for _ in range(2):
        with transaction(session_factory) as session:
            record_changes(session, Channels(("email",)), at)  # a catch-up: every item
    with session_factory() as session:
        assert session.scalar(select(func.count()).where(Notice.kind == "change")) == 1


def test_a_window_of_zero_records_each_edit_at_once(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna")
    with transaction(session_factory) as session:
        taken = plan.take(session, start, [plan.Work.CHANGE.value])
        ids = {int(key) for _, key in taken}
        assert record_changes(session, Channels(("email",)), start, ids, window=timedelta()) == 1


def test_the_worker_coalesces_over_the_window_the_settings_give(
    session_factory: sessionmaker[Session], start: datetime
) -> None:
    edit(session_factory, start, location="Vienna")
    at_once = Settings.model_validate({"alerts": {"coalesce_seconds": 0}})
    email = RecordingNotifier()
    make_worker(session_factory, start, email, settings=at_once).tick()
    assert [m.kind for m in email.sent] == ["change"]
    edit(session_factory, start, location="Bern")
    ten_minutes = Settings.model_validate({"alerts": {"coalesce_seconds": 600}})
    make_worker(session_factory, start + WINDOW, email, settings=ten_minutes).tick()
    assert len(email.sent) == 1  # the default's two minutes are not this window's ten
