"""The one read model of an agenda item: a deadline, or one occurrence of a meeting.

Every reader (the CLI, the pages, the JSON API, the feeds, the calendars, the digests and
alert planning) sees an item as an :class:`Item`, built by :func:`deadline_item` or
:func:`meeting_item` from an ORM row or from plain columns. A recurring meeting is one item
whose ``when`` is its first occurrence and ``recurrence`` its rule (as a calendar shows
it), or each occurrence an item of its own (:func:`occurrences_between`, as an agenda
shows it). Pure: no I/O, and no database import at run time, so that any layer may hold
items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from tracker.catalog.lifecycle import state
from tracker.dates import TBA, DateWindow, Precision
from tracker.views.countdown import Countdown, countdown

if TYPE_CHECKING:
    from sqlalchemy import Row

    from tracker.catalog.models import Deadline, Meeting

Sources = tuple[dict[str, str | None], ...]


@dataclass(frozen=True)
class Item:
    """One line of a board or agenda, as of an instant (its countdown is counted to it)."""

    type: str
    slug: str
    title: str
    kind: str
    when: DateWindow
    tz: str
    recorded_status: str  # as a person recorded it; ``status`` is as of ``as_of``
    as_of: datetime
    confidence: str = "announced"
    status_on: date | None = None  # the day the recorded status was reached
    treaty: str | None = None  # its slug
    treaty_name: str | None = None  # its full name
    body: str | None = None  # the body or forum it belongs to ("IAEA Board of Governors")
    sources: Sources = ()
    ends: DateWindow | None = None
    location: str | None = None
    series: str | None = None
    recurrence: str | None = None  # a recurring meeting's rule; None for an occurrence
    # The calendar identity, and the texts shown whole (in a calendar): an item read from
    # a row with all its columns has them, a timeline's mark does not.
    uid: str | None = None
    sequence: int = 0
    updated_at: datetime | None = None
    notes: str | None = None  # a deadline's
    outcome: str | None = None  # a meeting's
    delegations: tuple[dict[str, Any], ...] = ()
    # How many days before its earliest day an imprecise date is usually confirmed.
    confirm_lead_days: int | None = None

    # Counted when read: a timeline mark or a feed entry never needs it.
    @cached_property
    def countdown(self) -> Countdown:
        ends = self.ends if self.ends is not None and not self.ends.is_tba else None
        return countdown(self.when, self.as_of, self.tz, ends.latest if ends else None)

    @cached_property
    def status(self) -> str:
        """The lifecycle state as of ``as_of``: recorded, or derived from the dates."""
        return state(
            self.type, self.recorded_status, self.status_on, self.when, self.ends, self.tz,
            self.as_of,
        )  # fmt: skip

    @property
    def last_day(self) -> date:
        return self.ends.latest if self.ends else self.when.latest

    @property
    def confirmation_due(self) -> date | None:
        """The day by which an imprecise date is usually confirmed (``confirm_lead_days``
        before its earliest day); None when no lead is set or the date is exact or TBA."""
        if self.confirm_lead_days is None or self.when.is_tba or self.when.is_exact:
            return None
        return self.when.earliest - timedelta(days=self.confirm_lead_days)

    def as_dict(self, base_url: str | None = None) -> dict[str, Any]:
        """The item in the one JSON vocabulary every command and the API use (README,
        "The JSON vocabulary"): ``status`` is the lifecycle state, ``countdown_status``
        the countdown's; a date to be announced has no days (nulls). With ``base_url``
        (``feeds.base_url``), ``link`` is the absolute address of the item's page."""
        counted = self.countdown
        data = {
            "type": self.type,
            "slug": self.slug,
            "title": self.title,
            "kind": self.kind,
            "treaty": self.treaty,
            "treaty_name": self.treaty_name,
            "body": self.body,
            **_window_dict(self.when),
            "tz": self.tz,
            "days_min": counted.days_min,
            "days_max": counted.days_max,
            "days_remaining": counted.days_remaining,
            "human": counted.human,
            "status": self.status,
            "countdown_status": counted.status.value,
            "confidence": self.confidence,
            "sources": list(self.sources),
            "confirm_lead_days": self.confirm_lead_days,
            "confirmation_due": due.isoformat() if (due := self.confirmation_due) else None,
        }
        if self.type == "meeting":
            data["ends"] = _window_dict(self.ends) if self.ends else None
            data["location"] = self.location
            data["series"] = self.series
        if base_url is not None:
            data["link"] = page_link(base_url, self.type, self.slug)
        return data

    # The board's and the agenda's names for the one shape (callers that predate it).
    as_countdown = as_dict
    as_agenda = as_dict


def _window_dict(window: DateWindow) -> dict[str, Any]:
    """``when`` (as written), ``earliest``/``latest`` (ISO days; null for a date to be
    announced) and ``precision``."""
    tba = window.is_tba
    return {
        "when": window.text,
        "earliest": None if tba else window.earliest.isoformat(),
        "latest": None if tba else window.latest.isoformat(),
        "precision": window.precision.value,
    }


# A deadline's or meeting's columns every item shows as they are.
_SHOWN_AS_STORED = attrgetter("slug", "title", "kind", "tz", "status", "confidence", "status_on")
# The five columns of each date window (``due_text``, ``due_earliest``, ...).
_WINDOWS = {
    prefix: attrgetter(
        *(f"{prefix}_{c}" for c in ("text", "earliest", "latest", "precision", "time"))
    )
    for prefix in ("due", "starts", "ends")
}
_PRECISION = {precision.value: precision for precision in Precision}  # Precision(v): 4x slower


def _item(
    type_: str, row: Deadline | Meeting | Row[Any], when: DateWindow, as_of: datetime, **more: Any
) -> Item:
    """The one builder of an item: from an ORM row or the same columns selected."""
    slug, title, kind, tz, status, confidence, status_on = _SHOWN_AS_STORED(row)
    return Item(type_, slug, title, kind, when, tz, status, as_of, confidence, status_on, **more)


def _window(row: Deadline | Meeting | Row[Any], prefix: str) -> DateWindow | None:
    """The date window kept in a row's five ``<prefix>_*`` columns; None: no date."""
    text, earliest, latest, precision, at = _WINDOWS[prefix](row)
    if text is None or earliest is None or latest is None or precision is None:
        return None
    return DateWindow(text, earliest, latest, _PRECISION[precision], at)


def page_link(base_url: str, item_type: str, slug: str) -> str:
    """The absolute address of an item's page: ``<base_url>/meetings/<slug>``."""
    return f"{base_url.rstrip('/')}/{item_type}s/{slug}"


def deadline_item(row: Deadline | Row[Any], as_of: datetime, **more: Any) -> Item:
    """A deadline's item from its row or columns (dated :data:`~tracker.dates.TBA` when its
    date is to be announced); ``more``: the item's other fields (its treaty, sources, ...),
    which a row of columns does not have."""
    return _item("deadline", row, _window(row, "due") or TBA, as_of, **more)


def meeting_item(row: Meeting | Row[Any], as_of: datetime, **more: Any) -> Item:
    """A meeting's item (a recurring one's first occurrence, with its rule) from its row or
    columns; dated TBA when it has no start yet. ``more``: as for :func:`deadline_item`."""
    when = _window(row, "starts") or TBA
    mine = {"location": row.location, "series": row.series, "recurrence": row.recurrence}
    return _item("meeting", row, when, as_of, ends=_window(row, "ends"), **mine, **more)


# What an item read from a row with all its columns (an ORM row, or ``select(Deadline.
# __table__)``) has of them beside what its builder reads: its calendar identity and the
# texts a calendar shows whole.
_WHOLE = {
    "deadline": ("uid", "sequence", "updated_at", "notes"),
    "meeting": ("uid", "sequence", "updated_at", "outcome", "delegations"),
}


def whole(type_: str, row: Deadline | Meeting | Row[Any]) -> dict[str, Any]:
    """The fields of :data:`_WHOLE` of a deadline's or meeting's row."""
    found = {name: getattr(row, name) for name in _WHOLE[type_]}
    if "delegations" in found:
        found["delegations"] = tuple(found["delegations"] or ())
    return found


def from_deadline(deadline: Deadline, as_of: datetime) -> Item:
    return deadline_item(deadline, as_of, **_related("deadline", deadline))


def from_meeting(meeting: Meeting, as_of: datetime) -> Item:
    """A meeting's item from its ORM row, with its treaty and sources (a recurring one's
    first occurrence and rule, as :func:`meeting_item`)."""
    return meeting_item(meeting, as_of, **_related("meeting", meeting))


def _related(type_: str, row: Deadline | Meeting) -> dict[str, Any]:
    """What an item read from its ORM row has beside its own columns."""
    treaty = row.treaty
    return {
        "treaty": treaty.slug if treaty else None,
        "treaty_name": treaty.name if treaty else None,
        "body": row.body,
        "sources": tuple(source.as_dict() for source in row.sources),
        "confirm_lead_days": row.confirm_lead_days,
        **whole(type_, row),
    }


def meeting_items(meeting: Meeting, as_of: datetime, start: date, end: date) -> list[Item]:
    """The meeting, or for a recurring one each occurrence between ``start`` and ``end``."""
    return occurrences_between(from_meeting(meeting, as_of), start, end)


def occurrences_between(item: Item, start: date, end: date) -> list[Item]:
    """A recurring meeting's occurrences between ``start`` and ``end``, each an item of its
    own (its day, the first one's time and length, no end, no rule); any other item itself."""
    if not item.recurrence or item.when.is_tba:
        return [item]
    from tracker.recurrence import occurrences  # dateutil.rrule: only for recurring meetings

    first = item.when
    length = first.latest - first.earliest
    return [
        replace(
            item,
            when=replace(first, text=_shifted_text(first, day), earliest=day, latest=day + length),
            ends=None,
            recurrence=None,
        )
        for day in occurrences(item.recurrence, first.earliest, start, end)
    ]


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
) -> list[Item]:
    """Deadlines and meeting occurrences overlapping ``start``–``end``, in date order."""
    items = [from_deadline(deadline, as_of) for deadline in deadlines]
    for meeting in meetings:
        items.extend(meeting_items(meeting, as_of, start, end))
    return in_date_order([i for i in items if i.when.earliest <= end and i.last_day >= start])


def in_date_order(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.when.earliest, i.when.latest, i.slug))
