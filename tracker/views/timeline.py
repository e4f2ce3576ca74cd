"""Geometry of the board's timeline chart: one lane per treaty, in SVG coordinates. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tracker.catalog.treaties import Treaty
from tracker.views.items import Item

WIDTH = 1200
LABEL = 150
LANE = 34
TOP = 40
MARKED = ("withdrew", "suspended", "de-ratified")


@dataclass(frozen=True)
class Mark:
    x: float
    label: str
    kind: str  # deadline, meeting, withdrew, suspended, de-ratified
    # A date not known to the day: the last day its window may fall on (drawn as a bar
    # from ``x``, its first possible day); None for a day or a time.
    until_x: float | None = None


@dataclass(frozen=True)
class Lane:
    y: float
    label: str
    slug: str
    start: float
    end: float
    status: str
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    year: int


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    lanes: tuple[Lane, ...]
    ticks: tuple[Tick, ...]
    today_x: float
    first: date
    last: date
    description: str


def _first_date(treaty: Treaty) -> date | None:
    return treaty.signed or treaty.entered_into_force


def timeline(
    treaties: Sequence[Treaty], items: Sequence[Item], today: date, horizon_years: int = 2
) -> Timeline:
    """Lanes from signature to the end (expiry or withdrawal), else expiry, else today."""
    starts = [d for d in (_first_date(t) for t in treaties) if d]
    first = date(min(starts).year, 1, 1) if starts else date(today.year - 10, 1, 1)
    last = date(today.year + horizon_years, 12, 31)
    span = (last - first).days or 1

    def x(day: date) -> float:
        day = min(max(day, first), last)
        return round(LABEL + (WIDTH - LABEL - 10) * (day - first).days / span, 1)

    lanes = []
    for index, treaty in enumerate(treaties):
        begin = _first_date(treaty) or first
        end = treaty.ended_on() or treaty.expires or today
        marks = [
            Mark(x(e.on), f"{e.state} {e.event} {e.on.isoformat()}", e.event)
            for e in treaty.events
            if e.event in MARKED
        ]
        marks += [
            Mark(
                x(e.when.earliest),
                f"{e.title} ({e.when.text})",
                e.type,
                None if e.when.is_exact else x(e.when.latest),
            )
            for e in items
            if e.treaty == treaty.slug and first <= e.when.earliest <= last
        ]
        lanes.append(
            Lane(
                y=TOP + index * LANE,
                label=treaty.short_name,
                slug=treaty.slug,
                start=x(begin),
                end=x(end),
                status=treaty.status,
                marks=tuple(marks),
            )
        )
    ticks = tuple(
        Tick(x(date(year, 1, 1)), year)
        for year in range(first.year, last.year + 1)
        if (year - first.year) % _step(last.year - first.year) == 0
    )
    description = "; ".join(
        f"{t.short_name}: {t.status}, from {(_first_date(t) or first).isoformat()}"
        + (f" to {t.expires.isoformat()}" if t.expires else "")
        for t in treaties
    )
    return Timeline(
        width=WIDTH,
        height=TOP + max(len(lanes), 1) * LANE + 10,
        lanes=tuple(lanes),
        ticks=ticks,
        today_x=x(today),
        first=first,
        last=last,
        description=description,
    )


def _step(years: int) -> int:
    return 1 if years <= 15 else 5 if years <= 60 else 10
