"""Subscribers: adding, editing and removing them (input checked), and their filters:
which alerts each one wants."""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from tracker import text
from tracker.alerts.digests import WEEKDAY_NAMES, DigestFrequency
from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert
from tracker.catalog import queries
from tracker.dates import format_duration, parse_durations, parse_zone
from tracker.errors import InvalidInput, NotFound
from tracker.settings import DigestSettings


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
    digest_day: str | None = None,
    digest_hour: str | None = None,
    empty_digests: bool | None = None,
    digest_defaults: bool = False,
) -> dict[str, Any]:
    """Checked column values for the options given (None: leave as it is); ``resume``
    lifts a suspension (and forgets the bounces). A digest day or hour of ``default``,
    and ``digest_defaults`` (day, hour and empty digests), store NULL: follow the global
    ``[digest]`` settings."""
    found: dict[str, Any] = {}
    if digest_defaults:
        found |= {"digest_day": None, "digest_hour": None, "empty_digests": None}
    if digest_day is not None:
        found["digest_day"] = _weekday(digest_day)
    if digest_hour is not None:
        found["digest_hour"] = _hour(digest_hour)
    if empty_digests is not None:
        found["empty_digests"] = empty_digests
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


def _weekday(value: str) -> str | None:
    typed = value.strip().lower()
    if typed == "default":
        return None
    if typed not in WEEKDAY_NAMES:
        raise InvalidInput(
            f"--digest-day must be a weekday (mon … sun, or monday …) or 'default', not {value!r}"
        )
    return WEEKDAY_NAMES[typed]


def _hour(value: str) -> int | None:
    typed = value.strip().lower()
    if typed == "default":
        return None
    hour = typed.removesuffix(":00")
    if not (hour.isascii() and hour.isdigit() and 0 <= int(hour) <= 23):
        raise InvalidInput(f"--digest-hour must be a local hour 0–23 or 'default', not {value!r}")
    return int(hour)


def check(session: Session, sub: Subscriber, fields: dict[str, Any]) -> None:
    """InvalidInput or NotFound if ``fields`` cannot apply to ``sub``: a treaty that does
    not exist, a digest day for a digest that is not weekly."""
    queries.check_treaties(session, fields.get("treaties", ()))
    _check_schedule(sub, fields)


def _check_schedule(sub: Subscriber, fields: dict[str, Any]) -> None:
    """A digest day is a weekly digest's: refused for a daily one or none."""
    frequency = fields.get("digest", sub.digest)
    if fields.get("digest_day") is not None and frequency != DigestFrequency.WEEKLY:
        raise InvalidInput(
            f"--digest-day is for weekly digests; this one's is {frequency}"
            + ("" if "digest" in fields else " (add --digest weekly)")
        )


def receiving() -> ColumnElement[bool]:
    """Subscribers anything may be recorded for: confirmed and not unsubscribed (a
    suspension is the outbox's to skip: it keeps their place in what is planned)."""
    return and_(Subscriber.confirmed_at.is_not(None), Subscriber.unsubscribed_at.is_(None))


def receives(sub: Subscriber) -> bool:
    """:func:`receiving`, of a subscriber loaded already."""
    return sub.confirmed_at is not None and sub.unsubscribed_at is None


def state(sub: Subscriber) -> str:
    """What ``subscriber list`` says of them: active, pending confirmation, unsubscribed
    or suspended."""
    if sub.suspended_at is not None:
        return "suspended"
    if sub.unsubscribed_at is not None:
        return "unsubscribed"
    if sub.confirmed_at is None:
        return "pending confirmation"
    return "active"


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
    confirmed: bool = True,
) -> Subscriber:
    """A new subscriber; ``international``: whether the SMTP server takes internationalised
    addresses (``smtp.smtputf8``); ``confirmed``: False for a web sign-up, which waits
    for its confirmation link (the operator's word is the confirmation)."""
    checked = address(email, international=international)
    if session.scalar(select(Subscriber.id).where(Subscriber.email == checked)):
        raise InvalidInput(f"subscriber {checked} exists already (use `subscriber edit`)")
    check(session, Subscriber(digest=DigestFrequency.WEEKLY.value), fields)
    sub = Subscriber(
        email=checked,
        created_at=now,
        confirmed_at=now if confirmed else None,
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
    check(session, sub, fields)
    for key, value in fields.items():
        setattr(sub, key, value)
    return sub


def remove(session: Session, email: str) -> None:
    session.delete(get(session, email))


def listing(session: Session) -> list[Subscriber]:
    return list(session.scalars(select(Subscriber).order_by(Subscriber.email)))


def as_dict(sub: Subscriber, defaults: DigestSettings | None = None) -> dict[str, Any]:
    """The subscriber as stored (``digest_day``, ``digest_hour``, ``empty_digests``: null
    when following the global settings) and, given ``defaults``, the schedule that
    applies (``schedule``: its words; ``digest_schedule``: its parts)."""
    found: dict[str, Any] = {
        "email": sub.email,
        "name": sub.name,
        "tz": sub.tz,
        "digest": sub.digest,
        "digest_day": sub.digest_day,
        "digest_hour": sub.digest_hour,
        "empty_digests": sub.empty_digests,
        "immediate": sub.immediate,
        "treaties": sub.treaties,
        "kinds": sub.kinds,
        "leads": sub.leads,
        "created_at": sub.created_at.isoformat(),
        "digest_through": sub.digest_through.isoformat() if sub.digest_through else None,
        "bounces": sub.bounces or 0,
        "suspended_at": sub.suspended_at.isoformat() if sub.suspended_at else None,
        "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
        "unsubscribed_at": sub.unsubscribed_at.isoformat() if sub.unsubscribed_at else None,
        "state": state(sub),
    }
    if defaults is not None:
        applies = sub.schedule(defaults)
        found["schedule"] = applies.words() + (
            ", even when empty" if applies.empty and applies.frequency != "none" else ""
        )
        found["digest_schedule"] = {
            "frequency": applies.frequency,
            "weekday": applies.weekday if applies.frequency == "weekly" else None,
            "local_hour": applies.local_hour,
            "tz": applies.tz,
            "empty_digests": applies.empty,
            "defaults": [
                name
                for name, own in (
                    ("weekday", sub.digest_day),
                    ("local_hour", sub.digest_hour),
                    ("empty_digests", sub.empty_digests),
                )
                if own is None
            ],
        }
    return found


@cache  # a few distinct texts among many subscribers, asked once per alert each
def _leads(text: str) -> frozenset[timedelta]:
    return frozenset(parse_durations(text))


def subscriber_leads(subscribers: Sequence[Subscriber]) -> set[timedelta]:
    """Every lead time some subscriber receiving alerts asked for (planned for every item;
    one who has not confirmed or has unsubscribed adds nothing to the plan)."""
    return {
        lead
        for sub in subscribers
        if sub.leads and receives(sub)
        for lead in parse_durations(sub.leads)
    }


def recipients(
    alert: PlannedAlert, own_leads: Set[timedelta], subscribers: Sequence[Subscriber]
) -> list[Subscriber]:
    """Immediate subscribers receiving alerts, concerned by the item and wanting this lead
    time."""
    chosen = []
    for sub in subscribers:
        wanted = _leads(sub.leads) if sub.leads else own_leads
        if (
            sub.immediate
            and receives(sub)
            and alert.lead in wanted
            and sub.concerns(alert.item.treaty, alert.item.kind)
        ):
            chosen.append(sub)
    return chosen
