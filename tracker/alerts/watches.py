"""Watch alerts: news that should have come and has not. Pure: no I/O, no clock.

Like a healthchecks grace timer, a watch fires when something expected was not recorded
in time, and never once it was:

- **confirmation**: an item with an imprecise date ("end of September") can say how many
  days before its earliest day a firm date is usually announced (``confirm_lead_days``).
  If by then (at ``alerts.local_hour`` in its zone) its confidence is not ``confirmed``,
  its date is not known to the day and it is still pending or scheduled, the subscribers
  it concerns get one "Expected confirmation missing" alert.
- **stale outcome**: a meeting ``awaiting-outcome`` (ended, no outcome recorded) for more
  than ``alerts.stale_outcome_days`` mails the operator (``alerts.operator_email``) once:
  the tracker's own data is going stale.

Each is planned like a lead alert (its instant goes into the plan under the item's key)
and has an identity of its own (``watch:meeting:<slug>:<earliest day>``,
``stale:meeting:<slug>:<last day>``), so it is recorded once across restarts and
catch-ups; a new date gives a new identity, as for lead alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from tracker.alerts.planning import ItemAlert
from tracker.catalog.lifecycle import meeting_state
from tracker.dates import zone
from tracker.views.items import Item
from tracker.views.wording import one_line

# Recorded statuses under which an item still waits for its firm date.
_WAITING = frozenset({"pending", "scheduled"})
# Recorded statuses a meeting can be awaiting its outcome under.
_AHEAD = frozenset({"scheduled", "postponed"})
# What a stale watch's identity starts with: its notice is the operator's alone.
STALE_PREFIX = "stale:"


class Watch(StrEnum):
    CONFIRMATION = "confirmation"
    STALE_OUTCOME = "stale-outcome"


@dataclass(frozen=True)
class WatchAlert(ItemAlert):
    """A watch of an item, and when it fires. ``valid_from``: when the item got its
    current date; ``operator``: the address a stale-outcome watch goes to."""

    identity: str
    watch: Watch
    item: Item
    fires_at: datetime
    valid_from: datetime
    operator: str | None = None

    def wording(self) -> tuple[str, str]:
        if self.watch is Watch.CONFIRMATION:
            return describe_confirmation(self.item, self.fires_at)
        return describe_stale(self.item, self.fires_at)


def _zone_name(item: Item) -> str:
    return item.when.tz or item.tz


def _at_local_hour(day: date, item: Item, local_hour: int) -> datetime:
    local = datetime.combine(day, time(local_hour), tzinfo=zone(_zone_name(item)))
    return local.astimezone(zone("UTC"))


def _day_start(instant: datetime, item: Item) -> datetime:
    """The start of ``instant``'s day where the item is: a watch that fell due earlier
    that day (before the item got its date) still counts, as for lead alerts."""
    local = instant.astimezone(zone(_zone_name(item)))
    return datetime.combine(local.date(), time(0), tzinfo=zone(_zone_name(item)))


def confirmation_watch(item: Item, valid_from: datetime, local_hour: int) -> WatchAlert | None:
    """The item's expected-confirmation watch, or None: no lead set, its date is exact or
    to be announced, it is confirmed already, it is no longer pending or scheduled, it
    repeats, or the watch fell due before the item got its current date."""
    due = item.confirmation_due
    if (
        due is None
        or item.recurrence
        or item.confidence == "confirmed"
        or item.recorded_status not in _WAITING
    ):
        return None
    fires_at = _at_local_hour(due, item, local_hour)
    if fires_at < _day_start(valid_from, item):
        return None
    identity = f"watch:{item.type}:{item.slug}:{item.when.earliest.isoformat()}"
    return WatchAlert(identity, Watch.CONFIRMATION, item, fires_at, valid_from)


def stale_outcome_watch(
    item: Item, valid_from: datetime, *, days: int, local_hour: int, operator: str
) -> WatchAlert | None:
    """A meeting's stale-outcome watch: ``days`` after the day it stopped being held (the
    day after its last), at ``local_hour``; None for a deadline, a repeating or undated
    meeting, one whose outcome is recorded, or one dated after the watch fell due."""
    if (
        item.type != "meeting"
        or item.recurrence
        or item.when.is_tba
        or item.recorded_status not in _AHEAD
    ):
        return None
    last = item.last_day
    fires_at = _at_local_hour(last + timedelta(days=1 + days), item, local_hour)
    state = meeting_state(item.recorded_status, item.when, item.ends, item.tz, fires_at)
    if state != "awaiting-outcome" or fires_at < _day_start(valid_from, item):
        return None
    identity = f"{STALE_PREFIX}meeting:{item.slug}:{last.isoformat()}"
    return WatchAlert(identity, Watch.STALE_OUTCOME, item, fires_at, valid_from, operator)


def _facts(item: Item) -> list[str]:
    lines = [f"{item.type.capitalize()}: {one_line(item.title)} ({item.kind})"]
    if item.treaty:
        lines.append(f"Treaty: {item.treaty_name or item.treaty}")
    lines.append(f"When: {item.when.text} ({_zone_name(item)})")
    return lines


def describe_confirmation(item: Item, fires_at: datetime) -> tuple[str, str]:
    """The title and text of an expected-confirmation alert."""
    due = item.confirmation_due or fires_at.date()
    title = (
        f"Expected confirmation missing: {one_line(item.title)} — {item.when.text} "
        f"was usually announced by {due.isoformat()}"
    )
    lines = [
        title,
        "",
        *_facts(item),
        f"Confidence: {item.confidence}",
        f"A firm date is usually announced {item.confirm_lead_days} days before "
        f"{item.when.earliest.isoformat()}; none has been recorded yet.",
    ]
    return title, "\n".join(lines) + "\n"


def describe_stale(item: Item, fires_at: datetime) -> tuple[str, str]:
    """The title and text of the operator's stale-outcome alert, with the commands."""
    last = item.last_day
    ago = (fires_at.astimezone(zone(_zone_name(item))).date() - last).days
    title = f"Outcome not recorded: {one_line(item.title)} ended {last.isoformat()}, {ago} days ago"
    lines = [
        title,
        "",
        *_facts(item),
        f"Status: {item.recorded_status}, awaiting its outcome since {last.isoformat()}",
        "",
        "Record it:",
        f"  tracker meeting edit {item.slug} --status held --outcome TEXT",
        f"  (or --status cancelled, or `tracker meeting cancel {item.slug} --postpone "
        "--starts NEW`)",
    ]
    return title, "\n".join(lines) + "\n"
