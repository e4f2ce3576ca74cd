"""The claimed deliveries with what each sends: two queries for a whole batch.

A delivery's message is built from its notice and, on a personal channel, its
subscriber; one whose subscriber may get nothing now (suspended, unsubscribed, not
confirmed) carries the reason instead, a permanent failure.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Text, func, select
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from tracker.alerts.models import Subscriber
from tracker.notifiers.base import DeliveryError, Message, MessageKind, Recipient
from tracker.outbox.claims import InHand
from tracker.outbox.models import Delivery, Notice, NoticeKind

# A recipient on a personal channel that is the operator (alerts.operator_email), not a
# subscriber: "operator:<address>". Nothing of a subscriber's applies (links, refusals).
OPERATOR = "operator:"
_State = tuple[datetime | None, datetime | None, datetime | None]


def load(session: Session, ids: Sequence[int], personal: Collection[str]) -> list[InHand]:
    """The claimed deliveries with their messages: two queries for the whole batch. On
    the ``personal`` channels a recipient is a subscriber; on the others, a service name.

    Equal bodies and payloads come out as one shared object each (payloads decoded once):
    a digest's content is the same for many recipients, and the notifier can tell at once.
    """
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.channel,
            Delivery.recipient,
            Delivery.attempts,
            func.coalesce(Delivery.requeued_at, Delivery.created_at),
            Notice.identity,
            Notice.kind,
            Notice.title,
            Notice.body,
            Notice.due_at,
            Notice.late,
            cast_(Notice.payload, Text),
        )
        .join(Delivery.notice)
        .where(Delivery.id.in_(ids))
    ).all()
    emails = {row[2] for row in rows if row[1] in personal and not row[2].startswith(OPERATOR)}
    # Each subscriber's recipient, bounces so far, and when they were suspended,
    # unsubscribed and confirmed (see _refusal).
    people: dict[str, tuple[Recipient, int, _State | None]] = {
        email: (Recipient(email, name, tz, subscriber_id), bounces, (suspended, left, confirmed))
        for subscriber_id, email, name, tz, bounces, suspended, left, confirmed in session.execute(
            select(
                Subscriber.id,
                Subscriber.email,
                Subscriber.name,
                Subscriber.tz,
                Subscriber.bounces,
                Subscriber.suspended_at,
                Subscriber.unsubscribed_at,
                Subscriber.confirmed_at,
            ).where(Subscriber.email.in_(emails))
        )
    }
    shared: dict[str, Any] = {}
    found = {}
    for delivery_id, channel, address, attempts, since, identity, *event in rows:
        kind, title, body, due_at, late, raw = event
        person = people.get(address) if channel in personal else (Recipient(address), 0, None)
        if address.startswith(OPERATOR):
            person = (Recipient(address.removeprefix(OPERATOR)), 0, None)
        message: Message | DeliveryError
        refusal = (
            None if person is None or person[2] is None else _refusal(address, kind, *person[2])
        )
        if person is None:
            message = DeliveryError(f"no subscriber {address}", permanent=True)
        elif refusal is not None:
            message = DeliveryError(refusal, permanent=True)
        else:
            recipient = person[0]
            if raw not in shared:
                shared[raw] = json.loads(raw) if raw else {}
            message = Message(
                kind=cast(MessageKind, kind),
                identity=identity,
                subject=title,
                text=shared.setdefault(body, body),
                created_at=due_at,
                recipient=recipient,
                late=late,
                payload=shared[raw],
            )
        found[delivery_id] = InHand(
            delivery_id,
            channel,
            address,
            identity,
            attempts,
            since,
            message,
            person[1] if person is not None else 0,
        )
    return [found[delivery_id] for delivery_id in ids if delivery_id in found]


def operator_recipient(address: str) -> str:
    """The delivery recipient standing for the operator's ``address``."""
    return OPERATOR + address


def _refusal(
    email: str,
    kind: str,
    suspended_at: datetime | None,
    unsubscribed_at: datetime | None,
    confirmed_at: datetime | None,
) -> str | None:
    """Why nothing may go to this subscriber now, or None. A sign-up's confirmation goes
    to an address not confirmed yet (or unsubscribed, signing up again): it is the one
    email that may."""
    if suspended_at is not None:
        return f"subscriber {email} is suspended (bounces; `subscriber edit --resume`)"
    if kind == NoticeKind.CONFIRM:
        return None
    if unsubscribed_at is not None:
        return f"subscriber {email} has unsubscribed"
    if confirmed_at is None:
        return f"subscriber {email} has not confirmed their sign-up"
    return None
