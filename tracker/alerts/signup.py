"""Self-service subscriptions: sign up (double opt-in), confirm, change, unsubscribe.

A web sign-up creates a subscriber with ``confirmed_at`` NULL: nothing is planned,
recorded or sent for them (:func:`tracker.alerts.subscribers.receiving`) but the one
confirmation email, until its link is POSTed. A sign-up not confirmed within
``server.signup_expiry_hours`` is deleted, at the next sign-up or confirmation
(:func:`expire`), and its link has expired anyway.

Signing up with an address that exists answers as a new sign-up does (no one learns who
subscribes). An unconfirmed or unsubscribed address takes the form's choices and gets a
fresh confirmation link; an active subscriber is left as they are and sent nothing (their
own emails carry their preferences link), so the form cannot be used to mail them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.alerts import subscribers
from tracker.alerts.models import Subscriber
from tracker.alerts.tokens import BadToken, Purpose, Tokens, address_digest


@dataclass(frozen=True)
class SignUp:
    subscriber: Subscriber
    needs_confirmation: bool  # False: an active subscriber, left alone


def expire(session: Session, now: datetime, expiry: timedelta) -> int:
    """Delete the sign-ups not confirmed within ``expiry``; how many."""
    result = session.execute(
        delete(Subscriber)
        .where(Subscriber.confirmed_at.is_(None), Subscriber.created_at < now - expiry)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def sign_up(
    session: Session,
    email: str,
    fields: dict[str, Any],
    *,
    now: datetime,
    expiry: timedelta,
    international: bool,
) -> SignUp:
    """The subscriber behind a web sign-up of ``email`` with the checked ``fields``, and
    whether a confirmation is to be sent; InvalidInput for an address or a choice refused."""
    checked = subscribers.address(email, international=international)
    expire(session, now, expiry)
    found = session.scalar(select(Subscriber).where(Subscriber.email == checked))
    if found is None:
        sub = subscribers.add(
            session, checked, fields, now=now, international=international, confirmed=False
        )
        session.flush()  # its id signs the confirmation link
        return SignUp(sub, needs_confirmation=True)
    subscribers.check(session, found, fields)
    if subscribers.receives(found):
        return SignUp(found, needs_confirmation=False)
    for key, value in fields.items():
        setattr(found, key, value)
    if found.confirmed_at is None:
        found.created_at = now  # signed up again: the expiry counts from now
    return SignUp(found, needs_confirmation=True)


def by_token(
    session: Session,
    tokens: Tokens,
    purpose: Purpose,
    token: str,
    now: datetime,
    max_age: timedelta | None = None,
) -> Subscriber:
    """The subscriber ``token`` was signed for, or BadToken (tampered with, expired, for
    another purpose, or for a subscriber gone or whose address changed)."""
    subscriber_id, digest = tokens.read(purpose, token, now, max_age)
    sub = session.get(Subscriber, subscriber_id)
    if sub is None or address_digest(sub.email) != digest:
        raise BadToken("this link is no longer valid")
    return sub


def confirm(
    session: Session, tokens: Tokens, token: str, now: datetime, expiry: timedelta
) -> Subscriber:
    """Confirm the sign-up of ``token`` (again: nothing changes)."""
    expire(session, now, expiry)
    sub = by_token(session, tokens, "confirm", token, now, max_age=expiry)
    if sub.unsubscribed_at is not None:
        # Back after unsubscribing: their next digest starts now, not where it stopped.
        sub.unsubscribed_at = None
        sub.digest_through = now
    if sub.confirmed_at is None:
        sub.confirmed_at = now
    return sub


def unsubscribe(session: Session, tokens: Tokens, token: str, now: datetime) -> Subscriber:
    """Unsubscribe the subscriber of ``token`` (again: nothing changes)."""
    sub = by_token(session, tokens, "unsubscribe", token, now)
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = now
    return sub


def change(session: Session, sub: Subscriber, fields: dict[str, Any]) -> None:
    """Apply the checked ``fields`` to ``sub`` (from their preferences page)."""
    subscribers.edit(session, sub.email, fields)
