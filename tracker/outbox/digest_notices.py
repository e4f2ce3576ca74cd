"""Digest notices: per subscriber, per period, once; on each subscriber's own schedule.

Only subscribers who confirmed and have not unsubscribed get digests. Each subscriber's
digest falls due at the latest period of their schedule (frequency, weekday, local hour,
zone: :meth:`Subscriber.schedule`) not yet handled; it holds
everything since the last one handled (``digest_through``), so a digest missed while
nothing ran is folded into the next rather than sent many times over.

One function, :func:`due`, says what would be recorded now, writing nothing: ``tracker
digest --preview`` renders it and ``--send`` and the daemon record it
(:func:`record_digests`), so the two cannot drift. ``digest_through`` moves forward in
the transaction that records the period's notice, so a period is never built twice; the
plan's digest rows say when the next period of each schedule falls due.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker import plan
from tracker.alerts.digest_content import Selectable, Shared, gather
from tracker.alerts.digests import Happening, Period, Schedule, identity
from tracker.alerts.models import Subscriber
from tracker.alerts.subscribers import receiving
from tracker.db import UTCDateTime
from tracker.notifiers.base import Message, Recipient
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import LATE_AFTER, Channels, NewNotice, record_many
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
            ~Notice.identity.like("stale:%"),  # the operator's alone (alerts.watches)
        )
        .order_by(Notice.due_at, Notice.id)
    )
    return [
        (
            n.treaty_slug,
            n.subject_kind,
            Happening(n.kind, n.title, n.due_at, n.late, _link(n.payload)),
        )
        for n in notices
    ]


def _link(payload: Any) -> str | None:
    """The item page an alert or change notice links (recorded in its payload)."""
    item = payload.get("item") if isinstance(payload, dict) else None
    link = item.get("link") if isinstance(item, dict) else None
    return link if isinstance(link, str) else None


def shared(session: Session, settings: Settings, period: Period, since: datetime) -> Shared:
    return gather(session, settings, period, happenings(session, period, since))


@dataclass
class _Spans:
    """The shared rows of each span, gathered on first use."""

    session: Session
    settings: Settings
    found: dict[tuple[datetime, datetime], Shared] = field(default_factory=dict)

    def of(self, period: Period) -> Shared:
        key = (period.starts_at, period.due_at)
        if key not in self.found:
            self.found[key] = shared(self.session, self.settings, period, period.starts_at)
        return self.found[key]


@dataclass(frozen=True)
class DueDigest:
    """One subscriber's digest of one period, as it would be recorded now: ``notice`` is
    None when it is empty and they did not ask for empty digests; ``resend`` counts the
    forced resends of the period (0: its first recording)."""

    subscriber: Subscriber
    period: Period  # the span it covers: since the last one handled, to its due instant
    notice: NewNotice | None
    resend: int = 0
    forced: bool = False  # asked for with --force, of a period handled already

    def message(self) -> Message:
        """The message a delivery of the notice hands its notifier (as the outbox loads
        it: the payload as stored, through JSON)."""
        if self.notice is None:
            raise ValueError("an empty digest is not sent")
        sub, new = self.subscriber, self.notice
        return Message(
            kind="digest",
            identity=new.identity,
            subject=new.title,
            text=new.body,
            created_at=new.due_at,
            recipient=Recipient(sub.email, sub.name, sub.tz, sub.id),
            late=new.late,
            payload=json.loads(json.dumps(dict(new.payload))),
        )


def _same(column: Any, value: object) -> ColumnElement[bool]:
    same: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return same


def _handled() -> ColumnElement[datetime]:
    return func.coalesce(Subscriber.digest_through, Subscriber.created_at)


def _with_digest_due(
    session: Session, settings: Settings, now: datetime, emails: Sequence[str] | None
) -> list[Subscriber]:
    """Subscribers with a digest period due: handled up to before the latest period of
    their schedule. Two queries, and no subscriber loaded when none is due (the daemon
    asks on every tick)."""
    columns = (Subscriber.digest, Subscriber.digest_day, Subscriber.digest_hour, Subscriber.tz)
    scope = and_(Subscriber.digest != "none", receiving())
    if emails is not None:
        scope = and_(scope, Subscriber.email.in_(emails))
    due: list[ColumnElement[bool]] = []
    for frequency, day, hour, tz in session.execute(select(*columns).where(scope).distinct()):
        latest = Schedule.of(settings.digest, frequency, tz, day, hour).latest(now)
        if latest is not None:
            same = [_same(c, v) for c, v in zip(columns, (frequency, day, hour, tz), strict=True)]
            due.append(and_(*same, _handled() < latest.due_at))
    if not due:
        return []
    query = select(Subscriber).where(scope, or_(*due)).order_by(Subscriber.id)
    return list(session.scalars(query))


def due(
    session: Session,
    settings: Settings,
    now: datetime,
    emails: Sequence[str] | None = None,
    *,
    force: bool = False,
) -> list[DueDigest]:
    """The digests that would be recorded now (of the subscribers ``emails``, or all),
    writing nothing: each subscriber's latest period due and not yet handled, and with
    ``force`` a resend of the latest period of those who had it already (recorded under a
    new identity, ``…:resend:N``, sent even when empty)."""
    spans = _Spans(session, settings)
    found: list[DueDigest] = []
    for sub in _with_digest_due(session, settings, now, emails):
        schedule = sub.schedule(settings.digest)
        latest = schedule.latest(now)
        assert latest is not None  # chosen for having one
        span = Period(latest.key, sub.digest_through or sub.created_at, latest.due_at)
        new = _new_notice(settings, spans.of(span), sub, span, now)
        found.append(DueDigest(sub, span, new))
    if force:
        fresh = {d.subscriber.id for d in found}
        chosen = (
            select(Subscriber)
            .where(Subscriber.digest != "none", receiving())
            .order_by(Subscriber.id)
        )
        if emails is not None:
            chosen = chosen.where(Subscriber.email.in_(emails))
        for sub in session.scalars(chosen):
            latest = sub.schedule(settings.digest).latest(now)
            if sub.id in fresh or latest is None:
                continue
            base = identity(sub.email, latest)
            count = _recorded(session, base)
            new = _new_notice(settings, spans.of(latest), sub, latest, now, forced=True)
            assert new is not None  # a forced digest is sent even when empty
            if count:  # sent before: a new identity, so a new Message-ID
                new = NewNotice(**{**new.__dict__, "identity": f"{base}:resend:{count}"})
            found.append(DueDigest(sub, latest, new, resend=count, forced=True))
    return found


def _recorded(session: Session, base: str) -> int:
    """How many times the digest ``base`` was recorded: first, then each resend."""
    pattern = base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = Notice.identity.like(f"{pattern}:resend:%", escape="\\")
    return len(session.scalars(select(Notice.id).where(or_(Notice.identity == base, like))).all())


def record_digests(
    session: Session,
    settings: Settings,
    channels: Channels,
    now: datetime,
    emails: Sequence[str] | None = None,
    *,
    force: bool = False,
) -> tuple[list[DueDigest], int]:
    """Record what :func:`due` says, with ``digest_through`` moved forward in the same
    transaction, so a period is never built twice. The digests and how many notices were
    recorded (a notice whose identity exists already is left out)."""
    found = due(session, settings, now, emails, force=force)
    through: dict[datetime, list[int]] = {}
    for digest in found:
        if not digest.forced:
            # Written below, one statement per instant, rather than one per subscriber.
            set_committed_value(digest.subscriber, "digest_through", digest.period.due_at)
            through.setdefault(digest.period.due_at, []).append(digest.subscriber.id)
    for instant, ids in through.items():
        for start in range(0, len(ids), 500):
            session.execute(
                update(Subscriber)
                .where(Subscriber.id.in_(ids[start : start + 500]))
                .values(digest_through=instant)
                .execution_options(synchronize_session=False)
            )
    notices = [(d.notice, [d.subscriber]) for d in found if d.notice is not None]
    return found, record_many(session, notices, channels.personal, now=now)


def record_due_digests(
    session: Session, settings: Settings, channels: Channels, now: datetime
) -> int:
    """Record each subscriber's digest that fell due (the daemon's unit): how many."""
    return record_digests(session, settings, channels, now)[1]


def _new_notice(
    settings: Settings,
    content: Shared,
    sub: Subscriber,
    period: Period,
    now: datetime,
    *,
    forced: bool = False,
) -> NewNotice | None:
    """The digest notice of ``period`` for ``sub``; None when it is empty and not wanted
    (a forced resend is wanted)."""
    digest, text, payload = content.digest(sub, period)
    if digest.is_empty and not (forced or sub.schedule(settings.digest).empty):
        return None
    return NewNotice(
        identity=digest.identity,
        kind=NoticeKind.DIGEST.value,
        title=digest.subject,
        body=text,
        due_at=period.due_at,
        late=not forced and now - period.due_at > LATE_AFTER,
        payload=payload,
    )


def next_digests(session: Session, settings: Settings) -> list[plan.Mark]:
    """When each schedule's next digest falls due: the first period after the least
    handled of its subscribers. One query."""
    handled = func.min(_handled(), type_=UTCDateTime())
    columns = (Subscriber.digest, Subscriber.digest_day, Subscriber.digest_hour, Subscriber.tz)
    groups = session.execute(
        select(*columns, handled).where(Subscriber.digest != "none", receiving()).group_by(*columns)
    )
    found: dict[str, datetime] = {}
    for frequency, day, hour, tz, after in groups:
        resolved = Schedule.of(settings.digest, frequency, tz, day, hour)
        instant = resolved.next_due(after)
        if instant is not None and (resolved.key not in found or instant < found[resolved.key]):
            found[resolved.key] = instant  # a choice equal to the default: one row
    return [(plan.Work.DIGEST.value, key, at) for key, at in sorted(found.items())]
