"""An item's record of how its date held, replayed from its history (pure: no I/O).

Each deadline's and meeting's history is replayed from its creation. Each time its date
(``due``, a meeting's ``starts``) changes, the new window is compared with the last
announced one (a date to be announced in between is skipped over, so TBA and then a new date
compares the new date with the one withdrawn):

- a first date for an item to be announced is a *fixing*: nothing had been announced;
- a new window inside the old one ("end of September" → "30 September", or an hour given)
  is a *refinement*: the date was made precise, not moved;
- a new window holding the old one ("30 September" → "September") is a *widening*;
- any other new window is a *move*. Its slip is how far the window's first day moved
  (earliest to earliest), in days, later positive: "21–30 September" → "1 October" is 10.
  An expiry moved later is an *extension* of the term (New START's five years in 2021),
  agreed rather than slipped: counted apart, not as a move.

A postponement is a status changed to postponed, or a postponed meeting's date moved later
again in a later edit (postponed once more); a date given to one postponed to be announced
is not another. Lead time is the days from the announcement of an item's final date (the
change that set it, or its creation) to its first day, for an item not cancelled, where that
moment is known and before the date: a record a seed loaded, created without a source for its
announcement, has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from tracker import dates
from tracker.dates import DateWindow
from tracker.errors import InvalidInput

# The history an item's record is read from: its creation, its date, its status.
READ_FIELDS = ("created", "due", "starts", "status")
DATE_FIELDS = frozenset({"due", "starts"})


class Revised(Protocol):
    """What a replay reads of a history row (a ``Change``, or its columns selected)."""

    @property
    def field(self) -> str: ...
    @property
    def old(self) -> str | None: ...
    @property
    def new(self) -> str | None: ...
    @property
    def changed_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def news(self) -> bool: ...
    @property
    def source_id(self) -> int | None: ...


class Revision(StrEnum):
    """What a new date did to the last one announced."""

    FIXED = "fixed"
    REFINED = "refined"
    WIDENED = "widened"
    MOVED = "moved"


def compare(old: DateWindow | None, new: DateWindow) -> tuple[Revision, int | None]:
    """How ``new`` revises ``old`` (None: nothing was announced), and a move's slip in days
    (its first day's move, later positive)."""
    if old is None:
        return Revision.FIXED, None
    if old.earliest <= new.earliest and new.latest <= old.latest:
        return Revision.REFINED, None
    if new.earliest <= old.earliest and old.latest <= new.latest:
        return Revision.WIDENED, None
    return Revision.MOVED, (new.earliest - old.earliest).days


@dataclass
class ItemRecord:
    """One deadline's or meeting's record, replayed from its history."""

    type: str
    slug: str
    series: str | None = None
    body: str | None = None
    dated: bool = False  # a date was announced for it at some time
    term: bool = False  # its date is a term's end (an expiry): a later one is an extension
    slips: list[int] = field(default_factory=list)  # each move's slip in days
    extensions: int = 0
    refinements: int = 0
    postponements: int = 0
    cancelled: bool = False
    lead_days: int | None = None


def _window(text: str | None, at: datetime) -> DateWindow | None:
    """A recorded date; None for one to be announced (or text no longer read)."""
    if text is None or text == dates.TBA.text:
        return None
    return _parsed(text) or _parsed(text, at.date())


@lru_cache(maxsize=4096)  # a catalogue's dates repeat: a month, a quarter, a year
def _parsed(text: str, recorded_on: date | None = None) -> DateWindow | None:
    """Recorded (canonical) text reads alone; ``recorded_on`` only for older text."""
    try:
        return dates.parse(text, recorded_on=recorded_on)
    except InvalidInput:
        return None


def replay(
    record: ItemRecord,
    changes: Sequence[Revised],
    status: str,
    known_at: datetime | None = None,
) -> ItemRecord | None:
    """Fill ``record`` from the item's ``changes`` in order, those known at ``known_at``
    (None: all); None when its creation was not known then. ``status`` is its status now,
    which counts when no change of status was ever recorded (a record created postponed
    or cancelled, a seed's say)."""
    status_recorded = any(change.field == "status" for change in changes)
    if known_at is not None:
        changes = [change for change in changes if change.changed_at <= known_at]
        if not any(change.field == "created" for change in changes):
            return None
    last: DateWindow | None = None  # the last date announced, through a TBA
    current: DateWindow | None = None  # the date now (None: to be announced)
    announced: Revised | None = None  # the change that set ``current``
    postponed_in: tuple[datetime, datetime] | None = None  # the edit that postponed it
    recorded_status = ""
    for change in changes:
        edit = (change.changed_at, change.recorded_at)
        if change.field == "created":
            last = current = _window(change.new, change.changed_at)
            announced = change
            record.dated = record.dated or current is not None
        elif change.field in DATE_FIELDS:
            before, current = current, _window(change.new, change.changed_at)
            announced = change if current is not None else None
            if current is None:
                continue
            revision, slip = compare(last, current)
            if slip is not None and slip > 0 and record.term:
                record.extensions += 1
            elif slip is not None:
                record.slips.append(slip)
                again = recorded_status == "postponed" and edit != postponed_in
                if again and before is not None and slip > 0:
                    record.postponements += 1
            record.refinements += revision is Revision.REFINED
            record.dated, last = True, current
        elif change.field == "status":
            if change.new == "postponed" and change.old != "postponed":
                record.postponements += 1
                postponed_in = edit
            record.cancelled = record.cancelled or change.new == "cancelled"
            recorded_status = change.new or ""
    if not status_recorded:
        record.postponements += status == "postponed"
        record.cancelled = status == "cancelled"
    record.lead_days = None if record.cancelled else _lead(current, announced)
    return record


def _lead(final: DateWindow | None, announced: Revised | None) -> int | None:
    if final is None or announced is None:
        return None
    # A creation loaded with a seed's record is dated by the load or by the record's
    # first change, not by an announcement, unless a source is cited for it.
    if announced.field == "created" and not announced.news and announced.source_id is None:
        return None
    lead = (final.earliest - announced.changed_at.date()).days
    return lead if lead > 0 else None
