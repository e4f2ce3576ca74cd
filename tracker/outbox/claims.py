"""The rows of deliveries in hand: claimed in batches, their outcomes written, given back.

A batch of due deliveries is claimed in one transaction by a compare-and-swap
``UPDATE ... SET status='sending' WHERE id IN (...) AND status='pending' RETURNING id``
(the ids picked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers never
send the same row, and at most once per subscriber and channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker import plan
from tracker.db import transaction
from tracker.notifiers.base import DeliveryError, Message
from tracker.outbox.models import Delivery, DeliveryStatus
from tracker.settings import DeliverySettings

log = logging.getLogger("tracker.outbox")

BATCH = 500
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


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """1 min, 2 min, 4 min… up to the maximum (with the default settings)."""
    seconds = settings.first_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_retry_seconds))


def claim_batch(factory: sessionmaker[Session], now: datetime, limit: int = BATCH) -> list[int]:
    """Take up to ``limit`` due pending deliveries for sending, oldest first; [] when none
    is due. When nothing is due this is one indexed query."""
    while True:
        with transaction(factory) as session:
            query = (
                select(Delivery.id)
                .where(
                    Delivery.status == DeliveryStatus.PENDING.value,
                    Delivery.next_attempt_at <= now,
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            picked = list(session.scalars(query))
            if not picked:
                return []
            won = set(
                session.scalars(
                    update(Delivery)
                    .where(
                        Delivery.id.in_(picked),
                        Delivery.status == DeliveryStatus.PENDING.value,
                    )
                    .values(
                        status=DeliveryStatus.SENDING.value,
                        claimed_at=now,
                        attempts=Delivery.attempts + 1,
                    )
                    .returning(Delivery.id),
                    execution_options={"synchronize_session": False},
                )
            )
        if won:  # another worker took the others: look again rather than stop
            return [delivery_id for delivery_id in picked if delivery_id in won]


def _failed_values(
    held: InHand, error: DeliveryError, now: datetime, settings: DeliverySettings
) -> dict[str, Any]:
    delay = backoff(held.attempts, settings)
    give_up = held.window_start + timedelta(hours=settings.give_up_after_hours)
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
) -> None:
    """Record the outcome of the one delivery in hand and commit it, before the next
    message goes out: a worker killed after this never sends it again."""
    if error is None:
        sql, bind = _mark_sent(connection.dialect)
        connection.exec_driver_sql(sql, (bind(now), held.id))
        connection.commit()
        log.info("sent %s via %s to %s", held.identity, held.channel, held.recipient)
        return
    values = _failed_values(held, error, now, settings)
    connection.execute(
        update(_deliveries)
        .where(
            _deliveries.c.id == held.id,
            _deliveries.c.status == DeliveryStatus.SENDING.value,
        )
        .values(**values)
    )
    if values["status"] == DeliveryStatus.PENDING.value:  # the retry's instant
        plan.mark(connection, [(plan.Work.DELIVERY.value, "", values["next_attempt_at"])])
    connection.commit()


def release(factory: sessionmaker[Session], untried: Sequence[InHand]) -> None:
    """Give back claimed deliveries that were not tried: pending again, attempt undone."""
    if not untried:
        return
    with transaction(factory) as session:
        session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_([held.id for held in untried]),
                Delivery.status == DeliveryStatus.SENDING.value,
            )
            .values(status=DeliveryStatus.PENDING.value, attempts=Delivery.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", plan.DUE_NOW)])
