"""Countdown boards and agendas assembled from deadlines and meetings. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from tracker.catalog.models import Deadline, Meeting
from tracker.dates import DateWindow
from tracker.views.countdown import Countdown, countdown


@dataclass(frozen=True)
class Entry:
    """One line of a board or agenda: a deadline, or one occurrence of a meeting."""

    type: str
    slug: str
    title: str
    kind: str
    treaty: str | None
    when: DateWindow
    ends: DateWindow | None
    tz: str
    status: str
    countdown: Countdown
    location: str | None = None
    series: str | None = None
    sources: tuple[dict[str, str | None], ...] = ()

    def base(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "slug": self.slug,
            "title": self.title,
            "kind": self.kind,
            "treaty": self.treaty,
            "when": self.when.text,
            "earliest": self.when.earliest.isoformat(),
            "latest": self.when.latest.isoformat(),
            "precision": self.when.precision.value,
            "tz": self.tz,
            "days_remaining": self.countdown.days_remaining,
            "human": self.countdown.human,
        }

    def as_countdown(self) -> dict[str, Any]:
        """The countdown object: ``status`` is the countdown's, the item's is beside it."""
        return {
            **self.base(),
            "status": self.countdown.status.value,
            "item_status": self.status,
            "sources": list(self.sources),
        }

    def as_agenda(self) -> dict[str, Any]:
        return {
            **self.base(),
            "status": self.status,
            "countdown_status": self.countdown.status.value,
            "ends": self.ends.text if self.ends else None,
            "location": self.location,
            "series": self.series,
            "sources": list(self.sources),
        }


def deadline_entry(deadline: Deadline, as_of: datetime) -> Entry:
    return Entry(
        type="deadline",
        slug=deadline.slug,
        title=deadline.title,
        kind=deadline.kind,
        treaty=deadline.treaty.slug if deadline.treaty else None,
        when=deadline.due,
        ends=None,
        tz=deadline.tz,
        status=deadline.status,
        countdown=countdown(deadline.due, as_of, deadline.tz),
        sources=tuple(source.as_dict() for source in deadline.sources),
    )


def meeting_entries(meeting: Meeting, as_of: datetime, start: date, end: date) -> list[Entry]:
    """The meeting, or for a recurring one each occurrence between ``start`` and ``end``."""
    first = meeting.starts
    if first is None:
        return []
    entry = Entry(
        type="meeting",
        slug=meeting.slug,
        title=meeting.title,
        kind=meeting.kind,
        treaty=meeting.treaty.slug if meeting.treaty else None,
        when=first,
        ends=meeting.ends,
        tz=meeting.tz,
        status=meeting.status,
        countdown=countdown(first, as_of, meeting.tz),
        location=meeting.location,
        series=meeting.series,
        sources=tuple(source.as_dict() for source in meeting.sources),
    )
    if not meeting.recurrence:
        return [entry]
    from tracker.recurrence import occurrences  # dateutil.rrule: only for recurring meetings

    length = first.latest - first.earliest
    entries = []
    for day in occurrences(meeting.recurrence, first.earliest, start, end):
        when = replace(first, text=_shifted_text(first, day), earliest=day, latest=day + length)
        entries.append(
            replace(entry, when=when, ends=None, countdown=countdown(when, as_of, meeting.tz))
        )
    return entries


def _shifted_text(first: DateWindow, day: date) -> str:
    if first.at is not None:
        return f"{day.isoformat()}T{first.at:%H:%M}" + (f" {first.tz}" if first.tz else "")
    return day.isoformat()


def agenda(
    deadlines: Iterable[Deadline],
    meetings: Iterable[Meeting],
    as_of: datetime,
    start: date,
    end: date,
) -> list[Entry]:
    """Deadlines and meeting occurrences overlapping ``start``–``end``, in date order."""
    entries = [deadline_entry(deadline, as_of) for deadline in deadlines]
    for meeting in meetings:
        entries.extend(meeting_entries(meeting, as_of, start, end))
    overlapping = [e for e in entries if e.when.earliest <= end and _last_day(e) >= start]
    return sorted(overlapping, key=lambda e: (e.when.earliest, e.when.latest, e.slug))


def _last_day(entry: Entry) -> date:
    return entry.ends.latest if entry.ends else entry.when.latest


def horizon(today: date, within: timedelta | None, default: timedelta) -> date:
    return today + (within if within is not None else default)
