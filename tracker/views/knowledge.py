"""The catalogue as known at a moment (``--known-at``, ``?known_at=``).

Every change says when it became public (``Change.changed_at``). As known at a moment:

- an item whose creation became known later is absent;
- each field holds the value then believed: the ``old`` value of its first change after
  the moment (undoing, newest first, every later change comes to the same);
- an item removed since is absent too (history keeps only its title);
- a status is the one then known, whatever the ``--as-of`` day (:meth:`Knowledge.reached`).

Only the changes after the moment are read (the index on ``changed_at``): knowing what
happened up to last month costs a month of history, not all of it (a moment deep in the
history costs a scan of it). A listing's query runs as without knowledge; :func:`relist`
then drops the items not yet known, restates those revised since, and adds revised ones
whose earlier state the listing takes (read by id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput, NotFound

RowT = TypeVar("RowT", Deadline, Meeting)
Key = tuple[str, int]  # (subject type, id)

_WINDOWS = frozenset({"due", "starts", "ends"})
_SUFFIXES = ("text", "earliest", "latest", "precision", "time")
# Fields whose earlier value no listing selects or orders by: an item revised only in
# these is listed (or not) by its current row, and restated.
_SHOWN_ONLY = frozenset(
    {"title", "notes", "outcome", "location", "delegations", "alert_leads", "confirm_lead_days"}
)
# History that is no column: when an item became known, or was removed; a list kept as
# text cannot be read back (a delegation), so it stays as it is now.
_NOT_COLUMNS = frozenset({"created", "removed", "delegations"})
_PRIMARY = {"deadline": "due", "meeting": "starts"}
_IDS_PER_QUERY = 500


@lru_cache(maxsize=65536)
def _window(text: str) -> dates.DateWindow | None:
    """A date's recorded text as its window; None for a date to be announced. A day
    (``2027-03-02``, most dates) is read directly: the grammar takes ten times longer."""
    if _DAY.fullmatch(text):
        day = date.fromisoformat(text)
        return dates.DateWindow(text, day, day, dates.Precision.DAY)
    if text.strip().upper() == dates.TBA.text.upper():
        return None
    return dates.parse(text)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Knowledge:
    """What was known at ``at``: the items not yet known, and for each item revised
    since, the text of each revised field as then believed."""

    at: datetime
    unknown: frozenset[Key]
    believed: Mapping[Key, Mapping[str, str | None]]

    def known(self, type_: str, id_: int) -> bool:
        return (type_, id_) not in self.unknown

    def revised(self, type_: str) -> dict[int, Mapping[str, str | None]]:
        """The items of a type known at ``at`` and revised since, by id."""
        return {
            key[1]: fields
            for key, fields in self.believed.items()
            if key[0] == type_ and key not in self.unknown
        }

    def restate(self, session: Session, row: RowT) -> RowT:
        """The row as known at ``at`` (itself when nothing changed since and its status
        waits for no day)."""
        fields = self.believed.get((_type(row), row.id))
        values = _columns(session, fields) if fields else {}
        if self.reached(values.get("status_on", row.status_on)):
            values["status_on"] = None
        return cast(RowT, KnownRow(row, values)) if values else row

    def reached(self, status_on: date | None) -> bool:
        """Whether a status reached on ``status_on`` had been reached when known at
        ``at``. Asked of a moment, the status is the one then known: it no longer waits
        for its day as ``--as-of`` alone has it wait (lifecycle.state), so as known
        today a plenary held on 30 September 2021 is ``held`` as of 1 August 2021. The
        day it was reached is then read as not given (only the lifecycle reads it)."""
        return status_on is not None and status_on <= self.at.date()

    def allows(self, change: Change) -> bool:
        """Whether a change was known at ``at``."""
        return change.changed_at <= self.at


def moment(text: str | None, timezone: str, name: str = "--known-at") -> datetime | None:
    """A ``--known-at``/``?known_at=`` date expression as the instant it starts in
    ``timezone`` (None when not given); raises InvalidInput naming ``name``."""
    if text is None:
        return None
    try:
        return dates.parse(text).start(timezone)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def load(session: Session, at: datetime | None) -> Knowledge | None:
    """What was known at ``at`` (None: everything recorded, as now); read once per
    session and moment (a command's listings share it)."""
    if at is None:
        return None
    held = session.info.get(_HELD)
    if held is not None and held.at == at:
        return cast(Knowledge, held)
    session.info[_HELD] = found = _read(session, at)
    return found


_HELD = "tracker.views.knowledge"


def _read(session: Session, at: datetime) -> Knowledge:
    unknown: set[Key] = set()
    believed: dict[Key, dict[str, str | None]] = {}
    for type_, id_, field, old, *_ in _first_changes_after(session, at):
        if field == "created":
            unknown.add((type_, id_))
        elif field not in _NOT_COLUMNS:
            believed.setdefault((type_, id_), {})[field] = old
    return Knowledge(at, frozenset(unknown), believed)


def _first_changes_after(session: Session, at: datetime) -> Iterable[Sequence[Any]]:
    """For each item and field changed after ``at``, its first change since: ``(subject
    type, subject id, field, old, ...)``. A few changes since (the usual case: a recent
    moment) are read newest first along the index on ``changed_at``; many (a moment deep
    in the history) are reduced by the database, one row per item and field: PostgreSQL's
    DISTINCT ON, SQLite's bare column beside MIN (``old`` of the row holding the MIN)."""
    columns = (Change.subject_type, Change.subject_id, Change.field)
    later = select(*columns, Change.old).where(Change.changed_at > at)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import distinct_on

        first = (*columns, Change.changed_at, Change.id)
        return session.execute(later.ext(distinct_on(*columns)).order_by(*first))
    if dialect == "sqlite":
        count = session.scalar(select(func.count()).where(Change.changed_at > at)) or 0
        if count > _FEW_CHANGES:
            earliest = func.min(Change.changed_at, type_=String())
            return session.execute(later.add_columns(earliest).group_by(*columns))
    newest_first = later.order_by(Change.changed_at.desc(), Change.id.desc())
    found: dict[tuple[str, int, str], Sequence[Any]] = {}
    for row in session.execute(newest_first):  # the earliest is written last
        found[(row[0], row[1], row[2])] = row
    return found.values()


# Up to this many changes since a moment are read one by one (an index range, no sort);
# more are grouped by SQLite (a scan of the table in item order, cheaper than the range).
_FEW_CHANGES = 100_000


def as_known(session: Session, known: Knowledge | None, row: RowT) -> RowT:
    """One row as known (itself without knowledge); raises NotFound when it was not yet
    known."""
    if known is None:
        return row
    type_ = _type(row)
    if not known.known(type_, row.id):
        at = known.at.isoformat(timespec="minutes")
        raise NotFound(f"the {type_} {row.slug!r} was not yet known at {at}")
    return known.restate(session, row)


def restate_records(
    session: Session, known: Knowledge | None, type_: str, records: Iterable[Any]
) -> list[Any]:
    """Rows read as columns (named tuples with ``id``, and ``treaty_slug``/``treaty_name``
    if they have them) as known: those not yet known dropped, those revised restated.
    None is added: the feeds' calendars hold the items they read, restated."""
    if known is None:
        return list(records)
    found = []
    for record in records:
        if not known.known(type_, record.id):
            continue
        fields = known.believed.get((type_, record.id))
        if fields:
            columns = _columns(session, fields)
            if "treaty" in columns:
                treaty = columns.pop("treaty")
                columns["treaty_slug"] = treaty.slug if treaty else None
                columns["treaty_name"] = treaty.name if treaty else None
            held = record._fields
            record = record._replace(**{k: v for k, v in columns.items() if k in held})
        if "status_on" in record._fields and known.reached(record.status_on):
            record = record._replace(status_on=None)
        found.append(record)
    return found


class KnownRow:
    """A deadline's or meeting's row with the columns then believed over its own."""

    __slots__ = ("_row", "_values")

    def __init__(self, row: Deadline | Meeting, values: Mapping[str, Any]) -> None:
        self._row = row
        self._values = values

    def __getattr__(self, name: str) -> Any:
        values = self._values
        return values[name] if name in values else getattr(self._row, name)

    @property  # type: ignore[misc]  # isinstance() takes it for its row's class
    def __class__(self) -> type:
        return type(self._row)


def _type(row: Deadline | Meeting) -> str:
    return "deadline" if isinstance(row, Deadline) else "meeting"


def _columns(session: Session, fields: Mapping[str, str | None]) -> dict[str, Any]:
    """Recorded texts as the columns they were (a date's five, a treaty's row)."""
    values: dict[str, Any] = {}
    for field, text in fields.items():
        try:
            values |= _column(session, field, text)
        except (InvalidInput, ValueError):  # a text no longer readable: as it is now
            continue
    return values


def _column(session: Session, field: str, text: str | None) -> dict[str, Any]:
    if field in _WINDOWS:
        window = _window(text) if text else None
        parts = (
            (window.text, window.earliest, window.latest, window.precision.value, window.at)
            if window
            else (None,) * len(_SUFFIXES)
        )
        columns = {f"{field}_{suffix}": part for suffix, part in zip(_SUFFIXES, parts, strict=True)}
        if window and window.tz and field != "ends":  # as WindowColumns sets it, unrecorded
            columns["tz"] = window.tz
        return columns
    if field == "status_on":
        return {field: date.fromisoformat(text) if text else None}
    if field == "confirm_lead_days":
        return {field: int(text) if text else None}
    if field == "treaty":
        found = session.scalar(select(Treaty).where(Treaty.slug == text)) if text else None
        return {"treaty": found, "treaty_id": found.id if found else None}
    return {field: text}


def relist(
    session: Session,
    knowledge: Knowledge | None,
    model: type[RowT],
    rows: Iterable[RowT],
    keep: Callable[[RowT], bool],
    could_be: Callable[[dates.DateWindow | None], bool] | None = None,
    *,
    adds: bool = True,
) -> list[RowT]:
    """A listing's ``rows`` (its query as now) as known: those not yet known dropped,
    those revised since restated and kept if ``keep`` (the listing's condition, in
    Python) holds, and the revised ones the query left out added where ``keep`` holds.
    ``could_be`` (given the item's main date then: a deadline's due, a meeting's start)
    says whether the listing could take it: revised items it rules out are not read.
    Without ``adds`` (rows asked for by id), none is added."""
    if knowledge is None:
        return list(rows)
    type_ = model.__name__.lower()
    revised = knowledge.revised(type_)
    found: list[RowT] = []
    seen: set[int] = set()
    for row in rows:
        seen.add(row.id)
        if not knowledge.known(type_, row.id):
            continue
        if row.id not in revised:
            found.append(knowledge.restate(session, row))
        elif keep(known := knowledge.restate(session, row)):
            found.append(known)
    if not adds:
        return found
    wanted = [i for i, fields in revised.items() if i not in seen and _may(fields, type_, could_be)]
    for row in _by_id(session, model, wanted):
        if keep(known := knowledge.restate(session, row)):
            found.append(known)
    return found


def _may(
    fields: Mapping[str, str | None],
    type_: str,
    could_be: Callable[[dates.DateWindow | None], bool] | None,
) -> bool:
    """Whether an item revised in ``fields`` (texts then believed) may be listed though
    its current row was not."""
    if set(fields) <= _SHOWN_ONLY:  # listed as now, or not at all
        return False
    primary = _PRIMARY[type_]
    if could_be is None or primary not in fields:
        return True
    text = fields[primary]
    try:
        return could_be(_window(text) if text else None)
    except (InvalidInput, ValueError):
        return True


def _by_id(session: Session, model: type[RowT], ids: Sequence[int]) -> list[RowT]:
    found: list[RowT] = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chosen = ids[start : start + _IDS_PER_QUERY]
        query = select(model).options(queries.line_loading(model)).where(model.id.in_(chosen))
        found += session.scalars(query)
    return found
