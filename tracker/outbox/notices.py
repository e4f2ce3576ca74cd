"""The outbox's notices: each recorded with its deliveries, once, by its identity.

Recording comes first, in one transaction with everything that decided it, and marks the
plan's delivery row due. Delivery
(:mod:`tracker.outbox.delivery`) claims due rows in batches with a compare-and-swap
``UPDATE ... WHERE status='pending'`` (and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
two workers never send the same row; each outcome is written before the next message
goes out, so a crash repeats at most the one delivery in hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import plan
from tracker.alerts.models import Subscriber
from tracker.notifiers.base import Notifier
from tracker.outbox.models import Delivery, DeliveryStatus, Notice

# A notice recorded more than this after its instant is marked late.
LATE_AFTER = timedelta(minutes=5)
_NOTICES = cast(Table, Notice.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)

log = logging.getLogger("tracker.outbox")


@dataclass(frozen=True)
class Channels:
    """Where notices go: the channels that send to each subscriber, and for each channel
    that reaches shared services (chat, push) the names of those services."""

    subscriber: tuple[str, ...] = ()
    services: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, notifiers: Sequence[Notifier]) -> Channels:
        return cls(
            tuple(n.name for n in notifiers if n.audience == "subscriber"),
            tuple(
                (n.name, tuple(names))
                for n in notifiers
                if n.audience == "broadcast" and (names := n.recipients())
            ),
        )

    @property
    def personal(self) -> Channels:
        """The subscriber channels alone (digests are nobody else's)."""
        return Channels(self.subscriber)


@dataclass(frozen=True)
class NewNotice:
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
    return session.scalar(select(Notice.id).where(Notice.identity == identity)) is not None


def _targets(
    subscribers: Sequence[Subscriber], channels: Channels, services: bool
) -> list[tuple[str, str]]:
    # A suspended subscriber (their address bounced) gets nothing recorded.
    targets = [
        (channel, sub.email)
        for sub in subscribers
        if sub.suspended_at is None
        for channel in channels.subscriber
    ]
    if services:
        targets += [(channel, name) for channel, names in channels.services for name in names]
    return targets


def _notice_values(new: NewNotice, now: datetime, public: bool) -> dict[str, Any]:
    return {
        "identity": new.identity,
        "kind": new.kind,
        "title": new.title[:500],
        "body": new.body,
        "due_at": new.due_at,
        "recorded_at": now,
        "late": new.late,
        "subject_type": new.subject_type,
        "subject_slug": new.subject_slug,
        "subject_kind": new.subject_kind,
        "treaty_slug": new.treaty_slug,
        "lead": new.lead,
        "change_id": new.change_id,
        "payload": dict(new.payload),
        "public": public,
    }


def _delivery_values(channel: str, recipient: str, now: datetime) -> dict[str, Any]:
    return {
        "channel": channel,
        "recipient": recipient,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def record(
    session: Session,
    new: NewNotice,
    subscribers: Sequence[Subscriber],
    channels: Channels,
    *,
    now: datetime,
    public: bool = False,
    services: bool | None = None,
) -> Notice | None:
    """Write the notice and one pending delivery per subscriber and subscriber channel,
    and per service when ``services`` (by default: when the notice is public, the feeds'
    to show); None (and nothing written) when a notice with this identity exists."""
    if exists(session, new.identity):
        return None
    notice = Notice(**_notice_values(new, now, public))
    targets = _targets(subscribers, channels, public if services is None else services)
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
            # Core: an alert goes to thousands of subscribers, and the ORM's unit of work
            # cost more per delivery row (0.2 ms) than the row's insert.
            rows = [
                {"event_id": notice.id, **_delivery_values(channel, recipient, now)}
                for channel, recipient in targets
            ]
            if rows:
                session.execute(insert(_DELIVERIES), rows)
    except IntegrityError:  # recorded meanwhile by another writer
        return None
    if targets:
        plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", now)])
    log.info(
        "recorded %s %s (%d deliveries%s)",
        new.kind,
        new.identity,
        len(targets),
        ", late" if new.late else "",
    )
    return notice


def record_many(
    session: Session,
    notices: Sequence[tuple[NewNotice, Sequence[Subscriber]]],
    channels: Channels,
    *,
    now: datetime,
    public: bool = False,
) -> int:
    """:func:`record` for many notices at once (a few statements per 500, not a few per
    notice); those whose identity exists are left out. The number recorded."""
    recorded = 0
    for start in range(0, len(notices), 500):
        chunk = notices[start : start + 500]
        known = set(
            session.scalars(
                select(Notice.identity).where(
                    Notice.identity.in_([new.identity for new, _ in chunk])
                )
            )
        )
        fresh = [(new, subs) for new, subs in chunk if new.identity not in known]
        if not fresh:
            continue
        try:
            with session.begin_nested():
                # Core inserts: the ORM's bulk path costs more per row than the row itself.
                session.execute(
                    insert(_NOTICES), [_notice_values(new, now, public) for new, _ in fresh]
                )
                # Their ids by identity (unique): RETURNING in order costs a statement per row.
                found = session.execute(
                    select(Notice.identity, Notice.id).where(
                        Notice.identity.in_([new.identity for new, _ in fresh])
                    )
                )
                ids = {identity: notice_id for identity, notice_id in found}
                rows = [
                    {"event_id": ids[new.identity], **_delivery_values(channel, recipient, now)}
                    for new, subs in fresh
                    for channel, recipient in _targets(subs, channels, public)
                ]
                if rows:
                    session.execute(insert(_DELIVERIES), rows)
                    plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", now)])
        except IntegrityError:  # some recorded meanwhile by another writer: one at a time
            recorded += sum(
                record(session, new, subs, channels, now=now, public=public) is not None
                for new, subs in fresh
            )
            continue
        recorded += len(fresh)
        log.info("recorded %d %s notice(s) at once", len(fresh), fresh[0][0].kind)
    return recorded


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
    plan.mark(session.connection(), [(plan.Work.DELIVERY.value, "", now)])
    return int(getattr(result, "rowcount", 0))


def listing(session: Session, *, status: str | None = None, limit: int = 200) -> list[Delivery]:
    query = select(Delivery).join(Delivery.notice)
    if status:
        query = query.where(Delivery.status == status)
    return list(
        session.scalars(query.order_by(Notice.due_at.desc(), Delivery.id).limit(limit)).unique()
    )
