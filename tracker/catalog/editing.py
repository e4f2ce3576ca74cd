"""Adding, editing and removing deadlines and meetings; every change goes into history.

Each function validates everything first and raises :class:`InvalidInput` before
touching the session, so a refused command changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, Self, TypeVar

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
from tracker.recurrence import check_series, validate_rule

# An option's column and how its text is read (each raises InvalidInput on bad input).
Option = tuple[str, Callable[[str], Any]]


def alert_leads(value: str) -> str:
    """Alert lead times ("30d, 1h"), each written the one way ("30d,1h")."""
    return ",".join(dates.format_duration(lead) for lead in dates.parse_durations(value))


def _shared_options(noun: str, kinds: type[StrEnum], statuses: type[StrEnum]) -> dict[str, Option]:
    return {
        "title": ("title", text.title),
        "tz": ("tz", dates.parse_zone),
        "kind": ("kind", lambda value: text.choice(value, kinds, f"{noun} kind")),
        "status": ("status", lambda value: text.choice(value, statuses, f"{noun} status")),
        "alert": ("alert_leads", alert_leads),
    }


ItemT = TypeVar("ItemT", Deadline, Meeting)


@dataclass
class Fields(Generic[ItemT]):
    """Validated column values for a deadline or a meeting; a column not given is left
    as it is. A subclass names its model, its defaults and its checks."""

    OPTIONS: ClassVar[dict[str, Option]] = {}
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    columns: dict[str, Any] = field(default_factory=dict)

    def new(self) -> ItemT:
        """An empty row of the model, once the fields are enough to make one."""
        raise NotImplementedError

    def find(self, session: Session, slug: str) -> ItemT:
        raise NotImplementedError

    def check(self, item: ItemT | None) -> None:
        """Refuse values that do not fit together (with the row's own, when editing)."""

    @classmethod
    def parse(cls, *, recorded_on: date | None = None, **options: str | None) -> Self:
        """Read the options given (None: not given), by their command-line names; a date
        written ``by …`` opens on ``recorded_on``, the day of the edit."""
        fields = cls()
        for option, value in options.items():
            if option not in cls.OPTIONS:
                raise TypeError(f"{cls.__name__} has no option {option!r}")
            if value is not None:
                column, read = cls.OPTIONS[option]
                dated = read is dates.parse
                fields.columns[column] = (
                    dates.parse(value, recorded_on=recorded_on) if dated else read(value)
                )
        return fields

    @classmethod
    def holds(cls, column: str) -> bool:
        return any(column == name for name, _ in cls.OPTIONS.values())

    def values(self) -> dict[str, Any]:
        return dict(self.columns)


class DeadlineFields(Fields[Deadline]):
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_shared_options("deadline", DeadlineKind, DeadlineStatus),
        "due": ("due", dates.parse),
        "note": ("notes", text.note),
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {"kind": "other", "status": "pending", "tz": "UTC"}

    def new(self) -> Deadline:
        if not {"title", "due"} <= self.columns.keys():
            raise InvalidInput("a deadline needs a title and --due")
        return Deadline()

    def find(self, session: Session, slug: str) -> Deadline:
        return queries.deadline(session, slug)


class MeetingFields(Fields[Meeting]):
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_shared_options("meeting", MeetingKind, MeetingStatus),
        "starts": ("starts", dates.parse),
        "ends": ("ends", dates.parse),
        "location": ("location", lambda value: text.title(value, "location")),
        "series": ("series", lambda value: text.title(value, "series")),
        "repeat": ("recurrence", lambda value: validate_rule(value) if value else None),
        "outcome": ("outcome", lambda value: text.note(value, "outcome")),
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "kind": "consultation",
        "status": "scheduled",
        "tz": "UTC",
        "delegations": [],
    }

    def new(self) -> Meeting:
        if "title" not in self.columns:
            raise InvalidInput("a meeting needs a title")
        if self.columns.get("recurrence") and self.columns.get("starts") is None:
            raise InvalidInput("a repeating meeting needs --starts")
        return Meeting()

    def find(self, session: Session, slug: str) -> Meeting:
        return queries.meeting(session, slug)

    def check(self, item: Meeting | None) -> None:
        starts = self.columns.get("starts", item.starts if item else None)
        ends = self.columns.get("ends", item.ends if item else None)
        if starts and ends and ends.latest < starts.earliest:
            raise InvalidInput(f"meeting ends ({ends}) before it starts ({starts})")
        rule = self.columns.get("recurrence", item.recurrence if item else None)
        if rule and starts and {"recurrence", "starts"} & self.columns.keys():
            check_series(rule, starts.earliest)


def add(
    session: Session,
    fields: Fields[ItemT],
    *,
    now: datetime,
    slug: str | None = None,
    treaty: str | None = None,
    source: str | None = None,
) -> ItemT:
    """Add a deadline or a meeting (which, the fields say) and record its creation."""
    item = fields.new()
    fields.check(None)
    values = {**fields.DEFAULTS, **fields.values()}
    return _create(session, item, values, now=now, slug=slug, treaty=treaty, source=source)


def edit(
    session: Session,
    slug: str,
    fields: Fields[ItemT],
    *,
    now: datetime,
    treaty: str | None = None,
    source: str | None = None,
) -> tuple[ItemT, list[Change]]:
    """Change a deadline or a meeting, recording each field that changed."""
    item = fields.find(session, slug)
    fields.check(item)
    return item, _update(session, item, fields.values(), now, treaty, source)


def remove(session: Session, item: Deadline | Meeting, *, now: datetime) -> None:
    record(session, item, "removed", item.title, None, now=now)
    session.delete(item)


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
