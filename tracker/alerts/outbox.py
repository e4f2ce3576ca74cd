"""The outbox: record events with their deliveries, then claim and deliver them.

Recording comes first, in one transaction with everything that decided it; delivery
claims one row at a time with a compare-and-swap ``UPDATE ... WHERE status='pending'``
(and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so a crash repeats at most the delivery
in hand and two workers never send the same row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.models import (
    BROADCAST,
    Delivery,
    DeliveryStatus,
    Event,
    Subscriber,
)
from tracker.clock import Clock
from tracker.db import transaction
from tracker.notifiers.base import DeliveryError, Message, MessageKind, Notifier, Recipient
from tracker.settings import DeliverySettings

log = logging.getLogger("tracker.outbox")


@dataclass(frozen=True)
class Channels:
    """Channel names: those that send to each subscriber, and those sent to once."""

    subscriber: tuple[str, ...] = ()
    broadcast: tuple[str, ...] = ()

    @classmethod
    def of(cls, notifiers: Sequence[Notifier]) -> Channels:
        return cls(
            tuple(n.name for n in notifiers if n.audience == "subscriber"),
            tuple(n.name for n in notifiers if n.audience == "broadcast"),
        )


@dataclass(frozen=True)
class NewEvent:
    identity: str
    kind: str
    title: str
    body: str
    due_at: datetime
    late: bool = False
    subject_type: str | None = None
    subject_slug: str | None = None
    subject_kind: str | None = None
    treaty_slug: str | None = None
    lead: str | None = None
    change_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


def exists(session: Session, identity: str) -> bool:
    return session.scalar(select(Event.id).where(Event.identity == identity)) is not None


def record(
    session: Session,
    new: NewEvent,
    subscribers: Sequence[Subscriber],
    channels: Channels,
    *,
    now: datetime,
    broadcast: bool = True,
) -> Event | None:
    """Write the event and one pending delivery per subscriber channel and broadcast
    channel; None (and nothing written) when an event with this identity exists."""
    if exists(session, new.identity):
        return None
    event = Event(
        identity=new.identity,
        kind=new.kind,
        title=new.title[:500],
        body=new.body,
        due_at=new.due_at,
        recorded_at=now,
        late=new.late,
        subject_type=new.subject_type,
        subject_slug=new.subject_slug,
        subject_kind=new.subject_kind,
        treaty_slug=new.treaty_slug,
        lead=new.lead,
        change_id=new.change_id,
        payload=dict(new.payload),
    )
    targets = [(channel, sub.email) for sub in subscribers for channel in channels.subscriber]
    if broadcast:
        targets += [(channel, BROADCAST) for channel in channels.broadcast]
    for channel, recipient in targets:
        event.deliveries.append(
            Delivery(
                channel=channel,
                recipient=recipient,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:  # recorded meanwhile by another writer
        return None
    log.info(
        "recorded %s %s (%d deliveries%s)",
        new.kind,
        new.identity,
        len(targets),
        ", late" if new.late else "",
    )
    return event


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """1 min, 2 min, 4 min… up to the maximum (with the default settings)."""
    seconds = settings.first_retry_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.max_retry_seconds))


def claim(factory: sessionmaker[Session], now: datetime) -> int | None:
    """Take one due pending delivery for sending; None when there is none."""
    with transaction(factory) as session:
        query = (
            select(Delivery.id)
            .where(Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(5)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for delivery_id in list(session.scalars(query)):
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING.value)
                .values(
                    status=DeliveryStatus.SENDING.value,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                return delivery_id
    return None


def message_for(session: Session, delivery: Delivery) -> Message:
    event = delivery.event
    recipient = None
    if delivery.recipient != BROADCAST:
        sub = session.scalar(select(Subscriber).where(Subscriber.email == delivery.recipient))
        if sub is None:
            raise DeliveryError(f"no subscriber {delivery.recipient}", permanent=True)
        recipient = Recipient(sub.email, sub.name, sub.tz)
    return Message(
        kind=cast(MessageKind, event.kind),
        identity=event.identity,
        subject=event.title,
        text=event.body,
        created_at=event.due_at,
        recipient=recipient,
        late=event.late,
        payload=dict(event.payload),
    )


def send_one(
    factory: sessionmaker[Session],
    delivery_id: int,
    notifiers: Mapping[str, Notifier],
    clock: Clock,
    settings: DeliverySettings,
) -> bool:
    """Deliver a claimed delivery and record the outcome; True when it was sent."""
    error: DeliveryError | None = None
    with transaction(factory) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return False
        try:
            notifier = notifiers.get(delivery.channel)
            if notifier is None:
                raise DeliveryError(f"channel {delivery.channel!r} is not configured")
            notifier.deliver(message_for(session, delivery))
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a broken notifier must not stop the others
            error = DeliveryError(f"{type(exc).__name__}: {exc}")
        _finish(session, delivery, error, clock.now(), settings)
    return error is None


def _finish(
    session: Session,
    delivery: Delivery,
    error: DeliveryError | None,
    now: datetime,
    settings: DeliverySettings,
) -> None:
    values: dict[str, Any]
    if error is None:
        values = {"status": DeliveryStatus.SENT.value, "sent_at": now, "last_error": None}
        log.info(
            "sent %s via %s to %s", delivery.event.identity, delivery.channel, delivery.recipient
        )
    else:
        delay = backoff(delivery.attempts, settings)
        window_start = delivery.requeued_at or delivery.created_at
        give_up = window_start + timedelta(hours=settings.give_up_after_hours)
        failed = error.permanent or now + delay > give_up
        values = {
            "status": (DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING).value,
            "next_attempt_at": now + delay,
            "last_error": str(error)[:2000],
        }
        log.warning(
            "delivery %d of %s via %s failed (attempt %d)%s: %s",
            delivery.id,
            delivery.event.identity,
            delivery.channel,
            delivery.attempts,
            ", giving up" if failed else f", retry in {delay}",
            error,
        )
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.SENDING.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def deliver_due(
    factory: sessionmaker[Session],
    notifiers: Mapping[str, Notifier],
    clock: Clock,
    settings: DeliverySettings,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Deliver every due pending delivery, one at a time; the number sent."""
    sent = 0
    while not stop():
        delivery_id = claim(factory, clock.now())
        if delivery_id is None:
            break
        sent += send_one(factory, delivery_id, notifiers, clock, settings)
    return sent


def release_claims(session: Session, *, older_than: datetime | None = None) -> int:
    """Put ``sending`` rows back to ``pending``: those of a crashed worker (all of them when
    the caller holds the daemon lock, else those claimed before ``older_than``)."""
    query = update(Delivery).where(Delivery.status == DeliveryStatus.SENDING.value)
    if older_than is not None:
        query = query.where(Delivery.claimed_at < older_than)
    result = session.execute(
        query.values(status=DeliveryStatus.PENDING.value).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0))


def retry(session: Session, ids: Sequence[int], *, all_failed: bool, now: datetime) -> int:
    """Requeue failed deliveries (by id, or all); their give-up window starts again."""
    query = update(Delivery).where(Delivery.status == DeliveryStatus.FAILED.value)
    if not all_failed:
        query = query.where(Delivery.id.in_(ids))
    result = session.execute(
        query.values(
            status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now, requeued_at=now
        ).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def listing(session: Session, *, status: str | None = None, limit: int = 200) -> list[Delivery]:
    query = select(Delivery).join(Delivery.event)
    if status:
        query = query.where(Delivery.status == status)
    return list(
        session.scalars(query.order_by(Event.due_at.desc(), Delivery.id).limit(limit)).unique()
    )
