"""Adding, editing and removing deadlines and meetings; every change goes into history.

Each function validates everything first and raises :class:`InvalidInput` before
touching the session, so a refused command changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import queries
from tracker.catalog.history import (
    apply_changes,
    record,
    source_for_url,
    subject_type,
    unique_slug,
)
from tracker.catalog.models import (
    Change,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    stable_uid,
)
from tracker.errors import InvalidInput
from tracker.recurrence import validate_rule

UNSET: Any = object()


@dataclass
class DeadlineFields:
    """Validated values for a deadline; UNSET means 'leave as it is'."""

    title: Any = UNSET
    due: Any = UNSET
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
    status: Any = UNSET
    recurrence: Any = UNSET
    outcome: Any = UNSET
    alert_leads: Any = UNSET
    delegations: Any = UNSET

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
        return {k: v for k, v in self.__dict__.items() if v is not UNSET}


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
    values = {"kind": "other", "status": "pending", "tz": "UTC", **fields.values()}
    return _create(session, Deadline(), values, now=now, slug=slug, treaty=treaty, source=source)


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
    return deadline, _update(session, deadline, fields.values(), now, treaty, source)


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
    _check_order(starts, None if fields.ends is UNSET else fields.ends)
    if fields.recurrence not in (UNSET, None) and starts is None:
        raise InvalidInput("a repeating meeting needs --starts")
    values = {
        "kind": "consultation",
        "status": "scheduled",
        "tz": "UTC",
        "delegations": [],
        **fields.values(),
    }
    return _create(session, Meeting(), values, now=now, slug=slug, treaty=treaty, source=source)


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
    return meeting, _update(session, meeting, values, now, treaty, source)


def remove(session: Session, item: Deadline | Meeting, *, now: datetime) -> None:
    record(session, item, "removed", item.title, None, now=now)
    session.delete(item)


ItemT = TypeVar("ItemT", Deadline, Meeting)


def _create(
    session: Session,
    item: ItemT,
    values: dict[str, Any],
    *,
    now: datetime,
    slug: str | None,
    treaty: str | None,
    source: str | None,
) -> ItemT:
    """Fill a new deadline or meeting, cite its source, and record its creation."""
    model, what = type(item), subject_type(item)
    wanted = text.slug(slug) if slug else None
    treaty_row = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if wanted and session.scalar(select(model.id).where(model.slug == wanted)):
        raise InvalidInput(f"a {what} {wanted!r} exists already")
    item.slug = wanted or unique_slug(session, model, text.slugify(values["title"]))
    item.uid = stable_uid(what, item.slug)
    item.treaty = treaty_row
    item.created_at = item.updated_at = now
    item.sequence = 0
    for name, value in values.items():
        setattr(item, name, value)
    if cited:
        item.sources.append(cited)
    session.add(item)
    when = item.due_text if isinstance(item, Deadline) else item.starts_text
    record(session, item, "created", None, when, now=now, source=cited)
    return item


def _update(
    session: Session,
    item: Deadline | Meeting,
    values: dict[str, Any],
    now: datetime,
    treaty: str | None,
    source: str | None,
) -> list[Change]:
    """Apply validated values (``treaty=""`` detaches it), recording each change."""
    if treaty is not None:
        values["treaty"] = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, source)
    if cited and cited not in item.sources:
        item.sources.append(cited)
    return apply_changes(session, item, values, now=now, source=cited)
