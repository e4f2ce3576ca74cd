"""Digest notices: per subscriber, per period, once.

``digest_through`` moves forward in the transaction that records the period's notice,
so a period is never built twice; the plan's digest rows say when the next period of
each frequency and zone falls due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker import plan
from tracker.alerts.digest_content import Selectable, Shared, gather
from tracker.alerts.digests import (
    Digest,
    Happening,
    Period,
    latest_period,
    next_period_due,
    periods_since,
)
from tracker.alerts.models import Subscriber
from tracker.dates import zone
from tracker.db import UTCDateTime
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import LATE_AFTER, Channels, NewNotice, record, record_many
from tracker.settings import Settings


def happenings(session: Session, period: Period, since: datetime) -> list[Selectable]:
    """The alert and change notices recorded in ``[since, due)``, with what filters see."""
    notices = session.scalars(
        select(Notice)
        .where(
            Notice.recorded_at >= since,
            Notice.recorded_at < period.due_at,
            Notice.kind.in_((NoticeKind.ALERT.value, NoticeKind.CHANGE.value)),
            ~Notice.identity.like("catch-up:%"),
        )
        .order_by(Notice.due_at, Notice.id)
    )
    return [
        (n.treaty_slug, n.subject_kind, Happening(n.kind, n.title, n.due_at, n.late))
        for n in notices
    ]


def shared(session: Session, settings: Settings, period: Period, since: datetime) -> Shared:
    return gather(session, settings, period, happenings(session, period, since))


def _periods(settings: Settings, sub: Subscriber, now: datetime) -> list[Period]:
    return periods_since(
        sub.digest,
        weekday=settings.digest.weekday,
        local_hour=settings.digest.local_hour,
        tz=sub.tz,
        after=sub.digest_through or sub.created_at,
        as_of=now,
    )


@dataclass
class _Spans:
    """The shared rows of each span, gathered on first use."""

    session: Session
    settings: Settings
    found: dict[tuple[datetime, datetime], Shared] = field(default_factory=dict)

    def of(self, period: Period, since: datetime) -> Shared:
        key = (since, period.due_at)
        if key not in self.found:
            self.found[key] = shared(self.session, self.settings, period, since)
        return self.found[key]


def _with_digest_due(session: Session, settings: Settings, now: datetime) -> list[Subscriber]:
    """Subscribers with a digest period due: handled up to before the latest period of
    their frequency and zone. Two queries, and no subscriber loaded when none is due (the
    daemon asks on every tick)."""
    due: list[ColumnElement[bool]] = []
    pairs = session.execute(
        select(Subscriber.digest, Subscriber.tz).where(Subscriber.digest != "none").distinct()
    )
    for frequency, tz in pairs:
        latest = latest_period(
            frequency,
            weekday=settings.digest.weekday,
            local_hour=settings.digest.local_hour,
            tz=tz,
            as_of=now,
        )
        if latest is not None:
            handled = func.coalesce(Subscriber.digest_through, Subscriber.created_at)
            due.append(
                and_(Subscriber.digest == frequency, Subscriber.tz == tz, handled < latest.due_at)
            )
    if not due:
        return []
    return list(session.scalars(select(Subscriber).where(or_(*due)).order_by(Subscriber.id)))


def record_due_digests(
    session: Session, settings: Settings, channels: Channels, now: datetime
) -> int:
    """Record each subscriber's digests that fell due; ``digest_through`` moves forward in
    the same transaction, so a period is never built twice."""
    spans = _Spans(session, settings)
    due: list[tuple[NewNotice, Sequence[Subscriber]]] = []
    subscribers = _with_digest_due(session, settings, now)
    through: dict[datetime, list[int]] = {}
    # Subscribers of one frequency and zone, handled up to the same instant, share periods.
    shared_periods: dict[tuple[str, str, datetime], list[Period]] = {}
    for sub in list(subscribers):
        key = (sub.digest, sub.tz, sub.digest_through or sub.created_at)
        if key not in shared_periods:
            shared_periods[key] = _periods(settings, sub, now)
        periods = shared_periods[key]
        for period in periods:
            since = sub.digest_through or sub.created_at
            new = _new_notice(settings, spans.of(period, since), sub, period, now)
            # Written below, one statement per instant, rather than one per subscriber.
            set_committed_value(sub, "digest_through", period.due_at)
            if new is not None:
                due.append((new, [sub]))
        if periods:
            through.setdefault(periods[-1].due_at, []).append(sub.id)
    for instant, ids in through.items():
        for start in range(0, len(ids), 500):
            session.execute(
                update(Subscriber)
                .where(Subscriber.id.in_(ids[start : start + 500]))
                .values(digest_through=instant)
                .execution_options(synchronize_session=False)
            )
    return record_many(session, due, channels.personal, now=now)


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
    content = shared(session, settings, period, since)
    # Asked for by a person, not the schedule: a board with nothing new is still worth sending.
    new = _new_notice(settings, content, sub, period, now, asked=True)
    sub.digest_through = period.due_at
    if new is None:
        return 0
    return int(record(session, new, [sub], channels.personal, now=now) is not None)


def _new_notice(
    settings: Settings,
    content: Shared,
    sub: Subscriber,
    period: Period,
    now: datetime,
    *,
    asked: bool = False,
) -> NewNotice | None:
    """The digest notice of ``period`` for ``sub``; None when it is empty and not wanted."""
    digest, text, payload = content.digest(sub, period)
    has_content = not digest.is_empty or (asked and bool(digest.board or digest.agenda))
    if not has_content and not settings.digest.send_when_empty:
        return None
    return NewNotice(
        identity=digest.identity,
        kind=NoticeKind.DIGEST.value,
        title=digest.subject,
        body=text,
        due_at=period.due_at,
        late=now - period.due_at > LATE_AFTER,
        payload=payload,
    )


def build(
    session: Session, settings: Settings, sub: Subscriber, period: Period, since: datetime
) -> Digest:
    """The digest of ``period``: notices recorded in ``[since, due)`` that concern ``sub``,
    the countdown board and the meetings ahead as of the period's due instant."""
    return shared(session, settings, period, since).digest(sub, period)[0]


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


def next_digests(session: Session, settings: Settings) -> list[plan.Mark]:
    """When each frequency and zone's next digest falls due: the first period after the
    least handled of its subscribers. One query."""
    handled = func.min(
        func.coalesce(Subscriber.digest_through, Subscriber.created_at), type_=UTCDateTime()
    )
    groups = session.execute(
        select(Subscriber.digest, Subscriber.tz, handled)
        .where(Subscriber.digest != "none")
        .group_by(Subscriber.digest, Subscriber.tz)
    )
    marks = []
    for frequency, tz, after in groups:
        instant = next_period_due(frequency, settings.digest, tz, after=after)
        if instant is not None:
            marks.append((plan.Work.DIGEST.value, f"{frequency}:{tz}", instant))
    return marks
