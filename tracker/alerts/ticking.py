"""What the daemon remembers between ticks, so that a quiet tick costs a few small queries.

A full pass plans every alert that can fall due soon (``recording.plan_alerts``), records
those due, and keeps the ones firing within the next ``REPLAN``; the ticks in between
only record the kept alerts as they fall due, so their cost follows the alerts coming
due, not the size of the schedule. Whatever can change a plan makes the next tick a
full pass: a new history row (every edit of a deadline or meeting writes one), a treaty
edit, any change to a subscriber row, new settings (a new worker), or the kept interval
running out. The interval also bounds how late a change can be noticed when the marks
cannot see it (a history row committed far out of id order on PostgreSQL).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.alerts.digest import latest_period
from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert
from tracker.alerts.recording import AlertPlan
from tracker.catalog.models import Change
from tracker.catalog.treaties import Treaty
from tracker.settings import DigestSettings

REPLAN = timedelta(hours=1)


@dataclass(frozen=True)
class Mark:
    """What a plan was made from, in a few cheap aggregates."""

    last_change: int | None
    recent_changes: int | None
    treaties: datetime | None
    subscribers: int


def mark(session: Session) -> Mark:
    last = session.scalar(select(func.max(Change.id)))
    # Counting the newest ids (not the whole table, which is slow at scale) also sees a
    # row that committed after a higher id, as PostgreSQL sequences allow.
    count = session.scalar(select(func.count(Change.id)).where(Change.id > (last or 0) - 1000))
    treaties = session.scalar(select(func.max(Treaty.updated_at)))
    # Subscribers have no updated_at; their rows are few, so their content is the mark.
    rows = session.execute(text("SELECT * FROM subscribers ORDER BY id")).all()
    return Mark(last, count, treaties, hash(repr(rows)))


@dataclass
class Memory:
    """The plan kept between ticks: alerts firing in ``(made_at, until]``, in order."""

    mark: Mark | None = None
    until: datetime | None = None
    upcoming: list[PlannedAlert] = field(default_factory=list)
    own: dict[str, set[timedelta]] = field(default_factory=dict)
    digests_at: datetime | None = None  # the next instant a digest falls due

    def stale(self, seen: Mark, now: datetime) -> bool:
        return seen != self.mark or self.until is None or now > self.until

    def keep(self, seen: Mark, planned: AlertPlan, now: datetime) -> None:
        self.mark, self.until, self.own = seen, now + REPLAN, planned.own
        self.upcoming = [a for a in planned.alerts if now < a.fires_at <= self.until]

    def due(self, now: datetime) -> list[PlannedAlert]:
        return self.upcoming[: bisect_right(self.upcoming, now, key=lambda a: a.fires_at)]

    def taken(self, now: datetime) -> None:
        """The alerts due by ``now`` are recorded (their transaction committed)."""
        del self.upcoming[: len(self.due(now))]

    def next_at(self) -> datetime | None:
        instants = [self.upcoming[0].fires_at] if self.upcoming else []
        if self.digests_at is not None:
            instants.append(self.digests_at)
        return min(instants, default=None)


def next_digest_at(session: Session, settings: DigestSettings) -> datetime | None:
    """The first instant at which some subscriber's next digest falls due."""
    rows = session.execute(
        select(
            Subscriber.digest, Subscriber.tz, Subscriber.digest_through, Subscriber.created_at
        ).where(Subscriber.digest != "none")
    )
    instants = [
        next_period_due(frequency, settings, tz, after=through or created)
        for frequency, tz, through, created in rows
    ]
    return min((i for i in instants if i is not None), default=None)


def next_period_due(
    frequency: str, settings: DigestSettings, tz: str, *, after: datetime
) -> datetime | None:
    """When the first period after ``after`` falls due (periods are a day or a week
    apart, give or take a daylight-saving hour, so at most two fall in the probe)."""
    step = timedelta(days=7 if frequency == "weekly" else 1)
    probe, found = after + step + timedelta(hours=2), None
    while True:
        period = latest_period(
            frequency,
            weekday=settings.weekday,
            local_hour=settings.local_hour,
            tz=tz,
            as_of=probe,
        )
        if period is None or period.due_at <= after:
            return found
        found, probe = period.due_at, period.due_at - timedelta(seconds=1)
