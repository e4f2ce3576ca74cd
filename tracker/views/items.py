"""The one read model of an agenda item: a deadline, or one occurrence of a meeting.

Every reader (the CLI, the pages, the JSON API, the feeds and the digests) sees an item as
an :class:`Item`, built by :func:`deadline_item` or :func:`meeting_items` from an ORM row
or from plain columns. Pure: no I/O, and no database import at run time, so that any
layer may hold items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tracker.dates import DateWindow, Precision
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
    status: str
    as_of: datetime
    treaty: str | None = None  # its slug
    treaty_name: str | None = None
    sources: Sources = ()
    ends: DateWindow | None = None
    location: str | None = None
    series: str | None = None
    uid: str | None = None
    sequence: int = 0
    updated_at: datetime | None = None

    # Counted when read: a timeline mark or a feed entry never needs it.
    @cached_property
    def countdown(self) -> Countdown:
        return countdown(self.when, self.as_of, self.tz)

    @property
    def last_day(self) -> date:
        return self.ends.latest if self.ends else self.when.latest

    def _base(self) -> dict[str, Any]:
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
            **self._base(),
            "status": self.countdown.status.value,
            "item_status": self.status,
            "sources": list(self.sources),
        }

    def as_agenda(self) -> dict[str, Any]:
        return {
            **self._base(),
            "status": self.status,
            "countdown_status": self.countdown.status.value,
            "ends": self.ends.text if self.ends else None,
            "location": self.location,
            "series": self.series,
            "sources": list(self.sources),
        }


# A deadline's or meeting's columns every item shows as they are.
_SHOWN_AS_STORED = ("slug", "title", "kind", "tz", "status")


def _item(
    type_: str, row: Deadline | Meeting | Row[Any], when: DateWindow, as_of: datetime, **more: Any
) -> Item:
    """The one builder of an item: from an ORM row or the same columns selected."""
    stored = {name: getattr(row, name) for name in _SHOWN_AS_STORED}
    return Item(type=type_, when=when, as_of=as_of, **stored, **more)


def deadline_item(row: Deadline | Row[Any], as_of: datetime, **more: Any) -> Item:
    """A deadline's item from its row or columns; ``more``: the item's other fields (its
    treaty, sources, ...), which a row of columns does not have."""
    precision = Precision(row.due_precision)
    when = DateWindow(row.due_text, row.due_earliest, row.due_latest, precision, row.due_time)
    return _item("deadline", row, when, as_of, **more)


def from_deadline(deadline: Deadline, as_of: datetime) -> Item:
    return deadline_item(deadline, as_of, **_related(deadline))


def _related(row: Deadline | Meeting) -> dict[str, Any]:
    """What an item read from its ORM row has beside its own columns."""
    treaty = row.treaty
    return {
        "treaty": treaty.slug if treaty else None,
        "treaty_name": treaty.short_name if treaty else None,
        "sources": tuple(source.as_dict() for source in row.sources),
        "uid": row.uid,
        "sequence": row.sequence,
        "updated_at": row.updated_at,
    }


def meeting_items(meeting: Meeting, as_of: datetime, start: date, end: date) -> list[Item]:
    """The meeting, or for a recurring one each occurrence between ``start`` and ``end``."""
    first = meeting.starts
    if first is None:
        return []
    item = _item(
        "meeting",
        meeting,
        first,
        as_of,
        **_related(meeting),
        ends=meeting.ends,
        location=meeting.location,
        series=meeting.series,
    )
    if not meeting.recurrence:
        return [item]
    from tracker.recurrence import occurrences  # dateutil.rrule: only for recurring meetings

    length = first.latest - first.earliest
    return [
        replace(
            item,
            when=replace(first, text=_shifted_text(first, day), earliest=day, latest=day + length),
            ends=None,
        )
        for day in occurrences(meeting.recurrence, first.earliest, start, end)
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
