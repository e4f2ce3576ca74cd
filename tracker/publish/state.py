"""What the feed files were built from, kept beside them so an unchanged build is skipped.

A build reads a *signature* of each table the feeds show with a few aggregate queries
(newest ids, counts, sums: milliseconds, some tens at 100k deadlines, never the rows),
and hashes, per part (each publisher's files, and the board), the signatures of what
that part shows, the settings it uses and the format version. The state file records,
per part, that key, the instant it was built as of, the instant until which its text
stays the same (the board counts days), and the size and mtime of each file written. A
part is rebuilt unless all of these still hold. The small tables (treaties,
participation events, sources) are read whole and hashed.

The signatures rely on how the tracker writes: every edit of a deadline or meeting goes
through the history (a ``changes`` row, ``sequence`` bumped, ``updated_at`` set), notices
are only ever added, and citations change the link tables (their counts and sums of ids).
An edit made behind the tracker's back (SQL by hand) may go unseen until the next change
or day: ``tracker feed build`` after deleting the state file rebuilds all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from tracker.db import Base
from tracker.files import write_if_changed

STATE_FILE = ".build-state.json"
# Bump when what a build writes changes for the same rows: old state then misses.
FORMAT = 4  # 4: states, confidence and graded sources shown

# Which tables each thing a part shows is read from; a change to any of them rebuilds it.
DEPENDS: dict[str, tuple[str, ...]] = {
    "entries": ("changes", "deadlines", "meetings", "treaties", "events"),
    "items": (
        "deadlines",
        "meetings",
        "treaties",
        "sources",
        "deadline_sources",
        "meeting_sources",
    ),
    "board": (
        "deadlines",
        "meetings",
        "treaties",
        "participation_events",
        "sources",
        "deadline_sources",
        "meeting_sources",
        "treaty_sources",
        "participation_event_sources",
    ),
}
_LINKS = {
    "deadline_sources": "deadline_id",
    "meeting_sources": "meeting_id",
    "treaty_sources": "treaty_id",
    "participation_event_sources": "participation_event_id",
}


def signatures(session: Session) -> dict[str, Any]:
    """A value per table that changes whenever the tracker changes what it holds."""
    from tracker.catalog import treaties as models  # noqa: F401 - its tables, in the metadata
    from tracker.catalog.models import Change, Deadline, Meeting
    from tracker.outbox.models import Notice

    found: dict[str, Any] = {}
    for name, item in (("deadlines", Deadline), ("meetings", Meeting)):
        row = session.execute(
            select(
                func.count(), func.max(item.id), func.max(item.updated_at), func.sum(item.sequence)
            )
        ).one()
        found[name] = list(row)
    found["changes"] = list(session.execute(select(func.count(), func.max(Change.id))).one())
    # Only ever added to (notices are never edited or pruned): the newest id says it.
    has_notices = inspect(session.get_bind()).has_table(Notice.__tablename__)
    found["events"] = session.scalar(select(func.max(Notice.id))) if has_notices else None
    for name in ("treaties", "participation_events", "sources"):
        whole = Base.metadata.tables[name]
        found[name] = _digest(session.execute(select(whole).order_by(whole.c.id)).all())
    for name, column in _LINKS.items():
        table = Base.metadata.tables[name]
        cited, source = table.c[column], table.c.source_id
        found[name] = list(
            session.execute(
                select(func.count(), func.sum(cited), func.sum(source), func.sum(cited * source))
            ).one()
        )
    return found


def _digest(rows: Iterable[Sequence[Any]]) -> str:
    content = hashlib.sha256()
    for row in rows:
        content.update(repr(tuple(row)).encode("utf-8"))
    return content.hexdigest()


def part_key(
    part: str, shows: Iterable[str], found: Mapping[str, Any], settings: Mapping[str, Any]
) -> str:
    """The key of a part that shows ``shows`` (of :data:`DEPENDS`)."""
    shown = {name: found[name] for kind in sorted(shows) for name in DEPENDS[kind]}
    payload = json.dumps([FORMAT, part, shown, settings], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class PartState:
    key: str
    built_as_of: datetime
    valid_until: datetime | None
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # relative: size, mtime

    def fresh(self, key: str, as_of: datetime, directory: Path) -> bool:
        if key != self.key:
            return False
        # A part that does not age (no valid_until) holds at any instant, earlier ones too.
        aged = self.valid_until is not None and not self.built_as_of <= as_of < self.valid_until
        if aged:
            return False
        return all(_stat(directory / name) == stat for name, stat in self.files.items())

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "built_as_of": self.built_as_of.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "files": {name: list(stat) for name, stat in sorted(self.files.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartState:
        until = data.get("valid_until")
        return cls(
            key=str(data["key"]),
            built_as_of=datetime.fromisoformat(data["built_as_of"]),
            valid_until=datetime.fromisoformat(until) if until else None,
            files={str(k): (int(v[0]), int(v[1])) for k, v in data["files"].items()},
        )


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_size, found.st_mtime_ns


def recorded(directory: Path, paths: Iterable[Path]) -> dict[str, tuple[int, int]]:
    files = {}
    for path in paths:
        stat = _stat(path)
        if stat is not None:
            files[path.relative_to(directory).as_posix()] = stat
    return files


def load(directory: Path) -> dict[str, PartState]:
    """The parts recorded by the last build; nothing if the file is missing or unreadable."""
    try:
        data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return {}
        return {name: PartState.from_json(part) for name, part in data["parts"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return {}  # no state, or a damaged one: build everything again


def save(directory: Path, parts: Mapping[str, PartState]) -> None:
    """Written atomically, after every file of the build, so it never vouches for files
    that were not written."""
    data = {"format": FORMAT, "parts": {name: p.as_json() for name, p in sorted(parts.items())}}
    write_if_changed(directory / STATE_FILE, (json.dumps(data, indent=1) + "\n").encode())
