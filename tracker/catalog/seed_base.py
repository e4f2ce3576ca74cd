"""Seeds are an upstream: the value a seed last gave a field (its base, a ``SeedValue`` row)
tells a field nobody touched, which follows the seed, from a local edit, which is kept.

For each field of a record already in the database:

- the row holds the base: the seed's value is written (when it changed) and becomes the base;
- the row holds the seed's value: that becomes the base, and the row is left alone;
- the row differs from both (a local edit): it is kept; when the seed's value moved away from
  the base too, that is a conflict, reported with how to take the seed's value.

A record with no base yet (a database from before bases were kept) takes the seed's value as
its base where the row holds it; where the row differs, it counts as a local edit in conflict.
The fields that arrived with the bases (a source's grade and caveat, an item's confidence and
status date) held their column default until then: a row still at the default takes the
seed's value, quietly (filling them in is no news).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.catalog.history import stored
from tracker.catalog.models import SeedValue
from tracker.errors import InvalidInput

# A section of the seed files, as ``--take`` names it.
SECTIONS = ("source", "treaty", "participation", "deadline", "meeting", "forecast")

# Fields filled in by migration 0004 with a default, before any seed could give them.
_DEFAULTED: dict[str, str | None] = {
    "grade": "secondary",
    "caveat": None,
    "confidence": "announced",
    "status_on": None,
}
_MISSING = object()

# Any 64-bit number that no other part of the tracker takes as an advisory lock.
SEED_LOCK_KEY = 0x7472_6163_6B73_6564  # "tracksed"


def shown(value: Any) -> str | None:
    """A value as the base keeps it (and as the conflict line shows it). A date to be
    announced is kept as no date at all, so it compares equal to the row's empty date."""
    value = stored(value)
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        if all(isinstance(part, str) for part in value):
            return ",".join(value)
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class FieldRef:
    """One field of one seed record: ``deadline:new-start-expiry:due``."""

    section: str
    identity: str
    field: str

    @classmethod
    def parse(cls, spec: str) -> FieldRef:
        section, _, rest = spec.partition(":")
        identity, _, name = rest.rpartition(":")
        if section not in SECTIONS or not identity or not name:
            raise InvalidInput(
                f"--take {spec!r}: write SECTION:IDENTITY:FIELD (SECTION one of "
                f"{', '.join(SECTIONS)}), e.g. deadline:new-start-expiry:due"
            )
        return cls(section, identity, name)

    def __str__(self) -> str:
        return f"{self.section}:{self.identity}:{self.field}"


@dataclass(frozen=True)
class Conflict:
    """A field edited locally whose seed value changed too: the local value is kept."""

    ref: FieldRef
    local: str | None
    seed: str | None

    def line(self, take_command: str) -> str:
        return (
            f"conflict: {self.ref.section} {self.ref.identity}, {self.ref.field}: "
            f"local {_said(self.local)}, seed {_said(self.seed)} (local kept; to take the "
            f"seed's value: {take_command} --take {self.ref})"
        )


def _said(value: str | None) -> str:
    if value is None:
        return "(empty)"
    flat = " ".join(value.split())
    return json.dumps(flat if len(flat) <= 80 else flat[:79] + "…", ensure_ascii=False)


@dataclass
class Merged:
    """What to write to a row: the fields to set, and those of them that are no news."""

    values: dict[str, Any] = field(default_factory=dict)
    quiet: set[str] = field(default_factory=set)


class Upstream:
    """The bases, read once per load, and the conflicts the load found."""

    def __init__(self, session: Session, takes: Iterable[FieldRef] = ()) -> None:
        self.session = session
        self.bases = {
            (b.section, b.identity, b.field): b for b in session.scalars(select(SeedValue))
        }
        self.takes = set(takes)
        self.taken: set[FieldRef] = set()
        self.conflicts: list[Conflict] = []

    def merge(
        self,
        section: str,
        identity: str,
        seed: Mapping[str, Any],
        current: Mapping[str, Any] | None,
    ) -> Merged:
        """The fields of ``seed`` to write to the row (every one for a new row)."""
        merged = Merged()
        for name, value in seed.items():
            ref = FieldRef(section, identity, name)
            given = shown(value)
            if current is None or ref in self.takes:
                self.taken |= {ref} & self.takes
                if current is None or shown(current[name]) != given:
                    merged.values[name] = value
                self._keep(ref, given)
                continue
            local = shown(current[name])
            if local == given:
                self._keep(ref, given)
                continue
            base = self._base(ref)
            if base is _MISSING or local != base:  # a local edit
                if base is _MISSING or given != base:
                    self.conflicts.append(Conflict(ref, local, given))
                continue
            merged.values[name] = value
            if (section, identity, name) not in self.bases:
                merged.quiet.add(name)  # a default filled in, not a change upstream
            self._keep(ref, given)
        return merged

    def unmatched_takes(self) -> list[FieldRef]:
        return sorted(self.takes - self.taken, key=str)

    def _base(self, ref: FieldRef) -> Any:
        found = self.bases.get((ref.section, ref.identity, ref.field))
        if found is not None:
            return found.value
        return _DEFAULTED.get(ref.field, _MISSING)

    def _keep(self, ref: FieldRef, value: str | None) -> None:
        key = (ref.section, ref.identity, ref.field)
        found = self.bases.get(key)
        if found is None:
            found = SeedValue(section=ref.section, identity=ref.identity, field=ref.field)
            self.session.add(found)
            self.bases[key] = found
        if found.value != value:
            found.value = value


def lock(session: Session) -> None:
    """Hold the seed lock until the transaction ends: a second load waits, then finds what
    the first one wrote and has nothing to do.

    PostgreSQL: a transaction-level advisory lock. SQLite: the database's write lock, taken
    at the start (BEGIN IMMEDIATE) rather than at the first write, so that the second load
    reads only once the first has committed."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _signed(SEED_LOCK_KEY)}
        )
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if raw is not None and not raw.in_transaction:
            # pysqlite opens a transaction only before a write; open it now, with the lock
            # (waiting up to the connection's busy timeout).
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _signed(key: int) -> int:
    return key - 2**64 if key >= 2**63 else key
