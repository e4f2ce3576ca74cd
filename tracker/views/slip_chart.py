"""The slip chart of a deadline or meeting: how its date window moved, revision by revision.

One row per revision of the window, oldest first and the current last: the window it
held from the day it was made (the item's creation, then each change of ``due``, or of
``starts``/``ends``, made at one instant) until the next. Each row draws the window as a
bar on one time axis shared by all rows and is labelled with the day of the revision and
the window's text ("2021-07-28: end of September 2021", "2021-09-27: 2021-09-30"). A
window to be announced, or one no longer readable, has no bar. Geometry in SVG
coordinates only; the item page's template draws it (no scripts). :func:`revisions` and
:func:`chart` are pure; :func:`of_item` reads the item and its history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog import history, queries
from tracker.catalog.models import Deadline, Meeting
from tracker.errors import InvalidInput
from tracker.views import knowledge
from tracker.views.wording import window_text

WIDTH = 720
SIDE = 8  # margin left and right of the axis
TOP = 28  # the axis and its labels
ROW = 38  # a row: its label, then its bar
BAR = 14
MAX_ROWS = 40  # the newest revisions, when an item has more
MAX_TICKS = 12
DATE_FIELDS = {"deadline": ("due",), "meeting": ("starts", "ends")}


@dataclass(frozen=True)
class Revision:
    """The item's date fields (their texts, as history records them) from ``made`` on."""

    made: date
    values: Mapping[str, str | None]

    @property
    def text(self) -> str:
        """The window as written: ``end of September 2021``, ``2027-05-04 to 2027-05-08``;
        a meeting's end within its start's window ("2021-09-30" for a start "end of
        September 2021") adds nothing and is left out."""
        if "due" in self.values:
            return self.values["due"] or "TBA"
        starts, ends = self.values.get("starts") or "TBA", self.values.get("ends")
        opening, closing = _window(starts, self.made), _window(ends or "", self.made)
        if opening and closing and closing[1] <= opening[1]:
            ends = None
        return window_text(starts, ends)

    def days(self) -> tuple[date, date] | None:
        """The first and last day the window may fall on; None when it has none."""
        opening = self.values.get("due", self.values.get("starts"))
        window = _window(opening, self.made) if opening else None
        if window is None:
            return None
        closing = self.values.get("ends")
        end = _window(closing, self.made) if closing else None
        return window[0], max(window[1], end[1]) if end else window[1]


def _window(text: str, made: date) -> tuple[date, date] | None:
    if not text:
        return None
    try:
        window = dates.parse(text, recorded_on=made)  # "by …" opens on the day it was said
    except InvalidInput:
        return None
    return None if window.is_tba else (window.earliest, window.latest)


@dataclass(frozen=True)
class Row:
    y: float  # the top of the row
    made: str  # ISO day
    text: str
    label: str
    x: float | None  # the bar: None when the window has no days
    width: float | None
    first: str | None  # ISO days of the bar's ends
    last: str | None


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class SlipChart:
    width: int
    height: int
    left: int
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    description: str


def revisions(
    current: Mapping[str, str | None],
    created: datetime,
    changes: Sequence[tuple[str, str | None, str | None, datetime]],
) -> list[Revision]:
    """The revisions of a window now ``current`` (field → text), given the changes of its
    fields (field, old, new, when), oldest first; changes made at one instant are one
    revision. Worked back from the current values, so the last revision is the current."""
    groups: list[tuple[datetime, dict[str, str | None]]] = []  # when, the old values
    for field, old, _new, at in changes:
        if groups and groups[-1][0] == at:
            groups[-1][1].setdefault(field, old)
        else:
            groups.append((at, {field: old}))
    states = [dict(current)]
    for _, olds in reversed(groups):
        states.insert(0, {**states[0], **olds})
    first = min([created, *(at for at, _ in groups[:1])])
    made = [first, *(at for at, _ in groups)]
    return [Revision(at.date(), state) for at, state in zip(made, states, strict=True)]


def chart(found: Sequence[Revision]) -> SlipChart | None:
    """The rows and axis of ``found`` (the newest :data:`MAX_ROWS`); None when no
    revision has a window with days."""
    found = list(found)[-MAX_ROWS:]
    spans = [revision.days() for revision in found]
    dated = [span for span in spans if span is not None]
    if not dated:
        return None
    start = min(first for first, _ in dated)
    end = max(last for _, last in dated) + timedelta(days=1)
    scale = (WIDTH - 2 * SIDE) / (end - start).days

    def x(day: date) -> float:
        return round(SIDE + (day - start).days * scale, 1)

    rows = []
    for n, (revision, span) in enumerate(zip(found, spans, strict=True)):
        y = TOP + n * ROW
        label = f"{revision.made.isoformat()}: {revision.text}"
        if span is None:
            rows.append(Row(y, revision.made.isoformat(), revision.text, label, *(None,) * 4))
            continue
        first, last = span
        left, right = x(first), x(last + timedelta(days=1))
        rows.append(
            Row(y, revision.made.isoformat(), revision.text, label, left,
                round(max(right - left, 2.0), 1), first.isoformat(), last.isoformat())
        )  # fmt: skip
    description = (
        f"How the date moved: {len(found)} revision{'s' * (len(found) != 1)}, from "
        f"{found[0].text} ({found[0].made}) to {found[-1].text} ({found[-1].made})"
    )
    ticks = tuple(Tick(x(day), text) for day, text in _tick_days(start, end))
    return SlipChart(WIDTH, TOP + len(rows) * ROW, SIDE, tuple(rows), ticks, description)


def _tick_days(start: date, end: date) -> list[tuple[date, str]]:
    """Month starts within the axis (every few months or years when many), labelled; the
    axis' first day when no month starts within it."""
    months = []
    day = date(start.year, start.month, 1)
    while day < end:
        if day >= start:
            months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if not months:
        return [(start, start.isoformat())]
    if len(months) > MAX_TICKS * 3:  # years
        years = [day for day in months if day.month == 1] or months[:1]
        step = math.ceil(len(years) / MAX_TICKS)
        return [(day, str(day.year)) for day in years[::step]]
    step = math.ceil(len(months) / MAX_TICKS)
    return [(day, f"{day:%b %Y}") for day in months[::step]]


def of_item(
    session: Session, type_: str, slug: str, known_at: datetime | None = None
) -> SlipChart | None:
    """The slip chart of a deadline or meeting (raises NotFound); with ``known_at``, of
    the revisions known then, the last being the window then believed."""
    item: Deadline | Meeting = (
        queries.deadline(session, slug) if type_ == "deadline" else queries.meeting(session, slug)
    )
    known = knowledge.load(session, known_at)
    believed = known.believed(type_, item.id) if known is not None else {}
    fields = DATE_FIELDS[type_]
    current = {
        field: believed[field] if field in believed else _text(history.current(item, field))
        for field in fields
    }
    changes = [
        change for change in history.history(session, item) if known is None or known.allows(change)
    ]
    moves = [(c.field, c.old, c.new, c.changed_at) for c in changes if c.field in fields]
    created = [c.changed_at for c in changes if c.field == "created"] or [item.created_at]
    return chart(revisions(current, min(created), moves))


def _text(value: object) -> str | None:
    return None if value is None else str(value)
