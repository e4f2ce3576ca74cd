"""Subscribers: adding, editing and removing them (input checked), and their filters:
which alerts each one wants."""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.alerts.digests import DigestFrequency
from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert
from tracker.catalog import queries
from tracker.dates import format_duration, parse_durations, parse_zone
from tracker.errors import InvalidInput, NotFound


def address(email: str, *, international: bool = False) -> str:
    """The address as stored (lower case), or InvalidInput saying why not, in one line.

    Checked with email-validator for syntax only (no DNS). An internationalised address
    (not ASCII, before or after the @) needs an SMTP server that announces SMTPUTF8, so it
    is accepted only when ``international`` (the setting ``smtp.smtputf8``) says so."""
    from email_validator import EmailNotValidError, validate_email

    typed = email.strip()
    try:
        checked = validate_email(typed, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{email!r} is not an email address: {exc}") from None
    found = checked.normalized.lower()
    if not found.isascii() and not international:
        raise InvalidInput(
            f"{email!r} is an internationalised address, which needs an SMTP server "
            "announcing SMTPUTF8: set smtp.smtputf8 = true once yours does"
        )
    return found


def values(
    *,
    name: str | None = None,
    tz: str | None = None,
    digest: str | None = None,
    immediate: bool | None = None,
    treaties: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    leads: str | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Checked column values for the options given (None: leave as it is); ``resume``
    lifts a suspension (and forgets the bounces)."""
    found: dict[str, Any] = {}
    if resume:
        found |= {"suspended_at": None, "bounces": 0}
    if name is not None:
        found["name"] = text.title(name, "name") if name.strip() else None
    if tz is not None:
        found["tz"] = parse_zone(tz)
    if digest is not None:
        choices = [f.value for f in DigestFrequency]
        if digest not in choices:
            raise InvalidInput(f"--digest must be one of {', '.join(choices)}")
        found["digest"] = digest
    if immediate is not None:
        found["immediate"] = immediate
    if treaties is not None:
        found["treaties"] = sorted(set(treaties))
    if kinds is not None:
        queries.check_kinds(sorted(set(kinds)))
        found["kinds"] = sorted(set(kinds))
    if leads is not None:
        found["leads"] = (
            ",".join(format_duration(d) for d in parse_durations(leads)) if leads.strip() else None
        )
    return found


def get(session: Session, email: str) -> Subscriber:
    found = session.scalar(select(Subscriber).where(Subscriber.email == email.lower()))
    if found is None:
        raise NotFound(f"no subscriber {email!r} (see `tracker subscriber list`)")
    return found


def add(
    session: Session,
    email: str,
    fields: dict[str, Any],
    *,
    now: datetime,
    international: bool = False,
) -> Subscriber:
    """A new subscriber; ``international``: whether the SMTP server takes internationalised
    addresses (``smtp.smtputf8``)."""
    checked = address(email, international=international)
    if session.scalar(select(Subscriber.id).where(Subscriber.email == checked)):
        raise InvalidInput(f"subscriber {checked} exists already (use `subscriber edit`)")
    queries.check_treaties(session, fields.get("treaties", ()))
    sub = Subscriber(
        email=checked,
        created_at=now,
        tz="UTC",
        digest="weekly",
        immediate=False,
        treaties=[],
        kinds=[],
    )
    for key, value in fields.items():
        setattr(sub, key, value)
    session.add(sub)
    return sub


def edit(session: Session, email: str, fields: dict[str, Any]) -> Subscriber:
    sub = get(session, email)
    queries.check_treaties(session, fields.get("treaties", ()))
    for key, value in fields.items():
        setattr(sub, key, value)
    return sub


def remove(session: Session, email: str) -> None:
    session.delete(get(session, email))


def listing(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).order_by(Subscriber.email)))


def as_dict(sub: Subscriber) -> dict[str, Any]:
    return {
        "email": sub.email,
        "name": sub.name,
        "tz": sub.tz,
        "digest": sub.digest,
        "immediate": sub.immediate,
        "treaties": sub.treaties,
        "kinds": sub.kinds,
        "leads": sub.leads,
        "created_at": sub.created_at.isoformat(),
        "digest_through": sub.digest_through.isoformat() if sub.digest_through else None,
        "bounces": sub.bounces or 0,
        "suspended_at": sub.suspended_at.isoformat() if sub.suspended_at else None,
    }


@cache  # a few distinct texts among many subscribers, asked once per alert each
def _leads(text: str) -> frozenset[timedelta]:
    return frozenset(parse_durations(text))


def subscriber_leads(subscribers: Sequence[Subscriber]) -> set[timedelta]:
    """Every lead time some subscriber asked for (planned for every item)."""
    return {lead for sub in subscribers if sub.leads for lead in parse_durations(sub.leads)}


def recipients(
    alert: PlannedAlert, own_leads: Set[timedelta], subscribers: Sequence[Subscriber]
) -> list[Subscriber]:
    """Immediate subscribers concerned by the item and wanting this lead time."""
    chosen = []
    for sub in subscribers:
        wanted = _leads(sub.leads) if sub.leads else own_leads
        if (
            sub.immediate
            and alert.lead in wanted
            and sub.concerns(alert.item.treaty, alert.item.kind)
        ):
            chosen.append(sub)
    return chosen
