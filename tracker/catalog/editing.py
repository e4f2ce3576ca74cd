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
from tracker.catalog import lifecycle, queries
from tracker.catalog.history import (
    apply_changes,
    current,
    record,
    source_for_url,
    stored,
    subject_type,
    unique_slug,
)
from tracker.catalog.models import (
    Change,
    Confidence,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    stable_uid,
)
from tracker.catalog.treaty_editing import exact_date
from tracker.dates import DateWindow
from tracker.dates.spans import DEADLINE, range_text
from tracker.errors import InvalidInput
from tracker.recurrence import check_series, validate_rule

# An option's column and how its text is read (each raises InvalidInput on bad input).
Option = tuple[str, Callable[[str], Any]]


def alert_leads(value: str) -> str:
    """Alert lead times ("30d, 1h"), each written the one way ("30d,1h")."""
    return ",".join(dates.format_duration(lead) for lead in dates.parse_durations(value))


# As long as the column is: "IAEA Board of Governors", "UNGA First Committee".
MAX_BODY = 200


def read_body(value: str) -> str | None:
    """``--body``: the body or forum, one line of at most :data:`MAX_BODY` characters;
    an empty value clears it."""
    if not value.strip():
        return None
    body = text.title(value, "--body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"--body is longer than {MAX_BODY} characters ({len(body)})")
    return body


# The longest a firm date may usually be announced ahead of a window's first day.
MAX_CONFIRM_LEAD_DAYS = 366


def confirm_lead_days(value: str) -> int | None:
    """``--confirm-ahead``: a duration in whole days (``14d``, ``2w``) before an imprecise
    date's earliest day by which a firm date is usually announced; ``none`` clears it."""
    if value.strip().lower() == "none":
        return None
    lead = dates.parse_duration(value)
    if lead.seconds or not 1 <= lead.days <= MAX_CONFIRM_LEAD_DAYS:
        raise InvalidInput(
            f"--confirm-ahead {value!r}: expected whole days from 1d to "
            f"{MAX_CONFIRM_LEAD_DAYS}d (e.g. 14d or 2w), or none"
        )
    return lead.days


# How a date to be announced is written (any case).
TBA_WORDS = frozenset({"tba", "tbd", "to be announced", "to be determined"})
# From the surest: a date given as uncertain (EDTF ``?``) is one step less sure.
_CONFIDENCES = [member.value for member in Confidence]


def read_date(value: str, recorded_on: date | None = None) -> DateWindow:
    """A date expression, or :data:`~tracker.dates.TBA` for a date to be announced."""
    if " ".join(value.split()).lower() in TBA_WORDS:
        return dates.TBA
    return dates.parse(value, recorded_on=recorded_on)


def _shared_options(noun: str, kinds: type[StrEnum], statuses: type[StrEnum]) -> dict[str, Option]:
    return {
        "title": ("title", text.title),
        "body": ("body", read_body),
        "tz": ("tz", dates.parse_zone),
        "kind": ("kind", lambda value: text.choice(value, kinds, f"{noun} kind")),
        "status": ("status", lambda value: lifecycle.recordable(value, statuses, noun)),
        "status_on": ("status_on", lambda value: exact_date(value, "--status-on")),
        "confidence": ("confidence", lambda value: text.choice(value, Confidence, "confidence")),
        "alert": ("alert_leads", alert_leads),
        "confirm_ahead": ("confirm_lead_days", confirm_lead_days),
    }


ItemT = TypeVar("ItemT", Deadline, Meeting)


@dataclass
class Fields(Generic[ItemT]):
    """Validated column values for a deadline or a meeting; a column not given is left
    as it is. A subclass names its model, its defaults and its checks."""

    OPTIONS: ClassVar[dict[str, Option]] = {}
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    NOUN: ClassVar[str] = ""
    WHEN: ClassVar[str] = ""  # the date a status is checked against
    columns: dict[str, Any] = field(default_factory=dict)
    # What the success line adds (a confidence lowered for an uncertain date).
    said: list[str] = field(default_factory=list)

    def new(self) -> ItemT:
        """An empty row of the model, once the fields are enough to make one."""
        raise NotImplementedError

    def find(self, session: Session, slug: str) -> ItemT:
        raise NotImplementedError

    def check(self, item: ItemT | None, now: datetime) -> None:
        """Refuse values that do not fit together (with the row's own, when editing) or
        a status the dates say cannot be true as of ``now``."""
        self._check_status(item, now)

    def _final(self, item: ItemT | None, column: str) -> Any:
        """The column's value once the edit is made."""
        if column in self.columns:
            return self.columns[column]
        return current(item, column) if item is not None else self.DEFAULTS.get(column)

    def _check_status(self, item: ItemT | None, now: datetime) -> None:
        """Refuse a status the item's date rules out; the day it was reached is the one
        given (--status-on), else the day of ``now`` when an edit changes the status."""
        status, when = self._final(item, "status"), self._final(item, self.WHEN)
        on = lifecycle.check_status(
            self.NOUN,
            status,
            when,
            self._final(item, "tz") or "UTC",
            now,
            initial=self.DEFAULTS["status"],
            on=self.columns.get("status_on"),
            dated={"status", self.WHEN} & self.columns.keys() != set(),
            ends=self._final(item, "ends") if self.WHEN == "starts" else None,
        )
        if "status_on" not in self.columns and item is not None and status != item.status:
            self.columns["status_on"] = on

    @classmethod
    def parse(cls, *, recorded_on: date | None = None, **options: str | None) -> Self:
        """Read the options given (None: not given), by their command-line names; a date
        written ``by …`` opens on ``recorded_on``, the day of the edit. A date given as
        uncertain lowers the confidence one step from the one given or the default."""
        fields = cls()
        for option, value in options.items():
            if option not in cls.OPTIONS:
                raise TypeError(f"{cls.__name__} has no option {option!r}")
            if value is not None:
                column, read = cls.OPTIONS[option]
                dated = read is read_date
                fields.columns[column] = read_date(value, recorded_on) if dated else read(value)
        if any(getattr(value, "uncertain", False) for value in fields.columns.values()):
            given = fields.columns.get("confidence", cls.DEFAULTS["confidence"])
            lowered = _CONFIDENCES[min(_CONFIDENCES.index(given) + 1, len(_CONFIDENCES) - 1)]
            fields.columns["confidence"] = lowered
            fields.said.append(
                f"confidence {lowered}, one step below {given}: the date is uncertain"
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
        "due": ("due", read_date),
        "note": ("notes", text.note),
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "kind": "other",
        "status": "pending",
        "tz": "UTC",
        "confidence": Confidence.ANNOUNCED.value,
    }
    NOUN, WHEN = "deadline", "due"

    def new(self) -> Deadline:
        if not {"title", "due"} <= self.columns.keys():
            raise InvalidInput("a deadline needs a title and --due (a date, or TBA)")
        return Deadline()

    def find(self, session: Session, slug: str) -> Deadline:
        return queries.deadline(session, slug)


class MeetingFields(Fields[Meeting]):
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_shared_options("meeting", MeetingKind, MeetingStatus),
        "starts": ("starts", read_date),
        "ends": ("ends", read_date),
        "location": ("location", lambda value: text.title(value, "location")),
        "series": ("series", lambda value: text.title(value, "series")),
        "repeat": ("recurrence", lambda value: validate_rule(value) if value else None),
        "outcome": ("outcome", lambda value: text.note(value, "outcome")),
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "kind": "consultation",
        "status": "scheduled",
        "tz": "UTC",
        "confidence": Confidence.ANNOUNCED.value,
        "delegations": [],
    }
    NOUN, WHEN = "meeting", "starts"

    @classmethod
    def parse(cls, *, recorded_on: date | None = None, **options: str | None) -> Self:
        """As for :meth:`Fields.parse`; a range of days given to ``starts`` without
        ``ends`` is the meeting's span: it starts on the first day and ends on the last."""
        fields = super().parse(recorded_on=recorded_on, **options)
        starts = fields.columns.get("starts")
        if starts is not None and options.get("ends") is None and _is_days(starts, options):
            fields.columns["starts"] = dates.parse(starts.earliest.isoformat())
            fields.columns["ends"] = dates.parse(starts.latest.isoformat())
        return fields

    def new(self) -> Meeting:
        if "title" not in self.columns:
            raise InvalidInput("a meeting needs a title")
        return Meeting()

    def find(self, session: Session, slug: str) -> Meeting:
        return queries.meeting(session, slug)

    def check(self, item: Meeting | None, now: datetime) -> None:
        starts, ends = self._final(item, "starts") or dates.TBA, self._final(item, "ends")
        if starts.is_tba and ends is not None:
            if "ends" in self.columns:  # A meeting to be announced has no end yet.
                raise InvalidInput("a meeting whose start is to be announced has no --ends")
            self.columns["ends"] = None
            ends = None
        if ends and ends.latest < starts.earliest:
            raise InvalidInput(f"meeting ends ({ends}) before it starts ({starts})")
        rule = self._final(item, "recurrence")
        if rule and starts.is_tba:
            raise InvalidInput("a repeating meeting needs --starts, a date to repeat from")
        if rule and {"recurrence", "starts"} & self.columns.keys():
            check_series(rule, starts.earliest)
        self._check_postponement(item)
        super().check(item, now)

    def _check_postponement(self, item: Meeting | None) -> None:
        """A meeting newly postponed takes its new date (or TBA) in the same edit."""
        if self.columns.get("status") == "postponed" and getattr(item, "status", "") != "postponed":
            problem = lifecycle.postponement_refusal(
                self.columns.get("starts"), current(item, "starts") if item else None
            )
            if problem:
                raise InvalidInput(problem)


def _is_days(window: DateWindow, options: dict[str, str | None]) -> bool:
    """Whether a starts window is a range of whole days as people write one (``8–12 March
    2027``, ``2027-03-08/2027-03-12``), not a part of a month or a ``by …`` deadline."""
    written = " ".join((options.get("starts") or "").split())
    return (
        window.precision is dates.Precision.RANGE
        and window.text == range_text(window.earliest, window.latest)
        and not DEADLINE.fullmatch(written)
    )


def add(
    session: Session,
    fields: Fields[ItemT],
    *,
    now: datetime,
    slug: str | None = None,
    treaty: str | None = None,
    source: str | None = None,
    source_grade: str | None = None,
    origin: str | None = None,
) -> ItemT:
    """Add a deadline or a meeting (which, the fields say) and record its creation, made
    by ``origin`` ("cli", "seed", ...: :data:`~tracker.catalog.history.ORIGINS`)."""
    item = fields.new()
    fields.check(None, now)
    values = {**fields.DEFAULTS, **fields.values()}
    cited = (source, source_grade)
    return _create(
        session, item, values, now=now, slug=slug, treaty=treaty, cited=cited, origin=origin
    )


def edit(
    session: Session,
    slug: str,
    fields: Fields[ItemT],
    *,
    now: datetime,
    treaty: str | None = None,
    source: str | None = None,
    source_grade: str | None = None,
    origin: str | None = None,
) -> tuple[ItemT, list[Change]]:
    """Change a deadline or a meeting, recording each field that changed (made by
    ``origin``)."""
    item = fields.find(session, slug)
    fields.check(item, now)
    cited = (source, source_grade)
    return item, _update(session, item, fields.values(), now, treaty, cited, origin)


def remove(
    session: Session, item: Deadline | Meeting, *, now: datetime, origin: str | None = None
) -> None:
    record(session, item, "removed", item.title, None, now=now, origin=origin)
    session.delete(item)


def _create(
    session: Session,
    item: ItemT,
    values: dict[str, Any],
    *,
    now: datetime,
    slug: str | None,
    treaty: str | None,
    cited: tuple[str | None, str | None],
    origin: str | None,
) -> ItemT:
    """Fill a new deadline or meeting, cite its source (URL, grade), record its creation."""
    model, what = type(item), subject_type(item)
    wanted = text.slug(slug) if slug else None
    treaty_row = queries.treaty(session, treaty) if treaty else None
    source = source_for_url(session, *cited)
    if wanted and session.scalar(select(model.id).where(model.slug == wanted)):
        raise InvalidInput(f"a {what} {wanted!r} exists already")
    item.slug = wanted or unique_slug(session, model, text.slugify(values["title"]))
    item.uid = stable_uid(what, item.slug)
    item.treaty = treaty_row
    item.created_at = item.updated_at = now
    item.sequence = 0
    for name, value in values.items():
        setattr(item, name, stored(value))
    if source:
        item.sources.append(source)
    session.add(item)
    when = item.due_text if isinstance(item, Deadline) else item.starts_text
    created = when or dates.TBA.text
    record(session, item, "created", None, created, now=now, origin=origin, source=source)
    return item


def _update(
    session: Session,
    item: Deadline | Meeting,
    values: dict[str, Any],
    now: datetime,
    treaty: str | None,
    source: tuple[str | None, str | None],
    origin: str | None,
) -> list[Change]:
    """Apply validated values (``treaty=""`` detaches it), recording each change."""
    if treaty is not None:
        values["treaty"] = queries.treaty(session, treaty) if treaty else None
    cited = source_for_url(session, *source)
    if cited and cited not in item.sources:
        item.sources.append(cited)
    return apply_changes(session, item, values, now=now, origin=origin, source=cited)
