"""Loading seed files (TOML) into the database: all or nothing, with history, as an upstream.

Records are matched by slug (sources by key, participation events by what they say). A seed
never undoes a local edit: :mod:`tracker.catalog.seed_base` decides, field by field, what
to write; a field written by a later load is recorded in history like an edit, and is news.
A new record and the history it comes with are the past, loaded: never news.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog import editing, forecast_seeds, seed_base
from tracker.catalog import treaty_editing as treaties
from tracker.catalog.history import subject_type
from tracker.catalog.models import Claim, Deadline, Meeting
from tracker.catalog.seed_base import Conflict, FieldRef, Upstream
from tracker.catalog.seed_fields import announce, delegation, initial, replay, with_alerts
from tracker.catalog.seed_records import (
    ClaimRecord,
    DeadlineRecord,
    ForecastRecord,
    MeetingRecord,
    ParticipationRecord,
    Record,
    SourceRecord,
    TreatyRecord,
    default_paths,
    read_records,
    seed_files,
)
from tracker.catalog.seed_rows import SeedRows
from tracker.catalog.sources import Source, SourceGrade
from tracker.catalog.treaties import ParticipationEvent, ParticipationEventKind, Treaty
from tracker.errors import InvalidInput, NotFound

__all__ = ["SeedReport", "default_paths", "load"]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    def count(self, kind: str, *, created: bool) -> None:
        tally = self.created if created else self.updated
        tally[kind] = tally.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        parts = [f"{n} {kind} created" for kind, n in sorted(self.created.items())]
        parts += [f"{n} {kind} updated" for kind, n in sorted(self.updated.items())]
        said = "seed: " + (", ".join(parts) if parts else "nothing changed")
        if self.conflicts:
            said += f"; {len(self.conflicts)} local edit(s) kept where the seed differs"
        return said

    def lines(self, take_command: str = "tracker seed") -> list[str]:
        """The summary, then one line per conflict."""
        return [self.summary(), *(c.line(take_command) for c in self.conflicts)]


def load(
    session: Session,
    paths: Iterable[Path],
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    takes: Iterable[FieldRef] = (),
) -> SeedReport:
    """Load seed files (none given: the shipped seeds) into ``session``; the caller commits.
    ``takes`` are fields whose seed value replaces a local edit.

    Raises InvalidInput naming the file, record and field at the first bad one."""
    records = read_records(seed_files(list(paths) or default_paths()))
    _check_unique(records)
    seed_base.lock(session)  # held to the commit: a concurrent load waits, then finds it done
    rows = SeedRows(
        session,
        deadlines=[r.slug for _, _, r in records if isinstance(r, DeadlineRecord)],
        meetings=[r.slug for _, _, r in records if isinstance(r, MeetingRecord)],
    )
    loader = _Loader(session, now, Upstream(session, takes), rows)
    for done, (where, section, record) in enumerate(records, start=1):
        try:
            getattr(loader, section)(record)
        except (InvalidInput, NotFound) as exc:
            raise InvalidInput(f"{where}: {exc}") from None
        if progress:
            progress(done, len(records))
    unmatched = loader.upstream.unmatched_takes()
    if unmatched:
        raise InvalidInput(f"--take {unmatched[0]}: no such field of a record in these seeds")
    loader.report.conflicts = loader.upstream.conflicts
    return loader.report


def _check_unique(records: list[tuple[str, str, Record]]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for where, section, record in records:
        identity = getattr(record, "identity", None) or getattr(record, "slug", None)
        identity = identity or getattr(record, "key", None)
        if identity is None:
            continue
        if (section, identity) in seen:
            raise InvalidInput(
                f"{where}: duplicate {section} {identity!r} (first in {seen[section, identity]})"
            )
        seen[section, identity] = where


Cited = Treaty | ParticipationEvent | Deadline | Meeting


class _Loader:
    def __init__(self, session: Session, now: datetime, upstream: Upstream, rows: SeedRows) -> None:
        self.session, self.now, self.upstream, self.rows = session, now, upstream, rows
        self.report = SeedReport()

    def _sources(self, keys: list[str]) -> list[Source]:
        return self.rows.sources(keys)

    def _cite(self, item: Cited, keys: list[str]) -> None:
        sources = self._sources(keys)
        # A new item's sources, read (and found empty) without flushing what is pending.
        with self.session.no_autoflush:
            item.sources[:] = sources

    def source(self, record: SourceRecord) -> None:
        values: dict[str, Any] = record.model_dump(exclude={"key"}) | {
            "title": text.title(record.title),
            "url": text.url(record.url, "url") if record.url else None,
            "publisher": text.title(record.publisher, "publisher") if record.publisher else None,
            "note": text.note(record.note),
            "grade": text.choice(record.grade, SourceGrade, "grade"),
            "caveat": text.title(record.caveat, "caveat") if record.caveat else None,
        }
        source = self.rows.source(record.key)
        current = None if source is None else {k: getattr(source, k) for k in values}
        wanted = self.upstream.merge("source", record.key, values, current).values
        if source is None:
            self.rows.add_source(Source(key=record.key, **values))
            self.report.count("sources", created=True)
        elif wanted:
            for name, value in wanted.items():
                setattr(source, name, value)
            self.report.count("sources", created=False)

    def treaty(self, record: TreatyRecord) -> None:
        values = treaties.treaty_values(
            **record.model_dump(
                include={"name", "short_name", "kind", "status", "depositary", "summary"}
            )
        )
        values |= record.model_dump(
            include={"signed", "entered_into_force", "expires", "parties_count", "parties_count_on"}
        )
        values["required_states"] = [text.title(s, "state") for s in record.required_states]
        counted_by = record.parties_count_source
        values["parties_count_source_id"] = (
            self._sources([counted_by])[0].id if counted_by else None
        )
        self._sources(record.sources)
        seed = values | {"sources": sorted(record.sources)}
        treaty = self.session.scalar(select(Treaty).where(Treaty.slug == record.slug))
        current = None
        if treaty is not None:
            current = {k: getattr(treaty, k) for k in values} | {"sources": _keys(treaty)}
        wanted = self.upstream.merge("treaty", record.slug, seed, current).values
        keys = wanted.pop("sources", None)
        if treaty is None:
            treaty = treaties.add_treaty(self.session, values, now=self.now, slug=record.slug)
            self.session.flush()  # the items naming it look it up without flushing
            self.report.count("treaties", created=True)
        elif wanted or keys is not None:
            treaties.edit_treaty(self.session, record.slug, wanted, now=self.now)
            self.report.count("treaties", created=False)
        if keys is not None:
            self._cite(treaty, record.sources)

    def participation(self, record: ParticipationRecord) -> None:
        treaty = self.rows.treaty(record.treaty)
        event_kind = text.choice(record.event, ParticipationEventKind, "participation event")
        text.title(record.state, "state")
        self._sources(record.sources)
        identity = f"{record.treaty}:{record.state}:{event_kind}:{record.date.isoformat()}"
        seed = {"note": text.note(record.note), "sources": sorted(record.sources)}
        event = next(
            (
                e
                for e in treaty.events
                if (e.state, e.event, e.on) == (record.state, event_kind, record.date)
            ),
            None,
        )
        current = None if event is None else {"note": event.note, "sources": _keys(event)}
        wanted = self.upstream.merge("participation", identity, seed, current).values
        if event is None:
            event = ParticipationEvent(state=record.state, event=event_kind, on=record.date)
            treaty.events.append(event)
            self.report.count("participation events", created=True)
        elif wanted:
            self.report.count("participation events", created=False)
        if "note" in wanted:
            event.note = wanted["note"]
        if "sources" in wanted:
            self._cite(event, record.sources)

    def deadline(self, record: DeadlineRecord) -> None:
        fields = editing.DeadlineFields.parse(
            **record.model_dump(include={"title", "due", "kind", "status", "tz", "confidence"}),
            status_on=_day(record.status_on),
            note=record.notes or "",
        )
        fields.columns["body"] = text.title(record.body, "body") if record.body else None
        self._upsert("deadline", Deadline, record, with_alerts(fields, record.alert_leads))

    def meeting(self, record: MeetingRecord) -> None:
        fields = editing.MeetingFields.parse(
            **record.model_dump(include={"title", "tz", "kind", "status", "confidence"}),
            status_on=_day(record.status_on),
            repeat=record.recurrence or "",
            outcome=record.outcome or "",
        )
        # A seed states the whole meeting: what it leaves out is empty, not "as it is".
        fields.columns |= {
            "starts": dates.parse(record.starts) if record.starts else None,
            "ends": dates.parse(record.ends) if record.ends else None,
            "location": text.title(record.location, "location") if record.location else None,
            "series": text.title(record.series, "series") if record.series else None,
            "body": text.title(record.body, "body") if record.body else None,
            "delegations": [delegation(d) for d in record.delegation],
        }
        self._upsert("meeting", Meeting, record, with_alerts(fields, record.alert_leads))

    def forecast(self, record: ForecastRecord) -> None:
        created = forecast_seeds.load(self.session, record, now=self.now, upstream=self.upstream)
        if created is not None:
            self.report.count("forecasts", created=created)

    def _upsert(
        self,
        section: str,
        model: type[Deadline] | type[Meeting],
        record: DeadlineRecord | MeetingRecord,
        fields: Any,
    ) -> None:
        self._sources(record.sources)
        seed = fields.values() | {"treaty": record.treaty, "sources": sorted(record.sources)}
        found = self.rows.item(model, record.slug)  # slugs are unique in the seeds
        item: Deadline | Meeting
        kind = f"{section}s"
        if found is None:
            self.upstream.merge(section, record.slug, seed, None)
            # Not flushed by its lookups (its history flushes it, for its id): no item of
            # these seeds is pending under its slug, and a treaty is flushed when made.
            with self.session.no_autoflush:
                item = editing.add(
                    self.session,
                    initial(fields, record.history),
                    now=self.now,
                    slug=record.slug,
                    treaty=record.treaty,
                    origin="seed",
                )
            replay(
                self.session,
                item,
                record.history,
                fields.values(),
                now=self.now,
                sources=self._sources,
                announced=self._announced(record),
            )
            self._cite(item, record.sources)
            self.report.count(kind, created=True)
        else:
            item = found
            current = {name: getattr(item, name) for name in fields.columns} | {
                "treaty": item.treaty.slug if item.treaty else None,
                "sources": _keys(item),
            }
            merged = self.upstream.merge(section, record.slug, seed, current)
            keys = merged.values.pop("sources", None)
            # treaty: None leaves it; "" detaches it
            treaty = (merged.values.pop("treaty") or "") if "treaty" in merged.values else None
            if merged.values or treaty is not None:
                edited = type(fields)(merged.values)
                _, changes = editing.edit(
                    self.session, record.slug, edited, now=self.now, treaty=treaty, origin="seed"
                )
                for change in changes:
                    change.news = change.field not in merged.quiet
            if keys is not None:
                self._cite(item, record.sources)
            if merged.values or keys is not None or treaty is not None:
                self.report.count(kind, created=False)
            at, source = self._announced(record)
            if at is not None and announce(self.session, item, at, source):
                self.report.count(kind, created=False)
        self._claims(item, record.claims, set(seed))

    def _announced(
        self, record: DeadlineRecord | MeetingRecord
    ) -> tuple[datetime | None, Source | None]:
        """When the record's item became public, and the source saying so (if given)."""
        if record.announced_source and record.announced is None:
            raise InvalidInput("announced_source: give the time too (announced = ...)")
        key = record.announced_source
        return record.announced, self._sources([key])[0] if key else None

    def _claims(self, item: Deadline | Meeting, claims: list[ClaimRecord], known: set[str]) -> None:
        """What each source says of a field the sources disagree on, kept beside the item."""
        for claim in claims:
            if claim.field not in known:
                raise InvalidInput(f"claims: unknown field {claim.field!r}")
            source = self._sources([claim.source])[0]
            values = {
                "value": text.title(claim.value, "claim value"),
                "note": text.note(claim.note),
            }
            kept = self.session.scalar(
                select(Claim).where(
                    Claim.subject_type == subject_type(item),
                    Claim.subject_id == item.id,
                    Claim.field == claim.field,
                    Claim.source_id == source.id,
                )
            )
            if kept is None:
                self.session.add(
                    Claim(
                        subject_type=subject_type(item),
                        subject_id=item.id,
                        field=claim.field,
                        source_id=source.id,
                        recorded_at=self.now,
                        **values,
                    )
                )
            else:
                for name, value in values.items():
                    if getattr(kept, name) != value:
                        setattr(kept, name, value)


def _day(value: date | None) -> str | None:
    """A status date as the option reads it; none given leaves the status date alone (a
    seed's past status is not reached on the day it is loaded)."""
    return value.isoformat() if value else None


def _keys(item: Cited) -> list[str]:
    return sorted(s.key for s in item.sources)
