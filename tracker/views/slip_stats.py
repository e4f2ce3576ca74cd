"""Slip statistics: how well the dates a series or a body announces hold, from history.

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

A postponement is a status changed to postponed, or a postponed meeting's date moved later
again in a later edit (postponed once more); a date given to one postponed to be announced
is not another. Lead time is the days from the announcement of an item's final date (the
change that set it, or its creation) to its first day, for an item not cancelled, where that
moment is known and before the date: a record a seed loaded, created without a source for its
announcement, has none.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.dates import DateWindow
from tracker.errors import InvalidInput

# The history an item's record is read from: its creation, its date, its status.
READ_FIELDS = ("created", "due", "starts", "status")
DATE_FIELDS = frozenset({"due", "starts"})
# A record is poor when at least half of at least this many dated items moved, or when
# at least POOR_POSTPONEMENTS postponements were recorded.
POOR_MIN_DATED = 3
POOR_POSTPONEMENTS = 2


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
    slips: list[int] = field(default_factory=list)  # each move's slip in days
    refinements: int = 0
    postponements: int = 0
    cancelled: bool = False
    lead_days: int | None = None


def _window(text: str | None, at: datetime) -> DateWindow | None:
    """A recorded date; None for one to be announced (or text no longer read)."""
    if text is None or text == dates.TBA.text:
        return None
    try:
        return dates.parse(text, recorded_on=at.date())
    except InvalidInput:
        return None


def replay(record: ItemRecord, changes: Iterable[Change], status: str) -> ItemRecord:
    """Fill ``record`` from the item's ``changes`` in order; ``status`` is its status now,
    which counts for a record created postponed or cancelled (a seed's, say)."""
    last: DateWindow | None = None  # the last date announced, through a TBA
    current: DateWindow | None = None  # the date now (None: to be announced)
    announced: Change | None = None  # the change that set ``current``
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
            if slip is not None:
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
    if status == "postponed" and not record.postponements:
        record.postponements = 1
    record.cancelled = record.cancelled or status == "cancelled"
    record.lead_days = None if record.cancelled else _lead(current, announced)
    return record


def _lead(final: DateWindow | None, announced: Change | None) -> int | None:
    if final is None or announced is None:
        return None
    # A creation loaded with a seed's record is dated by the load or by the record's
    # first change, not by an announcement, unless a source is cited for it.
    if announced.field == "created" and not announced.news and announced.source_id is None:
        return None
    lead = (final.earliest - announced.changed_at.date()).days
    return lead if lead > 0 else None


@dataclass(frozen=True)
class SlipStats:
    """The record of a group of items: all of them, a series', a body's or a treaty's."""

    of: str  # "all", "series", "body" or "treaty"
    name: str | None
    items: int
    dated: int
    moved: int  # dated items whose date moved at least once
    moves: int
    refinements: int
    postponed: int
    cancelled: int
    median_slip_days: float | None
    worst_slip_days: int | None
    median_lead_days: float | None
    leads: int  # the items whose lead time is known

    @property
    def poor(self) -> bool:
        """At least half of its dated items moved (of at least three), or postponed twice."""
        by_moves = self.dated >= POOR_MIN_DATED and 2 * self.moved >= self.dated
        return by_moves or self.postponed >= POOR_POSTPONEMENTS

    def note(self) -> str:
        """'dates of this series moved for 4 of 6 items; median slip 12 days'."""
        said = f"dates of this {self.of} moved for {self.moved} of {self.dated} items"
        if self.postponed:
            said += f", {self.postponed} postponement" + ("s" if self.postponed > 1 else "")
        if self.median_slip_days is not None:
            said += f"; median slip {_days(self.median_slip_days)}"
        return said

    def as_dict(self) -> dict[str, Any]:
        return {
            "of": self.of,
            "name": self.name,
            "items": self.items,
            "dated": self.dated,
            "moved": self.moved,
            "moves": self.moves,
            "refinements": self.refinements,
            "postponed": self.postponed,
            "cancelled": self.cancelled,
            "median_slip_days": _number(self.median_slip_days),
            "worst_slip_days": self.worst_slip_days,
            "median_lead_days": _number(self.median_lead_days),
            "leads": self.leads,
            "poor": self.poor,
            "note": self.note() if self.poor else None,
        }


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def _days(value: float) -> str:
    shown = _number(value)
    return f"{shown} day" + ("" if shown in (1, -1) else "s")


def summarise(of: str, name: str | None, records: Sequence[ItemRecord]) -> SlipStats:
    slips = [slip for record in records for slip in record.slips]
    leads = [record.lead_days for record in records if record.lead_days is not None]
    return SlipStats(
        of=of,
        name=name,
        items=len(records),
        dated=sum(record.dated for record in records),
        moved=sum(bool(record.slips) for record in records),
        moves=len(slips),
        refinements=sum(record.refinements for record in records),
        postponed=sum(record.postponements for record in records),
        cancelled=sum(record.cancelled for record in records),
        median_slip_days=float(statistics.median(slips)) if slips else None,
        worst_slip_days=max(slips) if slips else None,
        median_lead_days=float(statistics.median(leads)) if leads else None,
        leads=len(leads),
    )


def grouped(of: str, records: Sequence[ItemRecord]) -> list[SlipStats]:
    """Each series' or body's record (``of``), by name; items without one are left out."""
    groups: dict[str, list[ItemRecord]] = defaultdict(list)
    for record in records:
        name = record.series if of == "series" else record.body
        if name:
            groups[name].append(record)
    return [summarise(of, name, groups[name]) for name in sorted(groups, key=str.casefold)]


@dataclass(frozen=True)
class Scope:
    """Which items a report reads: a series' (meetings only), a body's, a treaty's."""

    series: str | None = None
    body: str | None = None
    treaty: str | None = None


def records(session: Session, scope: Scope = Scope()) -> list[ItemRecord]:
    """Every deadline's and meeting's record within ``scope``, by type and slug."""
    found: list[ItemRecord] = []
    for model, type_ in ((Deadline, "deadline"), (Meeting, "meeting")):
        if scope.series is not None and model is Deadline:
            continue  # only meetings belong to a series
        series = Meeting.series if model is Meeting else null()
        query = select(model.id, model.slug, model.body, model.status, series)
        query = query.order_by(model.slug)
        if scope.series is not None:
            query = query.where(Meeting.series == scope.series)
        if scope.body is not None:
            query = query.where(model.body == scope.body)
        if scope.treaty is not None:
            query = query.join(Treaty, model.treaty_id == Treaty.id)
            query = query.where(Treaty.slug == scope.treaty)
        rows = session.execute(query).all()
        history = _changes(session, type_, query.with_only_columns(model.id).order_by(None))
        for id_, slug, body, status, in_series in rows:
            record = ItemRecord(type_, slug, series=in_series, body=body)
            found.append(replay(record, history.get(id_, ()), status))
    return found


def _changes(session: Session, type_: str, ids: Any) -> dict[int, list[Change]]:
    """The changes :func:`replay` reads of the items ``ids`` selects, by item, in order."""
    query = (
        select(Change)
        .where(Change.subject_type == type_, Change.field.in_(READ_FIELDS))
        .where(Change.subject_id.in_(ids.scalar_subquery()))
        .order_by(Change.changed_at, Change.id)
    )
    found: dict[int, list[Change]] = defaultdict(list)
    for change in session.scalars(query):
        found[change.subject_id].append(change)
    return found


def report(session: Session, scope: Scope = Scope()) -> dict[str, Any]:
    """``tracker stats --json``: the record of everything in ``scope`` and of each series
    and each body in it. Raises NotFound for an unknown treaty, InvalidInput for a series
    or a body no item has."""
    if scope.treaty is not None:
        queries.treaty(session, scope.treaty)
    found = records(session, scope)
    asked = [f"{of} {name!r}" for of, name in (("series", scope.series), ("body", scope.body))
             if name is not None]  # fmt: skip
    if asked and not found:
        raise InvalidInput(f"no item of {' and '.join(asked)}: `tracker stats` names them all")
    return {
        "scope": {"series": scope.series, "body": scope.body, "treaty": scope.treaty},
        "overall": summarise("all", None, found).as_dict(),
        "series": [stats.as_dict() for stats in grouped("series", found)],
        "bodies": [stats.as_dict() for stats in grouped("body", found)],
    }


def track_record(session: Session, type_: str, slug: str) -> list[dict[str, Any]]:
    """The records of the item's series and of its body (those it has): each ``poor``
    one's ``note`` is said beside the item's confidence."""
    item = (
        queries.deadline(session, slug) if type_ == "deadline" else queries.meeting(session, slug)
    )
    groups = [("series", getattr(item, "series", None)), ("body", item.body)]
    found = []
    for of, name in groups:
        if name:
            scope = Scope(series=name) if of == "series" else Scope(body=name)
            found.append(summarise(of, name, records(session, scope)).as_dict())
    return found
