"""One long-lived worker, as in the daemon: quiet ticks reuse the plan, edits re-plan it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline
from tracker.alerts import recording
from tracker.alerts.models import Subscriber
from tracker.alerts.ticking import REPLAN, next_period_due
from tracker.alerts.worker import Worker
from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.settings import DigestSettings

from .helpers import RecordingNotifier, add_subscriber, make_worker


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The instants at which a full plan was made."""
    made: list[datetime] = []
    original = recording.plan_alerts

    def counting(session: Session, settings: Any, now: datetime) -> recording.AlertPlan:
        made.append(now)
        return original(session, settings, now)

    monkeypatch.setattr(recording, "plan_alerts", counting)
    return made


def advance(worker: Worker, delta: timedelta) -> None:
    assert isinstance(worker.clock, FixedClock)
    worker.clock.advance(delta)


def test_quiet_ticks_reuse_the_plan_and_still_fire_on_time(
    session_factory: sessionmaker[Session], now: datetime, plans: list[datetime]
) -> None:
    # The 7-day alert of a deadline on 29 Nov fires at 08:00 UTC on the 22nd.
    start = datetime(2026, 11, 22, 7, 40, tzinfo=UTC)
    with transaction(session_factory) as session:
        make_deadline(session, "Data exchange", due="2026-11-29", slug="data", now=start)
        add_subscriber(session, now=start)
    email = RecordingNotifier()
    worker = make_worker(session_factory, start, email)
    for _ in range(39):  # every 30 s from 07:40 to 07:59
        worker.tick()
        advance(worker, timedelta(seconds=30))
    assert email.sent == []
    advance(worker, timedelta(seconds=30))  # 08:00
    assert worker.tick().alerts == 1
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]
    assert plans == [start]


def test_an_edit_between_ticks_is_planned_at_the_next_tick(
    session_factory: sessionmaker[Session], now: datetime, plans: list[datetime]
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
        editing.edit_deadline(
            session, "data", editing.DeadlineFields.parse(due="2026-11-23"), now=later
        )
    worker.tick()
    assert len(plans) == 2
    assert "alert:deadline:data:1d:2026-11-23" in email.identities()


def test_a_new_subscribers_own_lead_is_planned_at_the_next_tick(
    session_factory: sessionmaker[Session], now: datetime, plans: list[datetime]
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


def test_the_plan_is_made_again_when_its_hour_runs_out(
    session_factory: sessionmaker[Session], now: datetime, plans: list[datetime]
) -> None:
    worker = make_worker(session_factory, now)
    worker.tick()
    advance(worker, REPLAN)
    worker.tick()
    assert len(plans) == 1
    advance(worker, timedelta(seconds=1))
    worker.tick()
    assert len(plans) == 2


def test_a_failed_round_keeps_the_alerts_it_did_not_record(
    session_factory: sessionmaker[Session], plans: list[datetime]
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
        patch.setattr(recording, "record", _fail)
        with pytest.raises(RuntimeError):
            worker.tick()
    advance(worker, timedelta(seconds=30))
    worker.tick()
    assert email.identities() == ["alert:deadline:data:7d:2026-11-29"]
    assert len(plans) == 1


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the database went away")


def test_a_digest_falls_due_without_re_planning_in_between(
    session_factory: sessionmaker[Session], plans: list[datetime]
) -> None:
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
