"""The catalogue as known at a moment (``--known-at``, ``?known_at=``).

Every change says when it became public (``Change.changed_at``). As known at a moment:

- an item whose creation became known later is absent;
- each field holds the value then believed: the ``old`` value of its first change after
  the moment (undoing, newest first, every later change comes to the same);
- an item removed since is absent too (history keeps only its title);
- a status is the one then known, whatever the ``--as-of`` day (:meth:`Knowledge.reached`).

A listing's query runs as without knowledge; :func:`relist` then drops the items not yet
known, restates those revised since, and adds revised ones whose earlier state the listing
takes. What it reads is what it could show, not the history since the moment
(:mod:`tracker.views.knowledge_read`): the first changes since of its rows, and of the
items whose main date then may be in its span (:class:`Dates`) or whose other listed
fields changed since. A listing that gives no span reads every item revised since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput, NotFound
from tracker.views import knowledge_read
from tracker.views.knowledge_read import Dates as Dates  # a listing says its span with it
from tracker.views.knowledge_read import could, window_of

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


class Knowledge:
    """What was known at ``at``: the items not yet known, and for each item revised
    since, the text of each revised field as then believed (read for the items asked
    about: a listing's rows and those it may add, not the whole history since)."""

    def __init__(self, session: Session, at: datetime) -> None:
        self.at = at
        self._session = session
        self._unknown: set[Key] = set()
        self._believed: dict[Key, dict[str, str | None]] = {}
        self._read: set[Key] = set()
        self._search = knowledge_read.Search(session, at)
        self._everything = False

    def known(self, type_: str, id_: int) -> bool:
        """Whether the item's creation was known at ``at``."""
        self.read(type_, (id_,))
        return (type_, id_) not in self._unknown

    def believed(self, type_: str, id_: int) -> Mapping[str, str | None]:
        """The texts then believed of an item's fields revised since (none: as now)."""
        self.read(type_, (id_,))
        return self._believed.get((type_, id_), {})

    def revised(self, type_: str, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` revised since ``at``."""
        ids = list(ids)
        self.read(type_, ids)
        return {id_ for id_ in ids if self._believed.get((type_, id_))}

    def read(self, type_: str, ids: Iterable[int]) -> None:
        """Read what was believed of these items (once each; by id, in a few queries)."""
        if self._everything:
            return
        wanted = [i for i in dict.fromkeys(ids) if (type_, i) not in self._read]
        for id_, field, old in knowledge_read.first_changes_of(
            self._session, self.at, type_, wanted
        ):
            if field == "created":
                self._unknown.add((type_, id_))
            elif field not in _NOT_COLUMNS:
                self._believed.setdefault((type_, id_), {})[field] = old
        self._read.update((type_, id_) for id_ in wanted)

    def may_add(
        self, type_: str, could_be: Callable[[dates.DateWindow | None], bool] | None
    ) -> list[int]:
        """The items of a type known at ``at`` that a listing may take though its query
        (as now) left them out: revised since in a field it lists, their main date then
        (if revised) one ``could_be`` takes. Given :class:`Dates`, only the items whose
        main date then may be in its span are read; else every item revised since."""
        if isinstance(could_be, Dates):
            skipped = _SHOWN_ONLY | _NOT_COLUMNS | {_PRIMARY[type_]}
            ids = self._search.dated(type_, _PRIMARY[type_], could_be, skipped)
        else:
            self._read_everything()
            ids = {id_ for kind, id_ in self._believed if kind == type_}
        chosen = sorted(ids)
        self.read(type_, chosen)
        believed = self._believed
        return [
            i
            for i in chosen
            if self.known(type_, i) and _may(believed.get((type_, i), {}), type_, could_be)
        ]

    def _read_everything(self) -> None:
        if self._everything:
            return
        believed: dict[Key, dict[str, str | None]] = {}
        for type_, id_, field, old, *_ in knowledge_read.first_changes_after(
            self._session, self.at
        ):
            if field == "created":
                self._unknown.add((type_, id_))
            elif field not in _NOT_COLUMNS:
                believed.setdefault((type_, id_), {})[field] = old
        self._believed, self._everything = believed, True

    def restate(self, session: Session, row: RowT) -> RowT:
        """The row as known at ``at`` (itself when nothing changed since and its status
        waits for no day)."""
        fields = self.believed(_type(row), row.id)
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
    """What was known at ``at`` (None: everything recorded, as now); one per session and
    moment (a command's listings share it and what it read)."""
    if at is None:
        return None
    held = session.info.get(_HELD)
    if held is not None and held.at == at:
        return cast(Knowledge, held)
    session.info[_HELD] = found = Knowledge(session, at)
    return found


_HELD = "tracker.views.knowledge"


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
    records = list(records)
    known.read(type_, [record.id for record in records])  # all at once: known() reads one
    records = [record for record in records if known.known(type_, record.id)]
    found = []
    for record in records:
        fields = known.believed(type_, record.id)
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
        window = window_of(text) if text else None
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
    says whether the listing could take it: revised items it rules out are not read
    (as :class:`Dates`, nor looked for). Without ``adds`` (rows asked for by id), none
    is added."""
    if knowledge is None:
        return list(rows)
    type_ = model.__name__.lower()
    rows = list(rows)
    seen = {row.id for row in rows}
    knowledge.read(type_, seen)
    rows = [row for row in rows if knowledge.known(type_, row.id)]
    revised = knowledge.revised(type_, [row.id for row in rows])
    found: list[RowT] = []
    for row in rows:
        known = knowledge.restate(session, row)
        if row.id not in revised or keep(known):
            found.append(known)
    if not adds:
        return found
    wanted = [i for i in knowledge.may_add(type_, could_be) if i not in seen]
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
    return could(could_be, fields[primary])


def _by_id(session: Session, model: type[RowT], ids: Sequence[int]) -> list[RowT]:
    found: list[RowT] = []
    for start in range(0, len(ids), knowledge_read.IDS_PER_QUERY):
        chosen = ids[start : start + knowledge_read.IDS_PER_QUERY]
        query = select(model).options(queries.line_loading(model)).where(model.id.in_(chosen))
        found += session.scalars(query)
    return found
