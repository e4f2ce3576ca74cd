"""The persisted plan: edits write when work falls due, so a quiet tick is one query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline, make_meeting
from tracker import plan
from tracker.alerts.digests import next_period_due
from tracker.alerts.models import Subscriber
from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.notifiers.base import DeliveryError
from tracker.outbox import alert_notices
from tracker.outbox.worker import Worker
from tracker.settings import DigestSettings

from .helpers import RecordingNotifier, add_subscriber, make_worker


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database, as it is sent."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield sent
    event.remove(engine, "before_cursor_execute", count)


def advance(worker: Worker, delta: timedelta) -> None:
    assert isinstance(worker.clock, FixedClock)
    worker.clock.advance(delta)


def test_quiet_ticks_are_one_query_each_and_alerts_still_fire_on_time(
    session_factory: sessionmaker[Session], statements: list[str]
) -> None:
    # The 7-day alert of a deadline on 29 Nov fires at 08:00 UTC on the 22nd.
    start = datetime(2026, 11, 22, 7, 40, tzinfo=UTC)
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2026-11-29", slug="data", now=start)
        make_deadline(session, "Review", due="2027-03-01", slug="review", now=start)
        make_meeting(session, "Talks", starts="2026-12-20", slug="talks", now=start)
        add_subscriber(session, now=start)
        add_subscriber(session, "bo@example.org", now=start, digest="weekly", leads="3d")
    email = RecordingNotifier()
    worker = make_worker(session_factory, start, email)
    worker.tick()  # the first round sweeps
    for _ in range(39):  # every 30 s from 07:40:30 to 07:59:30
        advance(worker, timedelta(seconds=30))
        statements.clear()
        assert worker.tick().alerts == 0
        assert len(statements) == 1, statements
        assert "deliveries" not in statements[0] and "plan" in statements[0]
    assert email.sent == []
    advance(worker, timedelta(seconds=30))  # 08:00
    assert worker.tick().alerts == 1
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]


def test_an_edit_writes_its_mark_in_its_own_transaction(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2027-06-01", slug="data", now=now)
    with session_factory() as session:
        marks = session.execute(select(plan.PlanEntry.kind, plan.PlanEntry.key)).all()
    assert ("item", "deadline:data") in marks
    assert ("change", "1") in marks


def test_an_edit_by_another_session_is_planned_at_the_next_tick(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2027-06-01", slug="data", now=now)
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    worker = make_worker(session_factory, now, email)
    worker.tick()
    advance(worker, timedelta(seconds=30))
    later = worker.clock.now()
    with transaction(session_factory) as session:
        editing.edit(session, "data", editing.DeadlineFields.parse(due="2026-11-23"), now=later)
    worker.tick()
    assert "alert:deadline:data:1d:2026-11-23" in email.identities()


def test_a_new_subscribers_own_lead_is_planned_at_the_next_tick(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Notification", due="2027-01-21", slug="notice", now=now)
    email = RecordingNotifier()
    worker = make_worker(session_factory, now, email)
    worker.tick()
    assert email.sent == []
    with transaction(session_factory) as session:
        add_subscriber(session, now=now, leads="60d")
    advance(worker, timedelta(seconds=30))
    worker.tick()
    assert email.identities() == ["alert:deadline:notice:60d:2027-01-21"]


def test_an_item_coming_within_reach_is_planned_by_the_daily_sweep(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    # 100 days ahead: its 90-day alert (2 Dec, 08:00) is beyond the first sweep's reach.
    with transaction(session_factory) as session:
        make_deadline(session, "Expiry", due="2027-03-02", slug="expiry", now=now)
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    worker = make_worker(session_factory, now, email)
    instants = []
    for _ in range(12):
        done = worker.tick()
        instants.append(done.next_at)
        assert done.next_at is not None
        worker.clock.instant = done.next_at  # type: ignore[attr-defined]
        if email.sent:
            break
    assert email.identities() == ["alert:deadline:expiry:90d:2027-03-02"]
    assert not email.sent[0].late
    assert instants[-2] == datetime(2026, 12, 2, 8, tzinfo=UTC)  # woken up for it


def test_a_failed_round_keeps_the_work_it_did_not_do(
    session_factory: sessionmaker[Session],
) -> None:
    start = datetime(2026, 11, 22, 7, 59, 30, tzinfo=UTC)
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2026-11-29", slug="data", now=start)
        add_subscriber(session, now=start)
    email = RecordingNotifier()
    worker = make_worker(session_factory, start, email)
    worker.tick()
    advance(worker, timedelta(seconds=30))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alert_notices, "record", _fail)
        with pytest.raises(RuntimeError):
            worker.tick()
    advance(worker, timedelta(seconds=30))
    worker.tick()
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the database went away")


def test_the_next_wake_up_is_the_next_digest(session_factory: sessionmaker[Session]) -> None:
    # Weekly digests go out on Mondays at the configured hour; 23 Nov 2026 is a Monday.
    settings = DigestSettings()
    sunday = datetime(2026, 11, 22, 12, tzinfo=UTC)
    with transaction(session_factory) as session:
        add_subscriber(session, now=sunday - timedelta(days=3), digest="weekly")
        session.execute(update(Subscriber).values(digest_through=sunday))
    worker = make_worker(session_factory, sunday)
    due_at = next_period_due("weekly", settings, "UTC", after=sunday)
    assert due_at is not None and due_at.weekday() == 0
    assert worker.tick().next_at == due_at


@pytest.mark.parametrize(
    ("frequency", "tz", "after", "expected"),
    [
        # daily, just before and just after the day's instant
        ("daily", "UTC", datetime(2026, 11, 22, 7, tzinfo=UTC), datetime(2026, 11, 22, 8)),
        ("daily", "UTC", datetime(2026, 11, 22, 8, tzinfo=UTC), datetime(2026, 11, 23, 8)),
        # weekly: the next Monday
        ("weekly", "UTC", datetime(2026, 11, 22, 8, tzinfo=UTC), datetime(2026, 11, 23, 8)),
        ("weekly", "UTC", datetime(2026, 11, 23, 8, tzinfo=UTC), datetime(2026, 11, 30, 8)),
        # across the end of summer time in Geneva (25 Oct 2026): 08:00 local is 07:00 UTC
        (
            "daily",
            "Europe/Zurich",
            datetime(2026, 10, 24, 6, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 7),
        ),
    ],
)
def test_the_next_digest_instant(
    frequency: str, tz: str, after: datetime, expected: datetime
) -> None:
    settings = DigestSettings(local_hour=8, weekday="monday")
    assert next_period_due(frequency, settings, tz, after=after) == expected.replace(tzinfo=UTC)


def test_a_failed_delivery_wakes_the_daemon_for_its_retry(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2026-11-29", slug="data", now=now)
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    email.fail = DeliveryError("smtp down")
    worker = make_worker(session_factory, now, email)
    assert worker.tick().next_at == now + timedelta(minutes=1)  # the first retry
    email.fail = None
    advance(worker, timedelta(minutes=1))
    assert worker.tick().busy
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]


def test_a_retry_is_not_forgotten_when_a_sooner_mark_replaces_it(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    # The plan keeps one delivery row at its earliest instant: a restart's "due now"
    # replaces the retry's instant, and taking that row must write the retry back.
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2026-11-29", slug="data", now=now)
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    email.fail = DeliveryError("smtp down")
    worker = make_worker(session_factory, now, email)
    assert worker.tick().next_at == now + timedelta(minutes=1)
    email.fail = None
    assert worker.recover() == 0  # a daemon starting again marks deliveries due now
    advance(worker, timedelta(seconds=1))
    assert worker.tick().next_at == now + timedelta(minutes=1)
    advance(worker, timedelta(seconds=59))
    assert worker.tick().busy
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]
