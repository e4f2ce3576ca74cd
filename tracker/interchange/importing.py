"""Importing records from a file into the catalogue, as an upstream that never undoes a
local edit.

A file (an iCalendar, a CSV or JSON table) is read into :class:`Incoming` records, each
known by its identity in the file: an iCalendar UID, or a slug. Each record is matched to a
deadline or meeting (by its ``uid`` column for a UID, by slug otherwise) and merged field
by field with the rule seeds follow (:class:`tracker.catalog.seed_base.Upstream`): the
value the file last gave a field is kept as its base, so a field a person edited since is
kept and reported as a conflict. What is written goes through the catalogue's editing
functions, so history, the plan marks and change alerts follow as for a CLI edit.

The caller owns the transaction; a dry run does the same work inside a savepoint and rolls
it back, so its counts are the real run's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import editing, seed_base
from tracker.catalog.history import current, history
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.seed_base import FieldRef, Upstream
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.errors import ImpossibleChange, InvalidInput, NotFound
from tracker.interchange.import_report import (
    FieldConflict,
    ImportedRecord,
    ImportReport,
    Incoming,
)

__all__ = [
    "FieldConflict",
    "ImportReport",
    "ImportedRecord",
    "Incoming",
    "import_calendar",
    "import_records",
]

# The most an import reads (as seeds do).
MAX_BYTES = 20 * 1024 * 1024
# Where the bases of imported fields are kept (``seed_values.section``): apart from the
# seeds', so that a file and the seeds are two upstreams that never take each other's
# values for local edits. A calendar's records are known by UID, a table's by slug.
CALENDAR_SECTION = "import:ics"
TABLE_SECTIONS = {"meeting": "import:meeting", "deadline": "import:deadline"}
# The longest identity a base is kept under (seed_values.identity); longer UIDs are hashed.
IDENTITY_MAX = 120
# Columns that hold a date window, read without the CLI's extras (a range of days given
# to starts is kept as it is written; an uncertain date does not lower the confidence
# again: the file states both).
DATED = {"starts", "ends", "due"}
# Options a record cannot leave empty (the columns hold no "none").
REQUIRED = {"title", "kind", "status", "confidence", "tz"}


def import_calendar(
    session: Session,
    data: bytes,
    *,
    source: Source,
    now: datetime,
    treaty: Treaty | None = None,
    body: str | None = None,
    dry_run: bool = False,
    takes: Iterable[str] = (),
    origin: str = "import",
) -> ImportReport:
    """Import an iCalendar's VEVENTs as meetings, known by UID. The caller owns the
    transaction. Raises InvalidInput (one line naming the component) on a malformed
    calendar, before anything is written."""
    from tracker.interchange.ics_import import read_calendar

    if len(data) > MAX_BYTES:
        raise InvalidInput(f"calendar: larger than {MAX_BYTES // 2**20} MB")
    records, skipped = read_calendar(data)
    report = import_records(
        session,
        records,
        source=source,
        now=now,
        treaty=treaty.slug if treaty else None,
        body=body,
        dry_run=dry_run,
        takes=takes,
        origin=origin,
    )
    report.skipped += skipped
    return report


def import_records(
    session: Session,
    records: Sequence[Incoming],
    *,
    source: Source | None,
    now: datetime,
    treaty: str | None = None,
    body: str | None = None,
    dry_run: bool = False,
    takes: Iterable[str] = (),
    origin: str = "import",
) -> ImportReport:
    """Merge ``records`` into the catalogue (see the module's text). ``treaty`` and
    ``body`` apply to every record that names none; ``takes`` (``IDENTITY:FIELD``) are
    fields whose file value replaces a local edit. A record refused raises InvalidInput
    naming where it is in the file; then nothing of the import is kept."""
    wanted = [_take(spec) for spec in takes]
    _check_unique(records)
    seed_base.lock(session)  # two imports (or an import and a seed load) at once: one waits
    savepoint = session.begin_nested() if dry_run else None
    try:
        upstream = Upstream(session, _take_refs(wanted, records))
        report = ImportReport(dry_run=dry_run)
        for record in records:
            try:
                _merge(session, upstream, record, report, source, now, treaty, body, origin)
                session.flush()
            except (InvalidInput, NotFound, ImpossibleChange) as exc:
                raise InvalidInput(f"{record.where}: {exc}") from None
        taken = {(ref.identity, ref.field) for ref in upstream.taken}
        missing = [spec for spec in wanted if spec not in taken]
        if missing:
            raise InvalidInput(f"--take {':'.join(missing[0])}: no such field of a record here")
    finally:
        if savepoint is not None:
            savepoint.rollback()
    return report


def _check_unique(records: Sequence[Incoming]) -> None:
    first: dict[tuple[str, str], str] = {}
    for record in records:
        key = (_section(record), record.identity)
        if key in first:
            raise InvalidInput(
                f"{record.where}: {record.identity} is given twice (first: {first[key]})"
            )
        first[key] = record.where


def _take(spec: str) -> tuple[str, str]:
    identity, _, name = spec.rpartition(":")
    if not identity or not name:
        raise InvalidInput(f"--take {spec!r}: write UID_OR_SLUG:FIELD, e.g. weekly-call:starts")
    return identity, name


def _take_refs(wanted: list[tuple[str, str]], records: Sequence[Incoming]) -> list[FieldRef]:
    sections = {record.identity: _section(record) for record in records}
    return [
        FieldRef(sections[identity], _base_key(identity), name)
        for identity, name in wanted
        if identity in sections
    ]


def _section(record: Incoming) -> str:
    return CALENDAR_SECTION if record.by_uid else TABLE_SECTIONS[record.type]


def _base_key(identity: str) -> str:
    """The identity a base is kept under: the UID or slug, hashed when too long."""
    if len(identity) <= IDENTITY_MAX:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode()).hexdigest()


def _fields(record: Incoming, body: str | None) -> editing.Fields[Any]:
    """The record's columns, validated as the CLI validates them."""
    kind: type[editing.Fields[Any]] = (
        editing.MeetingFields if record.type == "meeting" else editing.DeadlineFields
    )
    plain = {k: v for k, v in record.options.items() if k not in DATED and k != "body"}
    stated: dict[str, Any] = {k: v for k, v in plain.items() if v != ""}
    fields = kind.parse(**stated)
    for option in [k for k, v in plain.items() if v == ""]:  # the file leaves it empty
        if option not in kind.OPTIONS or option in REQUIRED:
            raise InvalidInput(f"{option} is empty")
        fields.columns[kind.OPTIONS[option][0]] = None
    for name in DATED & record.options.keys():
        given = record.options[name]
        fields.columns[name] = editing.read_date(given) if given else _empty(name)
    # --body (and --treaty) go to the records that name none: no column, or an empty cell.
    given_body = record.options.get("body") or body or record.options.get("body")
    if given_body is not None:
        fields.columns["body"] = text.title(given_body, "body") if given_body else None
    return fields


def _empty(name: str) -> Any:
    return dates.TBA if name in ("starts", "due") else None


def _find(session: Session, record: Incoming) -> Deadline | Meeting | None:
    models: tuple[type[Meeting] | type[Deadline], ...] = (Meeting, Deadline)
    for model in models if record.type == "meeting" else reversed(models):
        column = model.uid if record.by_uid else model.slug
        found = session.scalars(select(model).where(column == record.identity)).first()
        if isinstance(found, Deadline | Meeting):
            return found
    return None


def _merge(
    session: Session,
    upstream: Upstream,
    record: Incoming,
    report: ImportReport,
    source: Source | None,
    now: datetime,
    treaty: str | None,
    body: str | None,
    origin: str,
) -> None:
    item = _find(session, record)
    if item is not None and type(item).__name__.lower() != record.type:
        report.skipped.append(
            f"{record.where}: it is the {type(item).__name__.lower()} {item.slug}, "
            f"not a {record.type}"
        )
        return
    fields = _fields(record, body)
    chosen = record.treaty or treaty or record.treaty
    # "" (no treaty) is held as None: the two must compare equal
    given = fields.values() | ({"treaty": chosen or None} if chosen is not None else {})
    section, key = _section(record), _base_key(record.identity)
    if item is None:
        upstream.merge(section, key, given, None)
        added = _add(session, record, fields, source, now, chosen, origin)
        report.added.append(ImportedRecord(record.type, added.slug, added.title, record.identity))
        return
    before = len(upstream.conflicts)
    held = {name: current(item, name) for name in fields.columns}
    held |= {"treaty": item.treaty.slug if item.treaty else None}
    merged = upstream.merge(section, key, given, held)
    new_treaty = (merged.values.pop("treaty") or "") if "treaty" in merged.values else None
    written: list[str] = []
    if merged.values or new_treaty is not None:
        _, changes = editing.edit(
            session,
            item.slug,
            type(fields)(merged.values),
            now=now,
            treaty=new_treaty,
            source=source.url if source is not None else None,
            origin=origin,
        )
        # Every field written is news (alerted), a default filled in too: unlike a seed, a
        # file brings what an organisation says now.
        _cite(item, source, record.sources, session)
        for change in changes:  # a source without a URL is cited by its row
            change.source = change.source or source
        written = sorted({change.field for change in changes})
    done = ImportedRecord(record.type, item.slug, item.title, record.identity, written)
    done.conflicts = [
        FieldConflict(c.ref.field, c.local, c.seed) for c in upstream.conflicts[before:]
    ]
    if done.conflicts:
        report.conflicts.append(done)
    elif written:
        report.changed.append(done)
    else:
        report.unchanged.append(done)


def _add(
    session: Session,
    record: Incoming,
    fields: editing.Fields[Any],
    source: Source | None,
    now: datetime,
    treaty: str | None,
    origin: str,
) -> Deadline | Meeting:
    slug = record.slug or text.slugify(str(fields.columns.get("title", "")))[:100] or None
    taken = slug is not None and _slug_taken(session, record.type, slug)
    if record.by_uid and (slug is None or taken):
        slug = None  # a calendar's event takes the next free slug from its title
    item: Deadline | Meeting = editing.add(
        session,
        fields,
        now=now,
        slug=slug,
        treaty=treaty or None,
        source=source.url if source is not None else None,
        origin=origin,
    )
    if record.uid and not _uid_taken(session, record.uid):
        item.uid = record.uid
    _cite(item, source, record.sources, session)
    if source is not None and source.url is None:  # cited by its row, not by a URL
        for change in history(session, item):
            change.source = change.source or source
    return item


def _uid_taken(session: Session, uid: str) -> bool:
    return any(
        session.scalar(select(model.id).where(model.uid == uid)) is not None
        for model in (Meeting, Deadline)
    )


def _slug_taken(session: Session, type_: str, slug: str) -> bool:
    model = Meeting if type_ == "meeting" else Deadline
    return session.scalar(select(model.id).where(model.slug == slug)) is not None


def _cite(
    item: Deadline | Meeting, source: Source | None, urls: Iterable[str], session: Session
) -> None:
    """Cite the import's source and the URLs the record names (never un-cite one)."""
    from tracker.catalog.history import source_for_url

    cited = [source] if source is not None else []
    cited += [found for url in urls if (found := source_for_url(session, url)) is not None]
    for one in cited:
        if one not in item.sources:
            item.sources.append(one)
