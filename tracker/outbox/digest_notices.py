"""Recording due digests: per subscriber, per period, once; previews for the CLI.

Subscribers whose digests cover the same span share what goes in them: the events, the
countdown board and the meetings ahead are queried once per span (:class:`Shared`) and
filtered per subscriber in Python; each distinct content is rendered once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker.alerts.digest import (
    Digest,
    Happening,
    Period,
    assemble,
    identity,
    latest_period,
    periods_since,
)
from tracker.alerts.models import Subscriber
from tracker.alerts.recording import LATE_AFTER
from tracker.catalog import queries
from tracker.catalog.queries import Filter
from tracker.dates import zone
from tracker.outbox.entries import Channels, NewNotice, record, record_many
from tracker.outbox.models import Notice, NoticeKind
from tracker.settings import Settings
from tracker.views.countdowns import HIDDEN
from tracker.views.items import agenda, deadline_entry

# Something a subscriber's filters select on: its treaty, its kind, and what it shows.
Item = tuple[str | None, str | None, Any]
# The indices of the happenings, board entries and agenda entries a subscriber gets.
Chosen = tuple[tuple[int, ...], ...]


@dataclass
class Shared:
    """What every digest of one span is chosen from, in digest order."""

    happenings: list[Item]
    board: list[Item]
    agenda: list[Item]
    _chosen: dict[tuple[Any, ...], Chosen] = field(default_factory=dict)
    _made: dict[tuple[Any, ...], tuple[Digest, str, dict[str, Any]]] = field(default_factory=dict)

    def chosen(self, sub: Subscriber) -> Chosen:
        """Which items concern ``sub``; it depends only on the subscriber's filters."""
        key = (tuple(sub.treaties or ()), tuple(sub.kinds or ()))
        if key not in self._chosen:
            self._chosen[key] = tuple(
                tuple(i for i, (treaty, kind, _) in enumerate(items) if sub.concerns(treaty, kind))
                for items in (self.happenings, self.board, self.agenda)
            )
        return self._chosen[key]

    def digest(self, sub: Subscriber, period: Period) -> tuple[Digest, str, dict[str, Any]]:
        """``sub``'s digest of ``period`` with its text and payload: assembled and rendered
        once per content and zone, only the identity is the subscriber's own."""
        chosen = self.chosen(sub)
        key = (period, chosen, sub.tz)
        made = self._made.get(key)
        if made is None:
            happenings, board, ahead = chosen
            digest = assemble(
                sub.email,
                period,
                [self.happenings[i][2] for i in happenings],
                board=[self.board[i][2] for i in board],
                agenda=[self.agenda[i][2] for i in ahead],
                tz=sub.tz,
            )
            made = self._made[key] = (digest, digest.text(), digest.payload())
        digest, text, payload = made
        return replace(digest, identity=identity(sub.email, period)), text, payload


def gather(session: Session, settings: Settings, period: Period, since: datetime) -> Shared:
    """Events recorded in ``[since, due)``, the countdown board and the meetings ahead as
    of the period's due instant: everything any subscriber's digest may hold."""
    events = session.scalars(
        select(Notice)
        .where(
            Notice.recorded_at >= since,
            Notice.recorded_at < period.due_at,
            Notice.kind.in_((NoticeKind.ALERT.value, NoticeKind.CHANGE.value)),
            ~Notice.identity.like("catch-up:%"),
        )
        .order_by(Notice.due_at, Notice.id)
    )
    happenings: list[Item] = [
        (e.treaty_slug, e.subject_kind, Happening(e.kind, e.title, e.due_at, e.late))
        for e in events
    ]
    as_of = period.due_at
    today = as_of.date()
    days = timedelta(days=settings.digest.agenda_days)
    flt = Filter(today=today, within=days)
    board: list[Item] = []
    for deadline in queries.deadlines(session, flt):
        if deadline.status not in HIDDEN:
            entry = deadline_entry(deadline, as_of)
            board.append((entry.treaty, entry.kind, entry.as_countdown()))
    # Each entry comes from one meeting and keeps its treaty and kind, so filtering the
    # entries gives what the agenda of the subscriber's meetings alone would.
    ahead: list[Item] = [
        (e.treaty, e.kind, e.as_agenda())
        for e in agenda([], queries.meetings(session, flt), as_of, today, today + days)
    ]
    return Shared(happenings, board, ahead)


def build(
    session: Session, settings: Settings, sub: Subscriber, period: Period, since: datetime
) -> Digest:
    """The digest of ``period``: events recorded in ``[since, due)`` that concern ``sub``,
    the countdown board and the meetings ahead as of the period's due instant."""
    return gather(session, settings, period, since).digest(sub, period)[0]


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
            self.found[key] = gather(self.session, self.settings, period, since)
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
            new = _new_event(settings, spans.of(period, since), sub, period, now)
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
    return record_many(
        session, due, Channels(subscriber=channels.subscriber), now=now, broadcast=False
    )


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
    shared = gather(session, settings, period, since)
    # Asked for by a person, not the schedule: a board with nothing new is still worth sending.
    new = _new_event(settings, shared, sub, period, now, asked=True)
    sub.digest_through = period.due_at
    if new is None:
        return 0
    event = record(
        session, new, [sub], Channels(subscriber=channels.subscriber), now=now, broadcast=False
    )
    return int(event is not None)


def _new_event(
    settings: Settings,
    shared: Shared,
    sub: Subscriber,
    period: Period,
    now: datetime,
    *,
    asked: bool = False,
) -> NewNotice | None:
    """The digest event of ``period`` for ``sub``; None when it is empty and not wanted."""
    digest, text, payload = shared.digest(sub, period)
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
