"""Digests: their periods, what goes in them, and their text. Pure: no I/O, no clock.

A period is named by its local day (daily) or ISO week (weekly) in the subscriber's
zone, so the digest for a period has a stable identity and is built and sent once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from tracker.dates import zone
from tracker.settings import DigestSettings
from tracker.views.wording import confidence_phrase, one_line, status_phrase


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    NONE = "none"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Period:
    key: str
    starts_at: datetime
    due_at: datetime


def _due(day: Any, hour: int, tz: str) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone(tz)).astimezone(zone("UTC"))


def latest_period(
    frequency: str, *, weekday: str, local_hour: int, tz: str, as_of: datetime
) -> Period | None:
    """The most recent period whose digest fell due at or before ``as_of``."""
    if frequency not in ("daily", "weekly"):
        return None
    step = timedelta(days=1 if frequency == "daily" else 7)
    day = as_of.astimezone(zone(tz)).date()
    if frequency == "weekly":
        day -= timedelta(days=(day.weekday() - WEEKDAYS.index(weekday)) % 7)
    if _due(day, local_hour, tz) > as_of:
        day -= step
    year, week, _ = day.isocalendar()
    key = day.isoformat() if frequency == "daily" else f"{year}-W{week:02d}"
    return Period(key, _due(day - step, local_hour, tz), _due(day, local_hour, tz))


def next_period_due(
    frequency: str, settings: DigestSettings, tz: str, *, after: datetime
) -> datetime | None:
    """When the first period after ``after`` falls due with the global day and hour."""
    return Schedule(frequency, settings.weekday, settings.local_hour, tz, False).next_due(after)


WEEKDAY_NAMES = {day[:3]: day for day in WEEKDAYS} | {day: day for day in WEEKDAYS}


@dataclass(frozen=True)
class Schedule:
    """A subscriber's digest schedule as it applies: their own choices, and the global
    ``[digest]`` settings for what they left to them (see :meth:`of`)."""

    frequency: str
    weekday: str
    local_hour: int
    tz: str
    empty: bool  # send a digest with nothing in it ("nothing new")

    @classmethod
    def of(
        cls,
        defaults: DigestSettings,
        frequency: str,
        tz: str,
        weekday: str | None = None,
        local_hour: int | None = None,
        empty: bool | None = None,
    ) -> Schedule:
        """A stored choice (None: follow ``defaults``) resolved against ``defaults``."""
        return cls(
            frequency,
            weekday or defaults.weekday,
            defaults.local_hour if local_hour is None else local_hour,
            tz,
            defaults.send_when_empty if empty is None else empty,
        )

    @property
    def key(self) -> str:
        """The plan's key of the group of subscribers whose periods fall due together."""
        day = self.weekday[:3] if self.frequency == "weekly" else "*"
        return f"{self.frequency}:{day}:{self.local_hour:02d}:{self.tz}"

    def words(self) -> str:
        """'weekly on friday at 08:00 Asia/Tokyo', 'daily at 08:00 UTC', 'none'."""
        if self.frequency not in ("daily", "weekly"):
            return "none"
        on = f" on {self.weekday}" if self.frequency == "weekly" else ""
        return f"{self.frequency}{on} at {self.local_hour:02d}:00 {self.tz}"

    def latest(self, as_of: datetime) -> Period | None:
        """The most recent period whose digest fell due at or before ``as_of``."""
        return latest_period(
            self.frequency,
            weekday=self.weekday,
            local_hour=self.local_hour,
            tz=self.tz,
            as_of=as_of,
        )

    def next_due(self, after: datetime) -> datetime | None:
        """When the first period after ``after`` falls due (periods are a day or a week
        apart, give or take a daylight-saving hour, so at most two fall in the probe)."""
        step = timedelta(days=7 if self.frequency == "weekly" else 1)
        probe, found = after + step + timedelta(hours=2), None
        while True:
            period = self.latest(probe)
            if period is None or period.due_at <= after:
                return found
            found, probe = period.due_at, period.due_at - timedelta(seconds=1)


@dataclass(frozen=True)
class Happening:
    """An alert or change event that goes into a digest."""

    kind: str
    title: str
    due_at: datetime
    late: bool = False
    link: str | None = None  # its item's page


@dataclass(frozen=True)
class Digest:
    identity: str
    subject: str
    period: Period
    happenings: tuple[Happening, ...]
    board: tuple[dict[str, Any], ...] = ()
    agenda: tuple[dict[str, Any], ...] = ()
    tz: str = "UTC"
    notes: tuple[str, ...] = field(default=())
    undated: tuple[dict[str, Any], ...] = ()  # deadlines and meetings whose date is TBA
    changes_link: str | None = None  # the page of every change since the period began

    @property
    def is_empty(self) -> bool:
        """Nothing in it: no alerts, changes, countdowns, meetings ahead or undated items."""
        return not (self.happenings or self.board or self.agenda or self.undated)

    def payload(self) -> dict[str, Any]:
        """The structured digest for notifiers that render rich formats (HTML email)."""
        return {
            "period": self.period.key,
            "since": self.period.starts_at.isoformat(),
            "until": self.period.due_at.isoformat(),
            "alerts": [_happening(h) for h in self.happenings if h.kind == "alert"],
            "changes": [_happening(h) for h in self.happenings if h.kind == "change"],
            "board": list(self.board),
            "agenda": list(self.agenda),
            "undated": list(self.undated),
        } | ({"changes_link": self.changes_link} if self.changes_link else {})

    def text(self) -> str:
        since = f"{self.period.starts_at.astimezone(zone(self.tz)):%Y-%m-%d %H:%M}"
        lines = [self.subject, ""]
        if self.is_empty:  # sent only to those who asked for empty digests
            return (
                f"{self.subject}\n\nNothing new since {since}: no alerts, changes, "
                "deadlines or meetings ahead for you.\n"
            )
        sections = (("Alerts", "alert"), ("Changes", "change"))
        for heading, kind in sections:
            items = [h for h in self.happenings if h.kind == kind]
            lines.append(f"{heading} since {since}:")
            lines += [f"  - {h.title}" + (" (late)" if h.late else "") for h in items]
            lines += ["  (none)"] if not items else []
            lines.append("")
        lines.append("Countdown:")
        lines += [
            f"  {e['when']:<28} {e['human']:<24} {e['title']}{_standing(e)}" for e in self.board
        ]
        lines += ["  (no upcoming deadlines)"] if not self.board else []
        lines += ["", "Meetings ahead:"]
        lines += [
            f"  {e['when']:<28} {e['title']}"
            + (f" — {e['location']}" if e.get("location") else "")
            + _standing(e)
            for e in self.agenda
        ]
        lines += ["  (no meetings scheduled)"] if not self.agenda else []
        if self.undated:  # a short section, only when something waits for its date
            lines += ["", "Date to be announced:"]
            lines += [f"  {e['title']}{_standing(e)}" for e in self.undated]
        return "\n".join(lines) + "\n"


def _standing(entry: dict[str, Any]) -> str:
    """`` [in session; expected — by treaty schedule or pattern]``: an item's state (as the
    JSON vocabulary's ``status`` has it) and how sure its date is."""
    said = [status_phrase(entry["status"])] if entry.get("status") else []
    if entry.get("confidence"):
        said.append(confidence_phrase(entry["confidence"]))
    return f" [{one_line('; '.join(said))}]" if said else ""


def _happening(happening: Happening) -> dict[str, Any]:
    said = {
        "title": happening.title,
        "due_at": happening.due_at.isoformat(),
        "late": happening.late,
    }
    return said | ({"link": happening.link} if happening.link else {})


def assemble(
    email: str,
    period: Period,
    happenings: Sequence[Happening],
    *,
    board: Sequence[dict[str, Any]] = (),
    agenda: Sequence[dict[str, Any]] = (),
    tz: str = "UTC",
    undated: Sequence[dict[str, Any]] = (),
    changes_link: str | None = None,
) -> Digest:
    ordered = tuple(sorted(happenings, key=lambda h: (h.due_at, h.title)))
    subject = f"Treaty tracker digest {period.key}"
    if ordered:
        subject += f": {len(ordered)} new"
    elif not (board or agenda or undated):
        subject += ": nothing new"
    return Digest(
        identity(email, period),
        subject,
        period,
        ordered,
        tuple(board),
        tuple(agenda),
        tz,
        undated=tuple(undated),
        changes_link=changes_link,
    )


def identity(email: str, period: Period) -> str:
    """The identity of ``email``'s digest of ``period``: one per subscriber and period."""
    return f"digest:{email}:{period.key}"
