"""Adding, editing and removing deadlines and meetings; every change goes into history.

Each function validates everything first and raises :class:`InvalidInput` before
touching the session, so a refused command changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.errors import InvalidInput
from tracker.recurrence import validate_rule
from tracker.schedule import queries
from tracker.schedule.history import apply_changes, record, source_for_url, unique_slug
from tracker.schedule.models import (
    Change,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    stable_uid,
)

UNSET: Any = object()


@dataclass
class DeadlineFields:
    """Validated values for a deadline; UNSET means 'leave as it is'."""

    title: Any = UNSET
    due: Any = UNSET
    treaty: Any = UNSET
    kind: Any = UNSET
    status: Any = UNSET
    alert_leads: Any = UNSET
    notes: Any = UNSET
    tz: Any = UNSET

    @classmethod
    def parse(
        cls,
        *,
        title: str | None = None,
        due: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        alert: str | None = None,
        note: str | None = None,
        tz: str | None = None,
    ) -> DeadlineFields:
        fields = cls()
        if title is not None:
            fields.title = text.title(title)
        if due is not None:
            fields.due = dates.parse(due)
        if kind is not None:
            fields.kind = text.choice(kind, DeadlineKind, "deadline kind")
        if status is not None:
            fields.status = text.choice(status, DeadlineStatus, "deadline status")
        if alert is not None:
            fields.alert_leads = ",".join(
                dates.format_duration(lead) for lead in dates.parse_durations(alert)
            )
        if note is not None:
            fields.notes = text.note(note)
        if tz is not None:
            fields.tz = dates.parse_zone(tz)
        return fields

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not UNSET}


@dataclass
class MeetingFields:
    title: Any = UNSET
    starts: Any = UNSET
    ends: Any = UNSET
    tz: Any = UNSET
    location: Any = UNSET
    series: Any = UNSET
    kind: Any = UNSET
    treaty: Any = UNSET
    status: Any = UNSET
    recurrence: Any = UNSET
    outcome: Any = UNSET
    alert_leads: Any = UNSET
    delegations: Any = UNSET
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        *,
        title: str | None = None,
        starts: str | None = None,
        ends: str | None = None,
        tz: str | None = None,
        location: str | None = None,
        series: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        repeat: str | None = None,
        outcome: str | None = None,
        alert: str | None = None,
    ) -> MeetingFields:
        fields = cls()
        if title is not None:
            fields.title = text.title(title)
        if starts is not None:
            fields.starts = dates.parse(starts)
        if ends is not None:
            fields.ends = dates.parse(ends)
        if tz is not None:
            fields.tz = dates.parse_zone(tz)
        if location is not None:
            fields.location = text.title(location, "location")
        if series is not None:
            fields.series = text.title(series, "series")
        if kind is not None:
            fields.kind = text.choice(kind, MeetingKind, "meeting kind")
        if status is not None:
            fields.status = text.choice(status, MeetingStatus, "meeting status")
        if repeat is not None:
            fields.recurrence = validate_rule(repeat) if repeat else None
        if outcome is not None:
            fields.outcome = text.note(outcome, "outcome")
        if alert is not None:
            fields.alert_leads = ",".join(
                dates.format_duration(lead) for lead in dates.parse_durations(alert)
            )
        return fields

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not UNSET and k != "extra"}


def _check_order(starts: dates.DateWindow | None, ends: dates.DateWindow | None) -> None:
    if starts and ends and ends.latest < starts.earliest:
        raise InvalidInput(f"meeting ends ({ends}) before it starts ({starts})")


def add_deadline(
    session: Session,
    fields: DeadlineFields,
    *,
    now: datetime,
    slug: str | None = None,
    treaty: str | None = None,
    source: str | None = None,
) -> Deadline:
    if fields.title is UNSET or fields.due is UNSET:
        raise InvalidInput("a deadline needs a title and --due")
    wanted = text.slug(slug) if slug else None
    treaty_row = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if wanted and session.query(Deadline.id).filter_by(slug=wanted).first():
        raise InvalidInput(f"a deadline {wanted!r} exists already")
    item_slug = wanted or unique_slug(session, Deadline, text.slugify(fields.title))
    values = {"kind": "other", "status": "pending", "tz": "UTC", **fields.values()}
    deadline = Deadline(
        slug=item_slug,
        uid=stable_uid("deadline", item_slug),
        treaty=treaty_row,
        created_at=now,
        updated_at=now,
        sequence=0,
    )
    for name, value in values.items():
        setattr(deadline, name, value)
    if cited:
        deadline.sources.append(cited)
    session.add(deadline)
    record(session, deadline, "created", None, deadline.due_text, now=now, source=cited)
    return deadline


def edit_deadline(
    session: Session,
    slug: str,
    fields: DeadlineFields,
    *,
    now: datetime,
    treaty: str | None = None,
    source: str | None = None,
) -> tuple[Deadline, list[Change]]:
    deadline = queries.deadline(session, slug)
    values = fields.values()
    if treaty is not None:
        values["treaty"] = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if cited and cited not in deadline.sources:
        deadline.sources.append(cited)
    return deadline, apply_changes(session, deadline, values, now=now, source=cited)


def remove(session: Session, item: Deadline | Meeting, *, now: datetime) -> None:
    record(session, item, "removed", item.title, None, now=now)
    session.delete(item)


def add_meeting(
    session: Session,
    fields: MeetingFields,
    *,
    now: datetime,
    slug: str | None = None,
    treaty: str | None = None,
    source: str | None = None,
) -> Meeting:
    if fields.title is UNSET:
        raise InvalidInput("a meeting needs a title")
    starts = None if fields.starts is UNSET else fields.starts
    ends = None if fields.ends is UNSET else fields.ends
    _check_order(starts, ends)
    if fields.recurrence not in (UNSET, None) and starts is None:
        raise InvalidInput("a repeating meeting needs --starts")
    wanted = text.slug(slug) if slug else None
    treaty_row = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if wanted and session.query(Meeting.id).filter_by(slug=wanted).first():
        raise InvalidInput(f"a meeting {wanted!r} exists already")
    item_slug = wanted or unique_slug(session, Meeting, text.slugify(fields.title))
    values = {
        "kind": "consultation",
        "status": "scheduled",
        "tz": "UTC",
        "delegations": [],
        **fields.values(),
    }
    meeting = Meeting(
        slug=item_slug,
        uid=stable_uid("meeting", item_slug),
        treaty=treaty_row,
        created_at=now,
        updated_at=now,
        sequence=0,
    )
    for name, value in values.items():
        setattr(meeting, name, value)
    if cited:
        meeting.sources.append(cited)
    session.add(meeting)
    record(session, meeting, "created", None, meeting.starts_text, now=now, source=cited)
    return meeting


def edit_meeting(
    session: Session,
    slug: str,
    fields: MeetingFields,
    *,
    now: datetime,
    treaty: str | None = None,
    source: str | None = None,
) -> tuple[Meeting, list[Change]]:
    meeting = queries.meeting(session, slug)
    values = fields.values()
    _check_order(values.get("starts", meeting.starts), values.get("ends", meeting.ends))
    if treaty is not None:
        values["treaty"] = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if cited and cited not in meeting.sources:
        meeting.sources.append(cited)
    return meeting, apply_changes(session, meeting, values, now=now, source=cited)
