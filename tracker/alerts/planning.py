"""Alert planning: which alerts an item calls for, and when. Pure: no I/O, no clock.

An alert has a stable identity: the item, the lead time, and the item's date *as
planned* (its canonical text). Moving the date voids the old plan: the new date gives
new identities. Alerts whose instant fell before the item got its current date
(``valid_from``, floored to that local day) are void, so a date moved into the past of
an alert already fired does not fire it again, and seeding history fires nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property

from tracker.dates import DateWindow, format_duration, zone
from tracker.recurrence import occurrences
from tracker.views.wording import when_phrase

RECURRENCE_LOOKBACK = timedelta(days=60)


@dataclass(frozen=True)
class Plannable:
    """A deadline or meeting, reduced to what planning needs."""

    type: str
    slug: str
    title: str
    kind: str
    treaty: str | None
    when: DateWindow
    tz: str
    leads: tuple[timedelta, ...]
    valid_from: datetime
    recurrence: str | None = None

    @property
    def zone_name(self) -> str:
        return self.when.tz or self.tz

    @property
    def key(self) -> str:
        """The item's key in the plan (and in its alerts' identities)."""
        return f"{self.type}:{self.slug}"


@dataclass(frozen=True)
class PlannedAlert:
    identity: str
    item: Plannable
    lead: timedelta
    fires_at: datetime

    # Words are computed when an alert is recorded: a plan holds many more alerts
    # (past ones already recorded, future ones) than ever get written.
    @cached_property
    def _words(self) -> tuple[str, str]:
        return describe(self.item, self.lead, self.fires_at)

    @property
    def title(self) -> str:
        return self._words[0]

    @property
    def body(self) -> str:
        return self._words[1]

    @property
    def occurs_at(self) -> datetime:
        return self.item.when.start(self.item.tz)

    @property
    def ends_at(self) -> datetime:
        return self.item.when.end(self.item.tz)


def alert_identity(item: Plannable, lead: timedelta) -> str:
    return f"alert:{item.type}:{item.slug}:{format_duration(lead)}:{item.when.text}"


def fire_instant(when: DateWindow, tz: str, lead: timedelta, local_hour: int) -> datetime:
    """Whole-day leads fire at ``local_hour`` in the item's zone; hour leads count back from
    the item's first instant. Imprecise items count from the window's first day."""
    if lead.seconds == 0 and lead.microseconds == 0:
        day = when.earliest - timedelta(days=lead.days)
        local = datetime.combine(day, time(local_hour), tzinfo=zone(when.tz or tz))
        return local.astimezone(zone("UTC"))
    return (when.start(tz) - lead).astimezone(zone("UTC"))


def describe(item: Plannable, lead: timedelta, fires_at: datetime) -> tuple[str, str]:
    """The one-line title and the text body of an alert."""
    title = f"{item.title}: {when_phrase(item.when, item.tz, fires_at)}"
    lines = [title, "", f"{item.type.capitalize()}: {item.title} ({item.kind})"]
    if item.treaty:
        lines.append(f"Treaty: {item.treaty}")
    lines.append(f"When: {item.when.text} ({item.zone_name})")
    lines.append(f"Alert: {format_duration(lead)} before")
    return " ".join(title.split()), "\n".join(lines) + "\n"


def occurrences_of(item: Plannable, as_of: datetime, horizon: timedelta) -> list[Plannable]:
    """The item itself, or the occurrences of a recurring meeting inside the horizon."""
    if not item.recurrence:
        return [item]
    today = as_of.date()
    start = max(item.valid_from.date(), today - RECURRENCE_LOOKBACK)
    length = item.when.latest - item.when.earliest
    result = []
    for day in occurrences(item.recurrence, item.when.earliest, start, today + horizon):
        text = day.isoformat()
        if item.when.at is not None:
            text = f"{text}T{item.when.at:%H:%M}" + (f" {item.when.tz}" if item.when.tz else "")
        when = replace(item.when, text=text, earliest=day, latest=day + length)
        result.append(replace(item, when=when, recurrence=None))
    return result


def plan(
    items: Iterable[Plannable], *, local_hour: int, as_of: datetime, horizon: timedelta
) -> list[PlannedAlert]:
    """Every valid alert of the items (past and future), in firing order."""
    alerts = []
    for base in items:
        valid_from = _day_start(base.valid_from, base.zone_name)
        for item in occurrences_of(base, as_of, horizon):
            for lead in sorted(set(item.leads), reverse=True):
                fires_at = fire_instant(item.when, item.tz, lead, local_hour)
                if fires_at < valid_from:
                    continue
                alerts.append(PlannedAlert(alert_identity(item, lead), item, lead, fires_at))
    return sorted(alerts, key=lambda alert: (alert.fires_at, alert.identity))


def due(alerts: Sequence[PlannedAlert], as_of: datetime) -> list[PlannedAlert]:
    return [alert for alert in alerts if alert.fires_at <= as_of]


def _day_start(instant: datetime, zone_name: str) -> datetime:
    local_day: date = instant.astimezone(zone(zone_name)).date()
    return datetime.combine(local_day, time(0), tzinfo=zone(zone_name))
