"""Recording due digests: per subscriber, per period, once; previews for the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.digest import Digest, Happening, Period, assemble, latest_period, periods_since
from tracker.alerts.models import Event, EventKind, Subscriber
from tracker.alerts.outbox import Channels, NewEvent, record
from tracker.alerts.recording import LATE_AFTER
from tracker.dates import zone
from tracker.schedule import queries
from tracker.schedule.agenda import agenda, deadline_entry
from tracker.schedule.board import HIDDEN
from tracker.schedule.queries import Filter
from tracker.settings import Settings


def build(
    session: Session, settings: Settings, sub: Subscriber, period: Period, since: datetime
) -> Digest:
    """The digest of ``period``: events recorded in ``[since, due)`` that concern ``sub``,
    the countdown board and the meetings ahead as of the period's due instant."""
    events = session.scalars(
        select(Event)
        .where(
            Event.recorded_at >= since,
            Event.recorded_at < period.due_at,
            Event.kind.in_((EventKind.ALERT.value, EventKind.CHANGE.value)),
            ~Event.identity.like("catch-up:%"),
        )
        .order_by(Event.due_at, Event.id)
    )
    happenings = [
        Happening(e.kind, e.title, e.due_at, e.late)
        for e in events
        if sub.concerns(e.treaty_slug, e.subject_kind)
    ]
    as_of = period.due_at
    today = as_of.date()
    days = timedelta(days=settings.digest.agenda_days)
    flt = Filter(today=today, within=days)
    board = [
        deadline_entry(d, as_of).as_countdown()
        for d in queries.deadlines(session, flt)
        if d.status not in HIDDEN and sub.concerns(d.treaty.slug if d.treaty else None, d.kind)
    ]
    meetings = [
        m
        for m in queries.meetings(session, flt)
        if sub.concerns(m.treaty.slug if m.treaty else None, m.kind)
    ]
    ahead = [e.as_agenda() for e in agenda([], meetings, as_of, today, today + days)]
    return assemble(sub.email, period, happenings, board=board, agenda=ahead, tz=sub.tz)


def _periods(settings: Settings, sub: Subscriber, now: datetime) -> list[Period]:
    return periods_since(
        sub.digest,
        weekday=settings.digest.weekday,
        local_hour=settings.digest.local_hour,
        tz=sub.tz,
        after=sub.digest_through or sub.created_at,
        as_of=now,
    )


def record_due_digests(
    session: Session, settings: Settings, channels: Channels, now: datetime
) -> int:
    """Record each subscriber's digests that fell due; ``digest_through`` moves forward in
    the same transaction, so a period is never built twice."""
    recorded = 0
    subscribers = session.scalars(select(Subscriber).where(Subscriber.digest != "none"))
    for sub in list(subscribers):
        for period in _periods(settings, sub, now):
            recorded += _record(session, settings, channels, sub, period, now)
    return recorded


def record_digest_now(
    session: Session, settings: Settings, channels: Channels, sub: Subscriber, now: datetime
) -> int:
    """Record, once, the digest of everything since ``sub``'s last one: what ``--preview``
    shows is what ``--send`` sends."""
    since = sub.digest_through or sub.created_at
    if since >= now:
        return 0
    local = now.astimezone(zone(sub.tz))
    period = Period(f"as of {local:%d %b %Y %H:%M}", since, now)
    # Asked for by a person, not the schedule: a board with nothing new is still worth sending.
    return _record(session, settings, channels, sub, period, now, asked=True)


def _record(
    session: Session,
    settings: Settings,
    channels: Channels,
    sub: Subscriber,
    period: Period,
    now: datetime,
    *,
    asked: bool = False,
) -> int:
    since = sub.digest_through or sub.created_at
    digest = build(session, settings, sub, period, since)
    sub.digest_through = period.due_at
    has_content = not digest.is_empty or (asked and bool(digest.board or digest.agenda))
    if not has_content and not settings.digest.send_when_empty:
        return 0
    event = record(
        session,
        NewEvent(
            identity=digest.identity,
            kind=EventKind.DIGEST.value,
            title=digest.subject,
            body=digest.text(),
            due_at=period.due_at,
            late=now - period.due_at > LATE_AFTER,
            payload=digest.payload(),
        ),
        [sub],
        Channels(subscriber=channels.subscriber),
        now=now,
        broadcast=False,
    )
    return int(event is not None)


def preview(session: Session, settings: Settings, sub: Subscriber, now: datetime) -> Digest:
    """The digest ``sub`` would get now: everything since the last one."""
    frequency = sub.digest if sub.digest != "none" else "daily"
    last = latest_period(
        frequency,
        weekday=settings.digest.weekday,
        local_hour=settings.digest.local_hour,
        tz=sub.tz,
        as_of=now,
    )
    since = sub.digest_through or sub.created_at
    period = Period(last.key if last else now.date().isoformat(), since, now)
    return build(session, settings, sub, period, since)
