"""Loading seed files (TOML) into the database: all or nothing, idempotent, with history.

Records are matched by slug (sources by key); a field that differs from the stored
value is updated and recorded in history, so an edited seed reads like an edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import editing, history, queries
from tracker.catalog import treaty_editing as treaties
from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.seed_records import (
    DeadlineRecord,
    DelegationRecord,
    HistoryRecord,
    MeetingRecord,
    ParticipationRecord,
    Record,
    SourceRecord,
    TreatyRecord,
    default_paths,
    read_records,
    seed_files,
)
from tracker.catalog.sources import Source
from tracker.catalog.treaties import ParticipationEvent, ParticipationEventKind, Treaty
from tracker.errors import InvalidInput, NotFound

__all__ = ["SeedReport", "default_paths", "load"]

FieldsT = TypeVar("FieldsT", bound=editing.Fields[Any])


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, *, created: bool) -> None:
        tally = self.created if created else self.updated
        tally[kind] = tally.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if not self.changed:
            return "seed: nothing changed"
        parts = [f"{n} {kind} created" for kind, n in sorted(self.created.items())]
        parts += [f"{n} {kind} updated" for kind, n in sorted(self.updated.items())]
        return "seed: " + ", ".join(parts)


def load(
    session: Session,
    paths: Iterable[Path],
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Load seed files (none given: the shipped seeds) into ``session``; the caller commits.

    Raises InvalidInput naming the file and record at the first bad one."""
    records = read_records(seed_files(list(paths) or default_paths()))
    _check_unique(records)
    loader = _Loader(session, now)
    for done, (where, section, record) in enumerate(records, start=1):
        try:
            getattr(loader, section)(record)
            session.flush()
        except (InvalidInput, NotFound) as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        if progress:
            progress(done, len(records))
    return loader.report


def _check_unique(records: list[tuple[str, str, Record]]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for where, section, record in records:
        identity = getattr(record, "slug", None) or getattr(record, "key", None)
        if identity is None:
            continue
        if (section, identity) in seen:
            raise InvalidInput(
                f"{where}: duplicate {section} {identity!r} (first in {seen[section, identity]})"
            )
        seen[section, identity] = where


class _Loader:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now, self.report = session, now, SeedReport()

    def _sources(self, keys: list[str]) -> list[Source]:
        found = {s.key: s for s in self.session.scalars(select(Source).where(Source.key.in_(keys)))}
        missing = [key for key in keys if key not in found]
        if missing:
            raise InvalidInput(f"unknown source {missing[0]!r}")
        return [found[key] for key in keys]

    def _cite(self, item: Any, keys: list[str], kind: str, created: bool) -> bool:
        wanted = self._sources(keys)
        if {s.key for s in item.sources} == set(keys):
            return False
        item.sources[:] = wanted
        if not created:
            self.report.count(kind, created=False)
        return True

    def source(self, record: SourceRecord) -> None:
        values = record.model_dump() | {
            "title": text.title(record.title),
            "url": text.url(record.url, "url") if record.url else None,
            "publisher": text.title(record.publisher, "publisher") if record.publisher else None,
            "note": text.note(record.note),
        }
        source = self.session.scalar(select(Source).where(Source.key == record.key))
        if source is None:
            self.session.add(Source(**values))
            self.report.count("sources", created=True)
        elif any(getattr(source, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(source, name, value)
            self.report.count("sources", created=False)

    def treaty(self, record: TreatyRecord) -> None:
        values = treaties.treaty_values(
            **record.model_dump(
                include={"name", "short_name", "kind", "status", "depositary", "summary"}
            )
        )
        values |= record.model_dump(include={"signed", "entered_into_force", "expires"})
        treaty = self.session.scalar(select(Treaty).where(Treaty.slug == record.slug))
        created = treaty is None
        if treaty is None:
            treaty = treaties.add_treaty(self.session, values, now=self.now, slug=record.slug)
            self.report.count("treaties", created=True)
        elif any(getattr(treaty, k) != v for k, v in values.items()):
            treaties.edit_treaty(self.session, record.slug, values, now=self.now)
            self.report.count("treaties", created=False)
        self._cite(treaty, record.sources, "treaties", created)

    def participation(self, record: ParticipationRecord) -> None:
        treaty = queries.treaty(self.session, record.treaty)
        event_kind = text.choice(record.event, ParticipationEventKind, "participation event")
        text.title(record.state, "state")
        event = next(
            (
                e
                for e in treaty.events
                if (e.state, e.event, e.on) == (record.state, event_kind, record.date)
            ),
            None,
        )
        created = event is None
        if event is None:
            event = ParticipationEvent(state=record.state, event=event_kind, on=record.date)
            treaty.events.append(event)
            self.report.count("participation events", created=True)
        if event.note != text.note(record.note):
            event.note = text.note(record.note)
            if not created:
                self.report.count("participation events", created=False)
        self._cite(event, record.sources, "participation events", created)

    def deadline(self, record: DeadlineRecord) -> None:
        fields = editing.DeadlineFields.parse(
            **record.model_dump(include={"title", "due", "kind", "status", "tz"}),
            note=record.notes or "",
        )
        self._upsert("deadlines", Deadline, record, _with_alerts(fields, record.alert_leads))

    def meeting(self, record: MeetingRecord) -> None:
        fields = editing.MeetingFields.parse(
            **record.model_dump(include={"title", "tz", "kind", "status"}),
            repeat=record.recurrence or "",
            outcome=record.outcome or "",
        )
        # A seed states the whole meeting: what it leaves out is cleared, not kept.
        fields.columns |= {
            "starts": dates.parse(record.starts) if record.starts else None,
            "ends": dates.parse(record.ends) if record.ends else None,
            "location": text.title(record.location, "location") if record.location else None,
            "series": text.title(record.series, "series") if record.series else None,
            "delegations": [_delegation(d) for d in record.delegation],
        }
        self._upsert("meetings", Meeting, record, _with_alerts(fields, record.alert_leads))

    def _upsert(
        self,
        kind: str,
        model: type[Deadline] | type[Meeting],
        record: DeadlineRecord | MeetingRecord,
        fields: Any,
    ) -> None:
        found = self.session.scalar(select(model).where(model.slug == record.slug))
        item: Deadline | Meeting
        if found is None:
            initial = _initial(fields, record.history)
            item = editing.add(
                self.session, initial, now=self.now, slug=record.slug, treaty=record.treaty
            )
            self._replay(item, record.history, fields.values())
            self.report.count(kind, created=True)
        else:
            item, changes = editing.edit(
                self.session, record.slug, fields, now=self.now, treaty=record.treaty or ""
            )
            if changes:
                self.report.count(kind, created=False)
        self._cite(item, record.sources, kind, found is None)

    def _replay(
        self, item: Deadline | Meeting, entries: list[HistoryRecord], current: dict[str, Any]
    ) -> None:
        """Apply recorded history in order; it must end at the record's current values."""
        ordered = sorted(entries, key=lambda e: e.at)
        if ordered:  # the item was known before its first recorded change
            for change in history.history(self.session, item):
                change.changed_at = min(change.changed_at, ordered[0].at)
        for entry in ordered:
            if entry.field not in HISTORY_FIELDS:
                raise InvalidInput(
                    f"history of unknown field {entry.field!r}; "
                    f"expected one of {', '.join(sorted(HISTORY_FIELDS))}"
                )
            source = self._sources([entry.source])[0] if entry.source else None
            changes = history.apply_changes(
                self.session,
                item,
                {entry.field: _value(entry.field, entry.new)},
                now=self.now,
                source=source,
                note=text.note(entry.note),
            )
            if not changes:
                raise InvalidInput(f"history entry for {entry.field!r} changes nothing")
            for change in changes:
                change.changed_at = entry.at
        mismatch = history.apply_changes(self.session, item, current, now=self.now)
        if mismatch:
            change = mismatch[0]
            raise InvalidInput(
                f"history of {change.field!r} ends at {change.old!r}, "
                f"not at the current value {change.new!r}"
            )


HISTORY_FIELDS = {"due", "starts", "ends", "status", "title", "location"}
_WINDOWS = {"due", "starts", "ends"}


def _value(field_name: str, raw: str | None) -> Any:
    if field_name in _WINDOWS:
        return dates.parse(raw) if raw else None
    if field_name in ("title", "location") and raw:
        return text.title(raw, field_name)
    return raw


def _delegation(record: DelegationRecord) -> dict[str, Any]:
    """A delegation's names, each held to the rules of a one-line title."""
    values = record.model_dump()
    for name in ("state", "head", "role"):
        if values[name]:
            values[name] = text.title(values[name], f"delegation {name}")
    values["members"] = [text.title(member, "delegation member") for member in record.members]
    return values


def _with_alerts(fields: FieldsT, leads: list[str] | None) -> FieldsT:
    """A record without alert_leads has none; an empty list leaves them as they are."""
    if leads is None:
        fields.columns["alert_leads"] = None
    elif leads:
        fields.columns["alert_leads"] = editing.alert_leads(",".join(leads))
    return fields


def _initial(fields: FieldsT, entries: list[HistoryRecord]) -> FieldsT:
    """The fields as they were before the first recorded change of each."""
    initial = type(fields)(dict(fields.columns))
    seen: set[str] = set()
    for entry in sorted(entries, key=lambda e: e.at):
        if entry.field not in seen and initial.holds(entry.field):
            initial.columns[entry.field] = _value(entry.field, entry.old)
            seen.add(entry.field)
    return initial
