"""The rows of deliveries in hand: claimed in batches, their outcomes written, given back.

A batch of due deliveries is claimed in one transaction by a compare-and-swap
``UPDATE ... SET status='sending' WHERE ... AND status='pending' RETURNING id``, naming
who holds them and until when (:mod:`tracker.outbox.leases`), so two workers never send
the same row, nor to the same recipient at once, and at most once per subscriber and
channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Table,
    and_,
    exists,
    func,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased, sessionmaker

from tracker import plan
from tracker.alerts.models import Subscriber
from tracker.db import transaction
from tracker.notifiers.base import DeliveryError, Message
from tracker.outbox.leases import CLAIM_KEY, Lease, daemon_claimant
from tracker.outbox.models import Delivery, DeliveryStatus, Transport
from tracker.outbox.transports import Pauses, paused_within, resting
from tracker.settings import DeliverySettings

log = logging.getLogger("tracker.outbox")

BATCH = 500
SUSPEND_AFTER = 3  # bounces in a row (5xx at RCPT) that suspend a subscriber
Outcome = DeliveryError | None


@dataclass
class InHand:
    """A claimed delivery and what it sends (or why it cannot be sent)."""

    id: int
    channel: str
    recipient: str
    identity: str
    attempts: int
    window_start: datetime
    message: Message | DeliveryError
    bounces: int = 0  # the subscriber's bounces in a row so far (0 for a service)


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """1 min, 2 min, 4 min… up to the maximum (with the default settings)."""
    seconds = settings.first_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_retry_seconds))


def mark_next_attempt(session: Session, now: datetime) -> None:
    """Mark the plan at the first instant after ``now`` a pending delivery is due again or
    a paused channel is probed (whichever is sooner; a mark too early costs an empty pass).
    """
    pending = select(func.min(Delivery.next_attempt_at).label("at")).where(
        Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at > now
    )
    probes = select(func.min(Transport.next_probe_at).label("at")).where(
        Transport.paused_since.is_not(None), Transport.next_probe_at > now
    )
    rows = session.execute(union_all(pending, probes)).scalars()
    instants: list[datetime] = [at for at in rows if at is not None]
    if instants:
        plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", min(instants))])


def claim_batch(
    factory: sessionmaker[Session],
    now: datetime,
    limit: int = BATCH,
    lease: Lease | None = None,
) -> list[int]:
    """Take due pending deliveries for sending, oldest first, none of a channel paused and
    not due for a probe; [] when none is due. Up to ``limit`` are picked, and with each
    every other due delivery of its recipient (taken together, sent one after the other);
    a recipient with a delivery in hand elsewhere is skipped, so no two processes ever
    send to one recipient at once. The claim is held under ``lease`` (the daemon's own,
    when none is given).

    A look first (one indexed read: all a quiet pass costs); then, in one transaction,
    the pick of recipients and one ``UPDATE ... RETURNING`` of their due rows. On
    PostgreSQL the transaction starts with an advisory lock that queues claims one
    behind the other (a claim of 50 takes a few milliseconds): without it, two claims
    whose snapshots were taken at the same moment would each not see the other's
    recipients as in hand."""
    lease = lease or Lease(daemon_claimant())
    seed, elsewhere = aliased(Delivery), aliased(Delivery)
    resting_channels = resting(now)
    recipients = (
        select(seed.recipient)
        .where(
            seed.status == DeliveryStatus.PENDING.value,
            seed.next_attempt_at <= now,
            seed.channel.not_in(resting_channels),
            ~exists().where(
                elsewhere.recipient == seed.recipient,
                elsewhere.status == DeliveryStatus.SENDING.value,
            ),
        )
        # Not also by id: the index gives this order, and the many deliveries of one
        # digest run share their instant (a tie broken by id sorted them all: 40 ms for
        # 100,000 due, against 1 ms).
        .order_by(seed.next_attempt_at)
        .limit(limit)
    )
    with factory() as session:  # the look when nothing is due: one indexed query, a read
        if session.execute(recipients.limit(1)).first() is None:
            return []
    with transaction(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            # And no sort for this transaction: statistics that predate a digest run's
            # rows (analysed a minute later) make a sort of every due row look cheap, the
            # index's order costing nothing (130 ms against 1 ms, 100,000 due).
            session.execute(
                text("SELECT pg_advisory_xact_lock(:key), set_config('enable_sort', 'off', true)"),
                {"key": CLAIM_KEY},
            )
        # The recipients picked, then their rows: in one statement (a subquery, or a CTE)
        # PostgreSQL planned rows not analysed yet as a scan of every due row per pick
        # (1.7 s for 1,500 due).
        picked = list(session.scalars(recipients))
        if not picked:
            return []
        won = list(
            session.execute(
                update(Delivery)
                .where(
                    Delivery.recipient.in_(picked),
                    Delivery.status == DeliveryStatus.PENDING.value,
                    Delivery.next_attempt_at <= now,
                    Delivery.channel.not_in(resting_channels),
                )
                .values(
                    status=DeliveryStatus.SENDING.value,
                    claimed_at=now,
                    claimed_by=lease.holder,
                    lease_until=lease.claimed(now),
                    attempts=Delivery.attempts + 1,
                )
                .returning(Delivery.id, Delivery.next_attempt_at),
                execution_options={"synchronize_session": False},
            ).all()
        )
    return [delivery_id for delivery_id, _ in sorted(won, key=lambda row: (row[1], row[0]))]


def _failed_values(
    held: InHand,
    error: DeliveryError,
    now: datetime,
    settings: DeliverySettings,
    pauses: Pauses = (),
) -> dict[str, Any]:
    delay = backoff(held.attempts, settings)
    # The time its channel was paused is not counted: it waited for the transport.
    give_up = (
        held.window_start
        + timedelta(hours=settings.give_up_after_hours)
        + paused_within(pauses, held.window_start, now)
    )
    failed = error.permanent or now + delay > give_up
    log.warning(
        "delivery %d of %s via %s failed (attempt %d)%s: %s",
        held.id,
        held.identity,
        held.channel,
        held.attempts,
        ", giving up" if failed else f", retry in {delay}",
        error,
    )
    return {
        "status": (DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING).value,
        "next_attempt_at": now + delay,
        "last_error": str(error)[:2000],
    }


_deliveries = cast(Table, Delivery.__table__)


@lru_cache(maxsize=8)
def _mark_sent(dialect: Dialect) -> tuple[str, Callable[[datetime], Any]]:
    """The one statement that marks the delivery in hand sent, as the driver takes it,
    and how its instant is bound. Made once per dialect: through Core, building the cache
    key and the result cost more than the row's write (one per message)."""
    assert dialect.paramstyle in ("qmark", "format", "pyformat"), dialect.paramstyle
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"UPDATE {_deliveries.name} SET status = '{DeliveryStatus.SENT.value}', "
        f"sent_at = {marker}, last_error = NULL "
        f"WHERE id = {marker} AND status = '{DeliveryStatus.SENDING.value}'"
    )
    column = _deliveries.c.sent_at.type.dialect_impl(dialect)
    return sql, column.bind_processor(dialect) or (lambda when: when)


def write_outcome(
    connection: Connection,
    held: InHand,
    error: Outcome,
    now: datetime,
    settings: DeliverySettings,
    pauses: Pauses = (),
    holder: str | None = None,
) -> None:
    """Record the outcome of the one delivery in hand and commit it, before the next
    message goes out: a worker killed after this never sends it again.

    A message sent is marked sent whoever holds its row now (it went out). Any other
    outcome is written only while ``holder`` still holds the row: after a lease ran out
    and another worker claimed it, giving it back or failing it would undo that claim.

    A fault of the transport or a stop mid-message is not the delivery's: it goes back to
    pending as it was (the caller pauses the transport). A bounce counts towards
    suspending the subscriber; a delivery sent ends their run of bounces."""
    if error is None:
        sql, bind = _mark_sent(connection.dialect)
        connection.exec_driver_sql(sql, (bind(now), held.id))
        if held.bounces:
            _subscriber_outcome(connection, held, now, bounced=False)
        connection.commit()
        log.info("sent %s via %s to %s", held.identity, held.channel, held.recipient)
        return
    sending = and_(
        _deliveries.c.id == held.id, _deliveries.c.status == DeliveryStatus.SENDING.value
    )
    if holder is not None:
        sending = and_(sending, _deliveries.c.claimed_by == holder)
    if error.kind in ("transport", "interrupted"):
        given_back: dict[str, Any] = {
            "status": DeliveryStatus.PENDING.value,
            "attempts": _deliveries.c.attempts - 1,
        }
        if error.kind == "transport":
            given_back["last_error"] = str(error)[:2000]
        connection.execute(update(_deliveries).where(sending).values(**given_back))
        plan.mark(connection, [(plan.Work.DELIVERY.value, "", plan.DUE_NOW)])
        connection.commit()
        return
    values = _failed_values(held, error, now, settings, pauses)
    connection.execute(update(_deliveries).where(sending).values(**values))
    if values["status"] == DeliveryStatus.PENDING.value:  # the retry's instant
        plan.mark(connection, [(plan.Work.DELIVERY.value, "", values["next_attempt_at"])])
    if error.kind == "recipient" and error.permanent:
        _subscriber_outcome(connection, held, now, bounced=True)
    connection.commit()


_subscribers = cast(Table, Subscriber.__table__)


def _subscriber_outcome(
    connection: Connection, held: InHand, now: datetime, *, bounced: bool
) -> None:
    """Count a bounce of the subscriber's address (suspending them at the third in a
    row), or end their run of bounces."""
    row = _subscribers.c.email == held.recipient
    if not bounced:
        connection.execute(update(_subscribers).where(row).values(bounces=0))
        return
    bounces = connection.scalar(
        update(_subscribers)
        .where(row)
        .values(bounces=_subscribers.c.bounces + 1)
        .returning(_subscribers.c.bounces)
    )
    if bounces is not None and bounces >= SUSPEND_AFTER:
        suspended = connection.execute(
            update(_subscribers)
            .where(row, _subscribers.c.suspended_at.is_(None))
            .values(suspended_at=now)
        )
        if suspended.rowcount:
            log.warning(
                "subscriber %s suspended after %d bounces in a row "
                "(`tracker subscriber edit %s --resume` lifts it)",
                held.recipient,
                bounces,
                held.recipient,
            )


def release(
    factory: sessionmaker[Session], untried: Sequence[InHand], holder: str | None = None
) -> None:
    """Give back claimed deliveries that were not tried: pending again, attempt undone;
    only those ``holder`` still holds, when named (a lease run out, they may be
    another's now)."""
    if not untried:
        return
    held_by = [Delivery.claimed_by == holder] if holder is not None else []
    with transaction(factory) as session:
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_([held.id for held in untried]),
                Delivery.status == DeliveryStatus.SENDING.value,
                *held_by,
            )
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=Delivery.attempts - 1,
                claimed_by=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", plan.DUE_NOW)])
