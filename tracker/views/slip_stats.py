"""Slip statistics: how well the dates a series, a body or a treaty's items announce hold,
from each item's record (:mod:`tracker.views.slip_records`): ``tracker stats``, the treaty
pages, and an item's ``track_record``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, DeadlineKind, Meeting
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput
from tracker.views.slip_records import READ_FIELDS, ItemRecord, Revised, replay

# The columns of a change a replay reads (:class:`Revised`).
REVISED = ("field", "old", "new", "changed_at", "recorded_at", "news", "source_id")
# A record is poor when at least half of at least this many dated items moved, or when
# at least POOR_POSTPONEMENTS postponements were recorded.
POOR_MIN_DATED = 3
POOR_POSTPONEMENTS = 2


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
    extended: int  # expiries moved later: terms extended, not slips
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
        whose = "" if self.of == "all" else f" of this {self.of}"
        said = f"dates{whose} moved for {self.moved} of {self.dated} items"
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
            "extended": self.extended,
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
        extended=sum(record.extensions for record in records),
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
    known_at: datetime | None = None  # as known at that moment (None: now)


def records(session: Session, scope: Scope = Scope()) -> list[ItemRecord]:
    """Every deadline's and meeting's record within ``scope``, by type and slug."""
    found: list[ItemRecord] = []
    for model, type_ in ((Deadline, "deadline"), (Meeting, "meeting")):
        if scope.series is not None and model is Deadline:
            continue  # only meetings belong to a series
        series = Meeting.series if model is Meeting else null()
        query = select(model.id, model.slug, model.body, model.status, model.kind, series)
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
        for id_, slug, body, status, kind, in_series in rows:
            term = model is Deadline and kind == DeadlineKind.EXPIRY
            record = ItemRecord(type_, slug, series=in_series, body=body, term=term)
            replayed = replay(record, history.get(id_, []), status, scope.known_at)
            found += [replayed] if replayed is not None else []
    return found


def _changes(session: Session, type_: str, ids: Any) -> dict[int, list[Revised]]:
    """The changes :func:`replay` reads of the items ``ids`` selects, by item, in order
    (their columns only: no ORM object, no source joined)."""
    query = (
        select(Change.subject_id, *(getattr(Change, name) for name in REVISED))
        .where(Change.subject_type == type_, Change.field.in_(READ_FIELDS))
        .where(Change.subject_id.in_(ids.scalar_subquery()))
        .order_by(Change.changed_at, Change.id)
    )
    found: dict[int, list[Revised]] = defaultdict(list)
    for row in session.execute(query):
        found[row.subject_id].append(cast("Revised", row))
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


def track_record(
    session: Session, type_: str, slug: str, known_at: datetime | None = None
) -> list[dict[str, Any]]:
    """The records of the item's series and of its body (those it has), as known at
    ``known_at``: each ``poor`` one's ``note`` is said beside the item's confidence."""
    item = (
        queries.deadline(session, slug) if type_ == "deadline" else queries.meeting(session, slug)
    )
    groups = [("series", getattr(item, "series", None)), ("body", item.body)]
    found = []
    for of, name in groups:
        if name:
            scope = Scope(series=name, known_at=known_at)
            if of == "body":
                scope = Scope(body=name, known_at=known_at)
            found.append(summarise(of, name, records(session, scope)).as_dict())
    return found
