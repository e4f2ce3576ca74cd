from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline
from tracker.db import transaction
from tracker.outbox.models import Notice

from .helpers import RecordingNotifier, add_subscriber, make_worker

DAY = timedelta(days=1)


def test_ten_days_down_delivers_both_alerts_once_marked_late(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(
            session, "Review", due="2026-12-22", slug="review", now=now, alert="30d,25d,20d,7d"
        )
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    make_worker(session_factory, now, email).tick()  # 2026-11-22 09:00: the 30d alert is due
    assert email.identities() == ["alert:deadline:review:30d:2026-12-22"]
    restart = (
        now + 10 * DAY
    )  # down from 11-22 09:00 to 12-02 09:00: the 25d (11-27) and 20d (12-02) alerts fell inside
    make_worker(session_factory, restart, email).tick()
    make_worker(session_factory, restart + timedelta(seconds=30), email).tick()
    assert email.identities()[1:] == [
        "alert:deadline:review:25d:2026-12-22",
        "alert:deadline:review:20d:2026-12-22",
    ]
    assert all(message.late for message in email.sent[1:])


def test_alerts_of_items_already_over_are_folded_into_one_summary(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "One", due="2026-11-25", slug="one", now=now, alert="1d,0d")
        make_deadline(session, "Two", due="2026-11-26", slug="two", now=now, alert="1d,0d")
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    make_worker(session_factory, now, email).tick()
    assert email.sent == []
    restart = datetime(2026, 12, 1, 12, tzinfo=UTC)
    make_worker(session_factory, restart, email).tick()
    make_worker(session_factory, restart + DAY, email).tick()
    assert len(email.sent) == 1
    summary = email.sent[0]
    assert summary.identity.startswith("catch-up:") and summary.late
    assert "While the tracker was down: 4 alert(s)" in summary.subject
    with session_factory() as session:
        recorded = set(session.scalars(select(Notice.identity).where(Notice.kind == "alert")))
    assert "alert:deadline:one:0d:2026-11-25" in recorded


def test_a_digest_holds_changes_and_is_sent_once_per_period(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        add_subscriber(session, now=now, immediate=False, digest="daily")
    later = now + timedelta(hours=1)
    with transaction(session_factory) as session:
        make_deadline(session, "Talks", due="2027-01-10", slug="talks", now=later)
    email = RecordingNotifier()
    tomorrow = datetime(2026, 11, 23, 8, 0, 30, tzinfo=UTC)
    make_worker(session_factory, now + 2 * timedelta(hours=1), email).tick()
    assert email.sent == []  # not immediate: only in the digest
    make_worker(session_factory, tomorrow, email).tick()
    make_worker(session_factory, tomorrow + timedelta(hours=1), email).tick()
    assert email.identities() == ["digest:ana@example.org:2026-11-23"]
    digest = email.sent[0]
    assert "New deadline: Talks" in digest.text  # the one wording (tracker.views.wording)
    assert digest.payload["changes"][0]["title"].startswith("New deadline: Talks")
    # the day after: no change, but Talks is still on the countdown, so the daily digest
    # goes (only a digest with nothing at all in it is skipped), without the change again
    make_worker(session_factory, tomorrow + DAY, email).tick()
    assert [n.identity for n in email.sent] == [
        email.sent[0].identity,
        "digest:ana@example.org:2026-11-24",
    ]
    assert email.sent[1].payload["changes"] == []
