"""Alert notices: each due alert recorded once, for the subscribers who want it.

An alert of the item's own lead times is public (the feeds show it, and the chat and
push services get it); one only a subscriber's own lead calls for is theirs alone.
Alerts of items already over when recorded (the tracker was down) are folded into one
summary per audience (:mod:`tracker.outbox.catch_up`). Watches
(:mod:`tracker.alerts.watches`) are recorded beside them: an expected confirmation
missing goes to the immediate subscribers the item concerns (public, as the item's own);
a stale outcome goes to the operator alone, over the email channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert
from tracker.alerts.subscribers import recipients
from tracker.alerts.watches import Watch, WatchAlert
from tracker.dates import format_duration
from tracker.notifiers.feeds import item_link
from tracker.outbox.catch_up import record_summaries
from tracker.outbox.delivery import operator_recipient
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import LATE_AFTER, Channels, NewNotice, record
from tracker.views.items import Item


def record_alerts(
    session: Session,
    candidates: Sequence[PlannedAlert | WatchAlert],
    own: dict[str, set[timedelta]],
    channels: Channels,
    now: datetime,
    *,
    base_url: str | None = None,
) -> tuple[int, int]:
    """Record those of ``candidates`` (alerts due by ``now``) not recorded yet; those of
    items already over are folded into one "while the tracker was down" summary per
    audience. Says how many were recorded and how many of them folded. ``base_url``: the
    public site whose item pages the alerts link (``feeds.base_url``)."""
    recorded = _recorded(session, [a.identity for a in candidates])
    due = [a for a in candidates if a.identity not in recorded]
    if not due:
        return 0, 0
    subscribers = list(session.scalars(select(Subscriber).order_by(Subscriber.id)))
    folded: list[PlannedAlert] = []
    for alert in due:
        if isinstance(alert, WatchAlert):
            _record_watch(session, alert, subscribers, channels, now, base_url)
            continue
        own_leads = own.get(alert.key, set())
        over = alert.ends_at <= now
        # An alert that fell due before its item got this date could not have gone out.
        late = now - alert.fires_at > LATE_AFTER and alert.fires_at >= alert.valid_from
        record(
            session,
            _notice(alert, late=late, base_url=base_url),
            [] if over else recipients(alert, own_leads, subscribers),
            channels,
            now=now,
            public=not over and alert.lead in own_leads,
        )
        if over:
            folded.append(alert)
    if folded:
        record_summaries(session, folded, own, subscribers, channels, now)
    return len(due), len(folded)


def _recorded(session: Session, identities: list[str]) -> set[str]:
    """Which of these alerts are in the outbox already: one query per 500."""
    found: set[str] = set()
    for start in range(0, len(identities), 500):
        chunk = identities[start : start + 500]
        found |= set(session.scalars(select(Notice.identity).where(Notice.identity.in_(chunk))))
    return found


def item_entry(item: Item, as_of: datetime, base_url: str | None) -> dict[str, Any]:
    """An item as a notice's payload carries it for the email: the views' vocabulary as of
    ``as_of`` (the countdown as the alert says it) and its page's ``link``."""
    link = item_link(base_url, item.type, item.slug) if base_url else None
    return {**replace(item, as_of=as_of).as_dict(), "link": link}


def _notice(alert: PlannedAlert, *, late: bool, base_url: str | None) -> NewNotice:
    lead = format_duration(alert.lead)
    payload = {"item": item_entry(alert.item, alert.fires_at, base_url), "lead": lead}
    return _item_notice(alert, late=late, payload=payload, lead=lead)


def _item_notice(
    alert: PlannedAlert | WatchAlert,
    *,
    late: bool,
    payload: dict[str, Any],
    lead: str | None = None,
) -> NewNotice:
    """The notice of an alert about one item: its words, its instant, its item's keys."""
    item = alert.item
    return NewNotice(
        identity=alert.identity,
        kind=NoticeKind.ALERT.value,
        title=alert.title,
        body=alert.body,
        due_at=alert.fires_at,
        late=late,
        subject_type=item.type,
        subject_slug=item.slug,
        subject_kind=item.kind,
        treaty_slug=item.treaty,
        lead=lead,
        payload=payload,
    )


# The channel the operator's mail goes through (the email notifier's name).
OPERATOR_CHANNEL = "email"


def _record_watch(
    session: Session,
    watch: WatchAlert,
    subscribers: Sequence[Subscriber],
    channels: Channels,
    now: datetime,
    base_url: str | None,
) -> None:
    """Record a watch once: an expected confirmation for the immediate subscribers the
    item concerns (nobody, once the item is over), carrying the item as alerts do; a stale
    outcome for the operator, as text alone (it holds the commands to record it)."""
    late = now - watch.fires_at > LATE_AFTER and watch.fires_at >= watch.valid_from
    item = watch.item
    payload: dict[str, Any] = {"watch": watch.watch.value}
    if watch.watch is Watch.CONFIRMATION:
        payload["item"] = item_entry(item, watch.fires_at, base_url)
    notice = _item_notice(watch, late=late, payload=payload)
    if watch.watch is Watch.STALE_OUTCOME:
        to = (
            (OPERATOR_CHANNEL, (operator_recipient(watch.operator),))
            if watch.operator and OPERATOR_CHANNEL in channels.subscriber
            else None
        )
        operator = Channels(services=(to,) if to else ())
        record(session, notice, [], operator, now=now, services=True)
        return
    over = watch.ends_at <= now
    watchers = [
        sub
        for sub in subscribers
        if sub.immediate
        and sub.unsubscribed_at is None
        and sub.confirmed_at is not None
        and sub.concerns(item.treaty, item.kind)
    ]
    record(session, notice, [] if over else watchers, channels, now=now, public=not over)
