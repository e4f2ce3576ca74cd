"""Claims under a name and a lease, in process: a recipient's deliveries are taken
together and never by two holders at once; a dead holder's claims come back when its
lease runs out, a live one's never; the daemon taking over gives back only daemons'."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import FixedClock
from tracker.notifiers.base import DeliveryError, Message
from tracker.outbox import leases
from tracker.outbox.claims import claim_batch, release
from tracker.outbox.delivery import deliver_due
from tracker.outbox.leases import Lease, Tally
from tracker.outbox.models import Delivery, RunningProcess
from tracker.settings import DeliverySettings

from ..alerts.helpers import RecordingNotifier
from .conftest import DELIVERIES, insert_due

LEASE = 120


def rows(factory: sessionmaker[Session]) -> dict[int, tuple[str, str | None, str]]:
    """Each delivery: (status, holder, recipient)."""
    with factory() as session:
        return {
            d.id: (d.status, d.claimed_by, d.recipient)
            for d in session.scalars(select(Delivery).order_by(Delivery.id))
        }


def test_a_claim_takes_each_picked_recipients_due_deliveries_together(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 6, now, per_recipient=3)  # two readers, three messages each
    taken = claim_batch(session_factory, now, 1, Lease("w1", LEASE))
    assert len(taken) == 3  # one picked, and that reader's two others with it
    held = rows(session_factory)
    assert len({held[i][2] for i in taken}) == 1
    assert all(held[i][:2] == ("sending", "w1") for i in taken)


def test_a_recipient_in_hand_elsewhere_is_skipped(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        first = insert_due(connection, 4, now, per_recipient=2)
    mine = claim_batch(session_factory, now, 1, Lease("w1", LEASE))
    assert len(mine) == 2  # one reader's two (message n goes to reader n % 2)
    again = mine[1]
    # One of them is pending again (as if it came due while w1 sends the other): nobody
    # else may take it while w1 holds the reader's other message.
    with engine.begin() as connection:
        connection.execute(
            DELIVERIES.update()
            .where(DELIVERIES.c.id == again)
            .values(status="pending", attempts=0, claimed_by=None, lease_until=None)
        )
    theirs = claim_batch(session_factory, now, 10, Lease("w2", LEASE))
    assert sorted(theirs) == sorted(set(first) - set(mine))  # the other reader's
    assert rows(session_factory)[again][0] == "pending"  # left for w1's reader's turn


def test_an_expired_lease_is_given_back_and_a_live_one_kept(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 2, now)
    dead = claim_batch(session_factory, now, 1, Lease("dead", 30))
    live = claim_batch(session_factory, now, 1, Lease("live", 300))
    later = now + timedelta(seconds=60)
    with engine.begin() as connection:
        assert leases.requeue_expired(connection, later) == 1
    held = rows(session_factory)
    assert held[dead[0]][:2] == ("pending", None)
    assert held[live[0]][:2] == ("sending", "live")
    # Given back, it is due at once, and its attempt stands (it may have gone out).
    again = claim_batch(session_factory, later, 10, Lease("other", LEASE))
    assert again == dead
    with session_factory() as session:
        assert session.get(Delivery, dead[0]).attempts == 2  # type: ignore[union-attr]


def test_a_live_holder_renews_its_lease_as_it_goes(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 1, now)
    lease = Lease("w1", 40)
    assert len(claim_batch(session_factory, now, 1, lease)) == 1
    with engine.begin() as connection:
        assert not lease.renew(connection, now + timedelta(seconds=5))  # not a quarter yet
        assert lease.renew(connection, now + timedelta(seconds=30))
        assert leases.requeue_expired(connection, now + timedelta(seconds=60)) == 0
        assert leases.requeue_expired(connection, now + timedelta(seconds=71)) == 1


def test_a_daemon_taking_over_gives_back_daemons_claims_not_a_live_workers(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 2, now)
    by_daemon = claim_batch(session_factory, now, 1)  # the daemon's own lease
    by_worker = claim_batch(session_factory, now, 1, Lease("w1", LEASE))
    with engine.begin() as connection:
        assert leases.recover(connection, now) == 1
    held = rows(session_factory)
    assert held[by_daemon[0]][0] == "pending" and held[by_worker[0]][0] == "sending"


def test_claims_given_back_untried_name_nobody(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    from tracker.outbox.delivery import load

    with engine.begin() as connection:
        insert_due(connection, 2, now)
    taken = claim_batch(session_factory, now, 10, Lease("w1", LEASE))
    with session_factory() as session:
        release(session_factory, load(session, taken, ["email"]))
    assert all(row[:2] == ("pending", None) for row in rows(session_factory).values())


def test_a_heartbeat_writes_the_process_row_once_by_name(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    tally = Tally("w1", "worker", now)
    with engine.begin() as connection:
        leases.beat(connection, tally, now)
    tally.sent, tally.claimed = 5, 6
    with engine.begin() as connection:
        leases.beat(connection, tally, now + timedelta(seconds=5))
    with session_factory() as session:
        (row,) = session.scalars(select(RunningProcess)).all()
        assert (row.name, row.role, row.sent, row.claimed, row.failed) == ("w1", "worker", 5, 6, 0)
        assert row.seen_at == now + timedelta(seconds=5) and row.started_at == now


def test_a_holder_stalled_past_its_lease_sends_nothing_more_of_its_batch(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 3, now)
    clock = FixedClock(now)
    taken_over: list[int] = []

    def stall_while_another_takes_over(_message: Message) -> None:
        clock.advance(timedelta(seconds=200))  # past the 120 s lease
        if not taken_over:
            with engine.begin() as connection:
                leases.requeue_expired(connection, clock.now())
            taken_over.extend(claim_batch(session_factory, clock.now(), 10, Lease("w2", LEASE)))

    email = RecordingNotifier()
    email.before = stall_while_another_takes_over
    deliver_due(
        session_factory, {"email": email}, clock, DeliverySettings(), lease=Lease("w1", LEASE)
    )
    assert len(taken_over) == 3
    assert len(email.sent) == 1  # the one in hand at the stall; the others are w2's now
    held = rows(session_factory)
    assert sorted(status for status, _, _ in held.values()) == ["sending", "sending", "sent"]
    assert {holder for status, holder, _ in held.values() if status == "sending"} == {"w2"}


def test_a_stalled_holders_failure_never_undoes_the_claim_another_took_since(
    session_factory: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    with engine.begin() as connection:
        insert_due(connection, 1, now)
    clock = FixedClock(now)

    def stall_then_fail(_message: Message) -> None:
        clock.advance(timedelta(seconds=200))  # past the 120 s lease: w2 takes the row
        with engine.begin() as connection:
            leases.requeue_expired(connection, clock.now())
        assert claim_batch(session_factory, clock.now(), 10, Lease("w2", LEASE))
        raise DeliveryError("421 try again later")

    email = RecordingNotifier()
    email.before = stall_then_fail
    deliver_due(
        session_factory, {"email": email}, clock, DeliverySettings(), lease=Lease("w1", LEASE)
    )
    # w1's failure is not written over w2's claim: the row stays w2's, in hand.
    assert [held[:2] for held in rows(session_factory).values()] == [("sending", "w2")]
