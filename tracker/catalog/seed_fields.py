"""A seed record's values as the columns they fill, and its past history replayed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import editing, history
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.seed_records import DelegationRecord, HistoryRecord
from tracker.catalog.sources import Source
from tracker.errors import InvalidInput

FieldsT = TypeVar("FieldsT", bound=editing.Fields[Any])

HISTORY_FIELDS = {"due", "starts", "ends", "status", "title", "location"}
_WINDOWS = {"due", "starts", "ends"}


def value(field_name: str, raw: str | None) -> Any:
    """A history entry's value as its column holds it."""
    if field_name in _WINDOWS:
        return dates.parse(raw) if raw else None
    if field_name in ("title", "location") and raw:
        return text.title(raw, field_name)
    return raw


def delegation(record: DelegationRecord) -> dict[str, Any]:
    """A delegation's names, each held to the rules of a one-line title."""
    values = record.model_dump()
    for name in ("state", "head", "role"):
        if values[name]:
            values[name] = text.title(values[name], f"delegation {name}")
    values["members"] = [text.title(member, "delegation member") for member in record.members]
    return values


def with_alerts(fields: FieldsT, leads: list[str] | None) -> FieldsT:
    """A record without alert_leads has none; an empty list leaves them as they are."""
    if leads is None:
        fields.columns["alert_leads"] = None
    elif leads:
        fields.columns["alert_leads"] = editing.alert_leads(",".join(leads))
    return fields


def initial(fields: FieldsT, entries: list[HistoryRecord]) -> FieldsT:
    """The fields as they were before the first recorded change of each."""
    first = type(fields)(dict(fields.columns))
    seen: set[str] = set()
    for entry in sorted(entries, key=lambda e: e.at):
        if entry.field not in seen and first.holds(entry.field):
            first.columns[entry.field] = value(entry.field, entry.old)
            seen.add(entry.field)
    if "status" in seen:  # the day a status was reached belongs to the status reached
        first.columns.pop("status_on", None)
    return first


def replay(
    session: Session,
    item: Deadline | Meeting,
    entries: list[HistoryRecord],
    current: dict[str, Any],
    *,
    now: Any,
    sources: Callable[[list[str]], list[Source]],
    announced: tuple[datetime | None, Source | None] = (None, None),
) -> None:
    """Apply recorded history in order to a new ``item``; it must end at the record's
    current values. All of it, and the item's creation, is the past: kept as history, never
    news. The creation became known when the item was ``announced`` (a time and its
    source), else at its first recorded change, else when it is loaded."""
    made = [pending_creation(session, item)]  # its history so far, held here: read without a flush
    ordered = sorted(entries, key=lambda e: e.at)
    if ordered and announced[0] is not None and announced[0] > ordered[0].at:
        raise InvalidInput(
            f"announced {announced[0].isoformat()} is after its first history entry "
            f"({ordered[0].at.isoformat()})"
        )
    if announced[0] is not None or ordered:
        dated(made[0], announced[0] or ordered[0].at, announced[1])
    last_status = next((e for e in reversed(ordered) if e.field == "status"), None)
    for entry in ordered:
        if entry.field not in HISTORY_FIELDS:
            raise InvalidInput(
                f"history of unknown field {entry.field!r}; "
                f"expected one of {', '.join(sorted(HISTORY_FIELDS))}"
            )
        source = sources([entry.source])[0] if entry.source else None
        values = {entry.field: value(entry.field, entry.new)}
        if entry is last_status and "status_on" in current:
            values["status_on"] = current["status_on"]  # reached with the last status
        changes = history.apply_changes(
            session,
            item,
            values,
            now=now,
            origin="seed",
            source=source,
            note=text.note(entry.note),
        )
        if not changes:
            raise InvalidInput(f"history entry for {entry.field!r} changes nothing")
        for change in changes:
            change.changed_at = entry.at
        made += changes
    mismatch = history.apply_changes(session, item, current, now=now, origin="seed")
    if mismatch:
        change = mismatch[0]
        raise InvalidInput(
            f"history of {change.field!r} ends at {change.old!r}, "
            f"not at the current value {change.new!r}"
        )
    for change in made:
        change.news = False


def pending_creation(session: Session, item: Deadline | Meeting) -> Change:
    """A new item's ``created`` change: still pending (it is recorded once the item is
    flushed, for its id), else read back if something flushed it since."""
    kind = history.subject_type(item)
    pending = (
        row
        for row in session.new
        if isinstance(row, Change)
        and (row.subject_type, row.subject_id, row.field) == (kind, item.id, "created")
    )
    found = next(pending, None)
    if found is None:  # the newest: SQLite may give a removed item's id to a new one
        created = [c for c in history.history(session, item) if c.field == "created"]
        found = max(created, key=lambda change: change.id)
    return found


def announce(
    session: Session, item: Deadline | Meeting, at: datetime, source: Source | None
) -> bool:
    """Date the item's creation (its ``created`` change) by when it became public, citing
    ``source``; whether that changed anything (a seed loaded again changes nothing)."""
    made = next((c for c in history.history(session, item) if c.field == "created"), None)
    return made is not None and dated(made, at, source)


def dated(created: Change, at: datetime, source: Source | None) -> bool:
    """Date a ``created`` change made by a seed; whether that changed anything."""
    if created.origin != "seed":  # made otherwise: known when it was made
        return False
    if (created.changed_at, created.source) == (at, source or created.source):
        return False
    created.changed_at = at
    created.source = source or created.source
    return True
