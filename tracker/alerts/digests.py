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
MAX_CATCH_UP_PERIODS = 31


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


def periods_since(
    frequency: str, *, weekday: str, local_hour: int, tz: str, after: datetime, as_of: datetime
) -> list[Period]:
    """Periods that fell due in ``(after, as_of]``, oldest first (at most a month's worth)."""
    found: list[Period] = []
    moment = as_of
    while len(found) < MAX_CATCH_UP_PERIODS:
        period = latest_period(
            frequency, weekday=weekday, local_hour=local_hour, tz=tz, as_of=moment
        )
        if period is None or period.due_at <= after:
            break
        found.append(period)
        moment = period.due_at - timedelta(seconds=1)
    return found[::-1]


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


@dataclass(frozen=True)
class Happening:
    """An alert or change event that goes into a digest."""

    kind: str
    title: str
    due_at: datetime
    late: bool = False


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

    @property
    def is_empty(self) -> bool:
        return not self.happenings

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
        }

    def text(self) -> str:
        since = f"{self.period.starts_at.astimezone(zone(self.tz)):%Y-%m-%d %H:%M}"
        lines = [self.subject, ""]
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
    return {
        "title": happening.title,
        "due_at": happening.due_at.isoformat(),
        "late": happening.late,
    }


def assemble(
    email: str,
    period: Period,
    happenings: Sequence[Happening],
    *,
    board: Sequence[dict[str, Any]] = (),
    agenda: Sequence[dict[str, Any]] = (),
    tz: str = "UTC",
    undated: Sequence[dict[str, Any]] = (),
) -> Digest:
    ordered = tuple(sorted(happenings, key=lambda h: (h.due_at, h.title)))
    subject = (
        f"Treaty tracker digest {period.key}: {len(ordered)} new"
        if ordered
        else f"Treaty tracker digest {period.key}"
    )
    return Digest(
        identity(email, period),
        subject,
        period,
        ordered,
        tuple(board),
        tuple(agenda),
        tz,
        undated=tuple(undated),
    )


def identity(email: str, period: Period) -> str:
    """The identity of ``email``'s digest of ``period``: one per subscriber and period."""
    return f"digest:{email}:{period.key}"
