"""Turning the schedule into outbox events: due alerts (with catch-up) and change events."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tracker.alerts import planning
from tracker.alerts.models import Subscriber
from tracker.alerts.planning import Plannable, PlannedAlert
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.dates import format_duration, parse_durations
from tracker.outbox.entries import Channels, NewNotice, record
from tracker.outbox.models import Notice, NoticeKind
from tracker.settings import AlertSettings

# An alert recorded more than this after its instant is marked late.
LATE_AFTER = timedelta(minutes=5)
DATE_FIELDS = ("created", "due", "starts", "recurrence")


def leads_of(text: str | None, default: Sequence[str]) -> tuple[timedelta, ...]:
    return tuple(parse_durations(text or ",".join(default)))


def plannables(
    session: Session,
    settings: AlertSettings,
    today_floor: datetime,
    extra_leads: Sequence[timedelta] = (),
) -> list[Plannable]:
    """Pending deadlines and scheduled meetings that can call for an alert by tomorrow.

    An item further ahead than its longest lead cannot, so the tick's cost follows the
    alerts coming due, not the size of the schedule; items with their own leads and
    recurring meetings are always planned (they are few)."""
    since = (today_floor - planning.RECURRENCE_LOOKBACK).date()

    def reach(leads: Sequence[str]) -> date:
        longest = max([*parse_durations(",".join(leads)), *extra_leads])
        return (today_floor + longest + timedelta(days=2)).date()

    deadlines = list(
        session.scalars(
            select(Deadline).where(
                Deadline.status == "pending",
                Deadline.due_latest >= since,
                or_(
                    Deadline.due_earliest <= reach(settings.deadline_leads),
                    Deadline.alert_leads.is_not(None),
                ),
            )
        )
    )
    meetings = list(
        session.scalars(
            select(Meeting).where(
                Meeting.status == "scheduled",
                Meeting.starts_earliest.is_not(None),
                or_(
                    Meeting.starts_earliest <= reach(settings.meeting_leads),
                    Meeting.recurrence.is_not(None),
                    Meeting.alert_leads.is_not(None),
                ),
            )
        )
    )
    dated = _dated_at(session, "deadline", [d.id for d in deadlines])
    dated |= _dated_at(session, "meeting", [m.id for m in meetings])
    items = []
    for d in deadlines:
        items.append(
            Plannable(
                "deadline",
                d.slug,
                d.title,
                d.kind,
                d.treaty.slug if d.treaty else None,
                d.due,
                d.tz,
                leads_of(d.alert_leads, settings.deadline_leads),
                max(d.created_at, dated.get(f"deadline:{d.id}", d.created_at)),
            )
        )
    for m in meetings:
        starts = m.starts
        if starts is None or (not m.recurrence and starts.latest < since):
            continue
        items.append(
            Plannable(
                "meeting",
                m.slug,
                m.title,
                m.kind,
                m.treaty.slug if m.treaty else None,
                starts,
                m.tz,
                leads_of(m.alert_leads, settings.meeting_leads),
                max(m.created_at, dated.get(f"meeting:{m.id}", m.created_at)),
                m.recurrence,
            )
        )
    return items


def _dated_at(session: Session, kind: str, ids: list[int]) -> dict[str, datetime]:
    """When each item last got its date (its latest date change or its creation)."""
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(Change.subject_id, func.max(Change.recorded_at))
            .where(
                Change.subject_type == kind,
                Change.subject_id.in_(ids[start : start + 500]),
                Change.field.in_(DATE_FIELDS),
            )
            .group_by(Change.subject_id)
        )
        found |= {f"{kind}:{subject_id}": when for subject_id, when in session.execute(query)}
    return found


def subscriber_leads(subscribers: Sequence[Subscriber]) -> set[timedelta]:
    return {lead for sub in subscribers if sub.leads for lead in parse_durations(sub.leads)}


def plan(
    items: Sequence[Plannable],
    settings: AlertSettings,
    subscribers: Sequence[Subscriber],
    now: datetime,
) -> list[PlannedAlert]:
    """All valid alerts: items' own leads and every subscriber's leads."""
    extra = tuple(sorted(subscriber_leads(subscribers)))
    items = [
        Plannable(**{**vars(item), "leads": tuple(set(item.leads) | set(extra))}) for item in items
    ]
    return planning.plan(
        items,
        local_hour=settings.local_hour,
        as_of=now,
        horizon=timedelta(days=settings.recurrence_horizon_days),
    )


def recipients(
    alert: PlannedAlert, own_leads: set[timedelta], subscribers: Sequence[Subscriber]
) -> list[Subscriber]:
    """Immediate subscribers concerned by the item and wanting this lead time."""
    chosen = []
    for sub in subscribers:
        wanted = set(parse_durations(sub.leads)) if sub.leads else own_leads
        if (
            sub.immediate
            and alert.lead in wanted
            and sub.concerns(alert.item.treaty, alert.item.kind)
        ):
            chosen.append(sub)
    return chosen


@dataclass(frozen=True)
class AlertPlan:
    """Every valid alert of the items that can fall due by tomorrow, and each item's own
    leads (keyed by slug and type)."""

    alerts: list[PlannedAlert]
    own: dict[str, set[timedelta]]


def plan_alerts(session: Session, settings: AlertSettings, now: datetime) -> AlertPlan:
    subscribers = list(session.scalars(select(Subscriber).order_by(Subscriber.id)))
    items = plannables(session, settings, now, sorted(subscriber_leads(subscribers)))
    own = {item.slug + item.type: set(item.leads) for item in items}
    return AlertPlan(plan(items, settings, subscribers, now), own)


def record_alerts(
    session: Session,
    candidates: Sequence[PlannedAlert],
    own: dict[str, set[timedelta]],
    channels: Channels,
    now: datetime,
) -> tuple[int, int]:
    """Record those of ``candidates`` (alerts due by ``now``) not recorded yet; those of
    items already over are folded into one "while the tracker was down" summary per
    subscriber. Says how many were recorded and how many of them folded."""
    recorded = _recorded(session, [a.identity for a in candidates])
    due = [a for a in candidates if a.identity not in recorded]
    if not due:
        return 0, 0
    subscribers = list(session.scalars(select(Subscriber).order_by(Subscriber.id)))
    folded: list[PlannedAlert] = []
    for alert in due:
        own_leads = own.get(alert.item.slug + alert.item.type, set())
        over = alert.ends_at <= now
        # An alert that fell due before its item got this date could not have gone out.
        late = now - alert.fires_at > LATE_AFTER and alert.fires_at >= alert.item.valid_from
        record(
            session,
            _event(alert, late=late),
            [] if over else recipients(alert, own_leads, subscribers),
            channels,
            now=now,
            broadcast=not over and alert.lead in own_leads,
        )
        if over:
            folded.append(alert)
    if folded:
        _record_summaries(session, folded, own, subscribers, channels, now)
    return len(due), len(folded)


def _recorded(session: Session, identities: list[str]) -> set[str]:
    """Which of these alerts are in the outbox already: one query per 500."""
    found: set[str] = set()
    for start in range(0, len(identities), 500):
        chunk = identities[start : start + 500]
        found |= set(session.scalars(select(Notice.identity).where(Notice.identity.in_(chunk))))
    return found


def _event(alert: PlannedAlert, *, late: bool) -> NewNotice:
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
        lead=format_duration(alert.lead),
    )


def _record_summaries(
    session: Session,
    folded: Sequence[PlannedAlert],
    own: dict[str, set[timedelta]],
    subscribers: Sequence[Subscriber],
    channels: Channels,
    now: datetime,
) -> None:
    digest = hashlib.sha1("\n".join(a.identity for a in folded).encode()).hexdigest()[:12]
    audiences: list[tuple[str, list[Subscriber], list[PlannedAlert]]] = [
        ("*", [], [a for a in folded if a.lead in own.get(a.item.slug + a.item.type, set())])
    ]
    for sub in subscribers:
        mine = [
            a
            for a in folded
            if sub in recipients(a, own.get(a.item.slug + a.item.type, set()), [sub])
        ]
        audiences.append((str(sub.id), [sub], mine))
    for who, subs, mine in audiences:
        if not mine:
            continue
        title = f"While the tracker was down: {len(mine)} alert(s) for items now past"
        body = (
            title
            + "\n\n"
            + "\n".join(f"- {a.title} (due {a.fires_at:%Y-%m-%d %H:%M} UTC)" for a in mine)
            + "\n"
        )
        record(
            session,
            NewNotice(
                identity=f"catch-up:{digest}:{who}",
                kind=NoticeKind.ALERT.value,
                title=title,
                body=body,
                due_at=now,
                late=True,
            ),
            subs,
            channels,
            now=now,
            broadcast=who == "*",
        )
