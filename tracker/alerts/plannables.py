"""The catalogue's deadlines and meetings as planning sees them, and their alerts.

Two ways to choose the items: those within reach (that can call for an alert before the
next sweep: the sweep's choice), or those that plan rows name (an edit, or an item's next
alert instant come due). Either way only pending deadlines and scheduled meetings, and
only within reach: an item further ahead than its longest lead is the next sweep's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from tracker.alerts import planning
from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert, PlannedItem, plan_key
from tracker.alerts.subscribers import subscriber_leads
from tracker.alerts.watches import WatchAlert, confirmation_watch, stale_outcome_watch
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.dates import parse_durations
from tracker.settings import AlertSettings
from tracker.views.items import deadline_item, meeting_item

DATE_FIELDS = ("created", "due", "starts", "recurrence")
# The sweep plans every item within reach once a day; the reach holds two days more.
SWEEP_EVERY = timedelta(days=1)


@lru_cache(maxsize=256)
def _leads(text: str) -> tuple[timedelta, ...]:
    """Parsed once per text: a sweep reads the same few texts on thousands of rows."""
    return tuple(parse_durations(text))


def leads_of(text: str | None, default: Sequence[str]) -> tuple[timedelta, ...]:
    return _leads(text or ",".join(default))


def _named(
    only: Collection[str] | None, kind: str, column: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """Those ``only`` names of this kind (``meeting:<slug>``), or all."""
    if only is None:
        return true()
    return column.in_([key.split(":", 1)[1] for key in only if key.startswith(kind + ":")])


def rows(model: type[Deadline | Meeting]) -> Select[Any]:
    """The model's columns, with its treaty's slug."""
    treaty = Treaty.slug.label("treaty_slug")
    return select(model.__table__, treaty).outerjoin(Treaty, model.treaty_id == Treaty.id)


def plannables(
    session: Session,
    settings: AlertSettings,
    today_floor: datetime,
    extra_leads: Sequence[timedelta] = (),
    *,
    only: Collection[str] | None = None,
) -> list[PlannedItem]:
    """Pending deadlines and scheduled meetings that can call for an alert by tomorrow
    (of those ``only`` names as ``deadline:<slug>``/``meeting:<slug>``, when given).

    An item further ahead than its longest lead cannot, so the work follows the alerts
    coming due, not the size of the schedule; items with their own leads and recurring
    meetings are always within reach (they are few). Rows are read as columns, with their
    treaty's slug: an item's sources and the rest of its treaty are not planned with."""
    since = (today_floor - planning.RECURRENCE_LOOKBACK).date()

    def reach(leads: Sequence[str]) -> date:
        longest = max([*parse_durations(",".join(leads)), *extra_leads])
        return (today_floor + longest + 2 * SWEEP_EVERY).date()

    def named(kind: str, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        return _named(only, kind, column)

    deadlines = session.execute(
        rows(Deadline).where(
            named("deadline", Deadline.slug),
            Deadline.status == "pending",
            Deadline.due_latest >= since,
            or_(
                Deadline.due_earliest <= reach(settings.deadline_leads),
                Deadline.alert_leads.is_not(None),
                Deadline.confirm_lead_days.is_not(None),
            ),
        )
    ).all()
    meetings = session.execute(
        rows(Meeting).where(
            named("meeting", Meeting.slug),
            Meeting.status == "scheduled",
            Meeting.starts_earliest.is_not(None),
            or_(
                Meeting.starts_earliest <= reach(settings.meeting_leads),
                Meeting.recurrence.is_not(None),
                Meeting.alert_leads.is_not(None),
                Meeting.confirm_lead_days.is_not(None),
            ),
        )
    ).all()
    dated = _dated_at(session, "deadline", [d.id for d in deadlines])
    dated |= _dated_at(session, "meeting", [m.id for m in meetings])
    items = []
    for type_, found, build, default in (
        ("deadline", deadlines, deadline_item, settings.deadline_leads),
        ("meeting", meetings, meeting_item, settings.meeting_leads),
    ):
        for row in found:
            item = build(
                row, today_floor, treaty=row.treaty_slug, confirm_lead_days=row.confirm_lead_days
            )
            if item is None or (not item.recurrence and item.when.latest < since):
                continue
            valid_from = max(row.created_at, dated.get(f"{type_}:{row.id}", row.created_at))
            items.append(PlannedItem(item, leads_of(row.alert_leads, default), valid_from))
    return items


def awaiting_outcome(
    session: Session,
    settings: AlertSettings,
    today_floor: datetime,
    *,
    only: Collection[str] | None = None,
) -> list[PlannedItem]:
    """Meetings whose stale-outcome watch can fall due by tomorrow (none when there is no
    operator to tell): recorded scheduled or postponed, not repeating, their last day
    behind or within the next two days, and not further behind than the lookback and the
    grace days. Their leads are not planned (empty)."""
    if not settings.operator_email:
        return []
    today = today_floor.date()
    since = today - planning.RECURRENCE_LOOKBACK - timedelta(days=settings.stale_outcome_days)
    last_day = func.coalesce(Meeting.ends_latest, Meeting.starts_latest)
    found = session.execute(
        rows(Meeting).where(
            _named(only, "meeting", Meeting.slug),
            Meeting.status.in_(("scheduled", "postponed")),
            Meeting.recurrence.is_(None),
            Meeting.starts_earliest.is_not(None),
            and_(last_day >= since, last_day <= today + 2 * SWEEP_EVERY),
        )
    ).all()
    dated = _dated_at(session, "meeting", [m.id for m in found])
    items = []
    for row in found:
        item = meeting_item(row, today_floor, treaty=row.treaty_slug)
        valid_from = max(row.created_at, dated.get(f"meeting:{row.id}", row.created_at))
        items.append(PlannedItem(item, (), valid_from))
    return items


def watches(
    items: Sequence[PlannedItem], awaiting: Sequence[PlannedItem], settings: AlertSettings
) -> list[WatchAlert]:
    """The expected-confirmation watches of ``items`` and the stale-outcome watches of the
    meetings ``awaiting`` their outcome (:mod:`tracker.alerts.watches`)."""
    hour = settings.local_hour
    found = [
        watch
        for planned in items
        if (watch := confirmation_watch(planned.item, planned.valid_from, hour)) is not None
    ]
    operator = settings.operator_email
    if operator:
        days = settings.stale_outcome_days
        found += [
            watch
            for planned in awaiting
            if (
                watch := stale_outcome_watch(
                    planned.item, planned.valid_from, days=days, local_hour=hour, operator=operator
                )
            )
            is not None
        ]
    return found


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


def plan(
    items: Sequence[PlannedItem],
    settings: AlertSettings,
    subscribers: Sequence[Subscriber],
    now: datetime,
) -> list[PlannedAlert]:
    """All valid alerts: items' own leads and every subscriber's leads."""
    extra = tuple(sorted(subscriber_leads(subscribers)))
    items = [replace(item, leads=tuple(set(item.leads) | set(extra))) for item in items]
    return planning.plan(
        items,
        local_hour=settings.local_hour,
        as_of=now,
        horizon=timedelta(days=settings.recurrence_horizon_days),
    )


@dataclass(frozen=True)
class AlertPlan:
    """Every valid alert of the items planned (lead alerts and watches, in firing order),
    and each item's own leads (keyed by its plan key, ``deadline:<slug>``)."""

    alerts: list[PlannedAlert | WatchAlert]
    own: dict[str, set[timedelta]] = field(default_factory=dict)

    def next_instants(self, now: datetime) -> dict[str, datetime]:
        """Each item's first alert instant after ``now`` (items with none left out)."""
        found: dict[str, datetime] = {}
        for alert in self.alerts:  # in firing order: the first seen is the earliest
            if alert.fires_at > now:
                found.setdefault(alert.key, alert.fires_at)
        return found


def plan_alerts(
    session: Session,
    settings: AlertSettings,
    now: datetime,
    subscribers: Sequence[Subscriber],
    *,
    only: Collection[str] | None = None,
) -> AlertPlan:
    """The alerts of the items within reach (of those ``only`` names, when given)."""
    items = plannables(session, settings, now, sorted(subscriber_leads(subscribers)), only=only)
    own = {plan_key(planned.item): set(planned.leads) for planned in items}
    alerts: list[PlannedAlert | WatchAlert] = [*plan(items, settings, subscribers, now)]
    alerts += watches(items, awaiting_outcome(session, settings, now, only=only), settings)
    alerts.sort(key=lambda alert: (alert.fires_at, alert.identity))
    return AlertPlan(alerts, own)
