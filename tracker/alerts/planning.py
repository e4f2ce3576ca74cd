"""Alert planning: which alerts an item calls for, and when. Pure: no I/O, no clock.

An alert has a stable identity: the item, the lead time, and the item's date *as
planned* (its canonical text). Moving the date voids the old plan: the new date gives
new identities. Alerts whose instant fell before the item got its current date
(``valid_from``, floored to that local day) are void, so a date moved into the past of
an alert already fired does not fire it again, and seeding history fires nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Protocol, TypeVar

from tracker.dates import DateWindow, format_duration, zone
from tracker.views.items import Item, occurrences_between
from tracker.views.wording import item_summary

RECURRENCE_LOOKBACK = timedelta(days=60)


@dataclass(frozen=True)
class PlannedItem:
    """An item (the views' read model; a recurring meeting with its rule) and what only
    planning needs of it: its lead times, and when it got its current date."""

    item: Item
    leads: tuple[timedelta, ...]
    valid_from: datetime


def plan_key(item: Item) -> str:
    """The item's key in the plan (and in its alerts' identities)."""
    return f"{item.type}:{item.slug}"


def _zone_name(item: Item) -> str:
    return item.when.tz or item.tz


class ItemAlert:
    """What an alert about one item says (its title and body, from ``wording``), its key
    in the plan and when its item ends; lead alerts and watches alike."""

    item: Item

    def wording(self) -> tuple[str, str]:
        raise NotImplementedError

    # Words are computed when an alert is recorded: a plan holds many more alerts
    # (past ones already recorded, future ones) than ever get written.
    @cached_property
    def _words(self) -> tuple[str, str]:
        return self.wording()

    @property
    def title(self) -> str:
        return self._words[0]

    @property
    def body(self) -> str:
        return self._words[1]

    @property
    def key(self) -> str:
        return plan_key(self.item)

    @property
    def ends_at(self) -> datetime:
        return self.item.when.end(self.item.tz)


@dataclass(frozen=True)
class PlannedAlert(ItemAlert):
    """An alert of an item (of a recurring meeting: of one occurrence), and when it fires.
    ``valid_from``: when the item got its current date."""

    identity: str
    item: Item
    lead: timedelta
    fires_at: datetime
    valid_from: datetime

    def wording(self) -> tuple[str, str]:
        return describe(self.item, self.lead, self.fires_at)


def alert_identity(item: Item, lead: timedelta) -> str:
    return f"alert:{item.type}:{item.slug}:{format_duration(lead)}:{item.when.text}"


def fire_instant(when: DateWindow, tz: str, lead: timedelta, local_hour: int) -> datetime:
    """Whole-day leads fire at ``local_hour`` in the item's zone; hour leads count back from
    the item's first instant. Imprecise items count from the window's first day."""
    if lead.seconds == 0 and lead.microseconds == 0:
        day = when.earliest - timedelta(days=lead.days)
        local = datetime.combine(day, time(local_hour), tzinfo=zone(when.tz or tz))
        return local.astimezone(zone("UTC"))
    return (when.start(tz) - lead).astimezone(zone("UTC"))


def describe(item: Item, lead: timedelta, fires_at: datetime) -> tuple[str, str]:
    """The one-line title and the text body of an alert."""
    title = item_summary(item, fires_at)
    lines = [title, "", f"{item.type.capitalize()}: {item.title} ({item.kind})"]
    if item.treaty:
        lines.append(f"Treaty: {item.treaty}")
    lines.append(f"When: {item.when.text} ({_zone_name(item)})")
    lines.append(f"Alert: {format_duration(lead)} before")
    return title, "\n".join(lines) + "\n"


def occurrences_of(planned: PlannedItem, as_of: datetime, horizon: timedelta) -> list[Item]:
    """The item itself, or the occurrences of a recurring meeting inside the horizon (and
    not before it got its current date)."""
    today = as_of.date()
    start = max(planned.valid_from.date(), today - RECURRENCE_LOOKBACK)
    return occurrences_between(planned.item, start, today + horizon)


def plan(
    items: Iterable[PlannedItem], *, local_hour: int, as_of: datetime, horizon: timedelta
) -> list[PlannedAlert]:
    """Every valid alert of the items (past and future), in firing order."""
    alerts = []
    for planned in items:
        valid_from = _day_start(planned.valid_from, _zone_name(planned.item))
        leads = sorted(set(planned.leads), reverse=True)
        for item in occurrences_of(planned, as_of, horizon):
            for lead in leads:
                fires_at = fire_instant(item.when, item.tz, lead, local_hour)
                if fires_at < valid_from:
                    continue
                identity = alert_identity(item, lead)
                alerts.append(PlannedAlert(identity, item, lead, fires_at, planned.valid_from))
    return sorted(alerts, key=lambda alert: (alert.fires_at, alert.identity))


class Timed(Protocol):
    """Anything planned to fire at an instant: a lead alert, a watch."""

    @property
    def fires_at(self) -> datetime: ...


TimedT = TypeVar("TimedT", bound=Timed)


def due(alerts: Sequence[TimedT], as_of: datetime) -> list[TimedT]:
    return [alert for alert in alerts if alert.fires_at <= as_of]


def _day_start(instant: datetime, zone_name: str) -> datetime:
    local_day: date = instant.astimezone(zone(zone_name)).date()
    return datetime.combine(local_day, time(0), tzinfo=zone(zone_name))
