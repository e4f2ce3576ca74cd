from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_deadline, make_treaty
from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.notifiers.base import DeliveryError, Message
from tracker.outbox import notices as outbox
from tracker.outbox.claims import claim_batch
from tracker.outbox.models import Delivery, Notice

from .helpers import RecordingNotifier, RecordingService, add_subscriber, make_worker

DAY = timedelta(days=1)


def setup(factory: sessionmaker[Session], now: datetime, due: str = "2026-11-29") -> None:
    with transaction(factory) as session:
        make_treaty(session, now=now)
        make_deadline(
            session, "Data exchange", due=due, treaty="new-start", now=now, slug="data-exchange"
        )
        add_subscriber(session, now=now)


def test_the_seven_day_alert_is_delivered_once(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email = RecordingNotifier()
    make_worker(session_factory, now, email).tick()
    assert email.identities() == ["alert:deadline:data-exchange:7d:2026-11-29"]
    assert "in 7 days (2026-11-29)" in email.sent[0].subject
    again = RecordingNotifier()
    make_worker(session_factory, now + timedelta(minutes=1), again).tick()
    make_worker(session_factory, now + timedelta(minutes=2), again).tick()
    assert again.sent == []


def test_two_workers_at_once_deliver_it_once(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email = RecordingNotifier()
    first, second = (
        make_worker(session_factory, now, email),
        make_worker(session_factory, now, email),
    )
    first.record()
    second.record()
    email.before = lambda message: second.deliver()  # the other worker runs mid-delivery
    first.deliver()
    assert email.identities() == ["alert:deadline:data-exchange:7d:2026-11-29"]


def test_a_shared_service_gets_one_delivery_by_its_name(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email, chat = RecordingNotifier(), RecordingService()
    make_worker(session_factory, now, email, chat).tick()
    assert len(chat.sent) == 1 and chat.sent[0].recipient is not None
    assert chat.sent[0].recipient.address == "team-room"
    assert email.sent[0].recipient is not None
    assert email.sent[0].recipient.address == "ana@example.org"


def test_moving_a_deadline_records_a_change_and_replans(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email = RecordingNotifier()
    make_worker(session_factory, now, email).tick()
    later = now + timedelta(hours=2)
    with transaction(session_factory) as session:
        editing.edit(
            session, "data-exchange", editing.DeadlineFields.parse(due="2026-11-23"), now=later
        )
    make_worker(session_factory, later, email).tick()
    # re-planned: the 1-day alert of the new date, due at 08:00 today, goes out now
    [one_day] = email.sent[1:]
    assert one_day.identity == "alert:deadline:data-exchange:1d:2026-11-23"
    assert not one_day.late
    # the change, once its coalescing window (2 minutes) has closed
    make_worker(session_factory, later + timedelta(minutes=2), email).tick()
    change = email.sent[2]
    assert change.kind == "change"
    assert change.subject == "Moved: Data exchange → 2026-11-23 (was 2026-11-29)"
    assert "date: 2026-11-29 → 2026-11-23" in change.text
    tomorrow = datetime(2026, 11, 23, 8, tzinfo=now.tzinfo)
    make_worker(session_factory, tomorrow, email).tick()
    make_worker(session_factory, tomorrow + timedelta(hours=1), email).tick()
    assert email.identities()[3:] == ["alert:deadline:data-exchange:0d:2026-11-23"]


def test_a_failing_delivery_backs_off_then_fails(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email = RecordingNotifier()
    email.fail = DeliveryError("smtp down")
    worker = make_worker(session_factory, now, email)
    worker.tick()
    clock = worker.clock
    assert isinstance(clock, FixedClock)
    waits = []
    for _ in range(200):
        with session_factory() as session:
            delivery = session.scalars(select(Delivery)).one()
        if delivery.status == "failed":
            break
        waits.append(delivery.next_attempt_at - clock.now())
        clock.instant = delivery.next_attempt_at
        worker.deliver()
    assert waits[:4] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
    ]
    assert max(waits) == timedelta(hours=1)
    assert delivery.status == "failed" and delivery.last_error == "smtp down"
    assert clock.now() - now <= timedelta(hours=72)
    with session_factory() as session:
        assert [d.id for d in outbox.listing(session, status="failed")] == [delivery.id]
    email.fail = None
    with transaction(session_factory) as session:
        assert outbox.retry(session, [], all_failed=True, now=clock.now()) == 1
    worker.deliver()
    assert len(email.sent) == 1


def test_a_permanent_error_fails_at_once(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    email = RecordingNotifier()
    email.fail = DeliveryError("no such mailbox", permanent=True)
    make_worker(session_factory, now, email).tick()
    with session_factory() as session:
        assert session.scalars(select(Delivery.status)).one() == "failed"


def test_a_killed_worker_repeats_at_most_the_delivery_in_hand(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    with transaction(session_factory) as session:
        add_subscriber(session, "bo@example.org", now=now)
    email = RecordingNotifier()
    worker = make_worker(session_factory, now, email)
    worker.record()
    (in_hand,) = claim_batch(session_factory, now, limit=1)  # claimed, then the process dies
    assert in_hand is not None
    worker.deliver()
    assert len(email.sent) == 1  # the other delivery went out; the claimed one did not
    assert worker.recover() == 1
    worker.deliver()
    assert len(email.sent) == 2
    with session_factory() as session:
        assert set(session.scalars(select(Delivery.status))) == {"sent"}
        assert len(session.scalars(select(Notice)).all()) == 1


def test_seeded_history_before_any_subscriber_alerts_nobody(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Old", due="2021-02-05", now=now - 100 * DAY)
    with transaction(session_factory) as session:
        add_subscriber(session, now=now)
    email = RecordingNotifier()
    make_worker(session_factory, now, email).tick()
    assert email.sent == []


def count_statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_with_nothing_due_delivering_is_one_query(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    setup(session_factory, now)
    worker = make_worker(session_factory, now)
    worker.tick()  # delivered: nothing is due any more
    statements = count_statements(engine)
    assert worker.deliver() == 0
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")


class BatchNotifier(RecordingNotifier):
    """Takes a batch through ``deliver_each``; ``stop_after`` asks the worker to stop."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def deliver_each(self, messages: Iterable[Message]) -> Iterator[DeliveryError | None]:
        self.batches.append(0)
        for message in messages:
            self.batches[-1] += 1
            self.sent.append(message)
            yield None


def add_people(factory: sessionmaker[Session], now: datetime, count: int) -> None:
    with transaction(factory) as session:
        for n in range(count):
            add_subscriber(session, f"p{n}@example.org", now=now)


def test_a_batch_is_claimed_and_delivered_through_deliver_each_once(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    add_people(session_factory, now, 5)
    email = BatchNotifier()
    make_worker(session_factory, now, email).tick()
    assert email.batches == [6]
    assert sorted(m.recipient.address for m in email.sent if m.recipient) == sorted(
        ["ana@example.org"] + [f"p{n}@example.org" for n in range(5)]
    )
    make_worker(session_factory, now + timedelta(minutes=1), email).tick()
    assert email.batches == [6]
    with session_factory() as session:
        assert set(session.scalars(select(Delivery.status))) == {"sent"}


def test_a_stop_mid_batch_gives_back_what_was_not_tried(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    setup(session_factory, now)
    add_people(session_factory, now, 5)
    email = BatchNotifier()
    worker = make_worker(session_factory, now, email)
    worker.record()
    worker.deliver(stop=lambda: len(email.sent) >= 2)
    with session_factory() as session:
        rows = session.scalars(select(Delivery)).all()
    assert sorted((d.status, d.attempts) for d in rows) == [("pending", 0)] * 4 + [("sent", 1)] * 2
    worker.deliver()
    assert len(email.sent) == 6 and len({m.recipient for m in email.sent}) == 6


class CheckingBatchNotifier(BatchNotifier):
    """Before each send, counts the deliveries already marked sent in the database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__()
        self.factory = factory
        self.marked_before: list[int] = []

    def deliver_each(self, messages: Iterable[Message]) -> Iterator[DeliveryError | None]:
        for message in messages:
            with self.factory() as session:
                marked = session.scalars(select(Delivery).where(Delivery.status == "sent"))
                self.marked_before.append(len(marked.all()))
            self.sent.append(message)
            yield None


def test_each_outcome_is_written_before_the_next_message_goes_out(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    # So a kill mid-batch repeats at most the one delivery in hand.
    setup(session_factory, now)
    add_people(session_factory, now, 4)
    email = CheckingBatchNotifier(session_factory)
    make_worker(session_factory, now, email).tick()
    assert email.marked_before == [0, 1, 2, 3, 4]
