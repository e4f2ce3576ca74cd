"""Seed files: the TOML records they may hold, validated, with file and record named in errors."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from tracker import resources
from tracker.errors import InvalidInput

MAX_SEED_BYTES = 20 * 1024 * 1024


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, strict=False)


class SourceRecord(Record):
    """``[[source]]``: an article or official page, cited by its ``key``."""

    key: str
    title: str
    publisher: str | None = None
    url: str | None = None
    published: date | None = None
    note: str | None = None
    grade: str = "secondary"
    caveat: str | None = None


class TreatyRecord(Record):
    """``[[treaty]]``: a treaty and its status, citing sources by key."""

    slug: str
    name: str
    short_name: str
    kind: str
    status: str
    sources: list[str] = []
    signed: date | None = None
    entered_into_force: date | None = None
    expires: date | None = None
    depositary: str | None = None
    summary: str | None = None
    # A multilateral treaty's count of states parties, on a day, citing a source by key.
    parties_count: int | None = None
    parties_count_on: date | None = None
    parties_count_source: str | None = None
    # The states whose ratification its entry into force needs (the CTBT's Annex 2).
    required_states: list[str] = []


class ParticipationRecord(Record):
    """``[[participation]]``: one state's dated action on a treaty (signed, ratified…)."""

    treaty: str
    state: str
    event: str
    date: date
    note: str | None = None
    sources: list[str] = []


class HistoryRecord(Record):
    """One past change of a deadline or meeting, replayed into its history."""

    field: str
    old: str | None = None
    new: str | None = None
    at: datetime
    source: str | None = None
    note: str | None = None


class ClaimRecord(Record):
    """What one source says of one field, where the sources of a record disagree."""

    field: str
    value: str
    source: str
    note: str | None = None


class DeadlineRecord(Record):
    """``[[deadline]]``: a dated obligation, with its history."""

    slug: str
    title: str
    treaty: str | None = None
    body: str | None = None
    kind: str = "other"
    due: str
    tz: str = "UTC"
    status: str = "pending"
    confidence: str = "announced"
    status_on: date | None = None
    alert_leads: list[str] | None = None
    notes: str | None = None
    sources: list[str] = []
    claims: list[ClaimRecord] = []
    history: list[HistoryRecord] = []
    # When the item became public (its creation's knowledge time), and the source saying so.
    announced: datetime | None = None
    announced_source: str | None = None


class DelegationRecord(Record):
    """One state's delegation to a meeting."""

    state: str
    head: str | None = None
    role: str | None = None
    members: list[str] = []


class MeetingRecord(Record):
    """``[[meeting]]``: a meeting or a recurring series, with its history."""

    slug: str
    title: str
    series: str | None = None
    kind: str
    treaty: str | None = None
    body: str | None = None
    location: str | None = None
    starts: str | None = None
    ends: str | None = None
    tz: str = "UTC"
    status: str = "scheduled"
    confidence: str = "announced"
    status_on: date | None = None
    outcome: str | None = None
    recurrence: str | None = None
    alert_leads: list[str] | None = None
    sources: list[str] = []
    claims: list[ClaimRecord] = []
    delegation: list[DelegationRecord] = []
    history: list[HistoryRecord] = []
    # As for a deadline: when the meeting became public, and the source saying so.
    announced: datetime | None = None
    announced_source: str | None = None


class ForecastRecord(Record):
    """``[[forecast]]``: a source's forecast on a deadline or meeting (``slug``) made on
    ``made``; ``outcomes`` as ``tracker forecast add`` takes them (``"Breakthrough=15-20%"``);
    resolved ``scored`` (``outcome``, ``resolved_by``) or ``annulled`` (``reason``)."""

    slug: str
    source: str
    made: date
    outcomes: list[str]
    note: str | None = None
    resolution: str | None = None
    outcome: str | None = None
    reason: str | None = None
    resolved_by: str | None = None
    resolved_on: date | None = None

    @property
    def identity(self) -> str:
        """One source's forecast on one item made on one day."""
        return f"{self.slug}:{self.source}:{self.made.isoformat()}"


SECTIONS: dict[str, type[Record]] = {
    "source": SourceRecord,
    "treaty": TreatyRecord,
    "participation": ParticipationRecord,
    "deadline": DeadlineRecord,
    "meeting": MeetingRecord,
    "forecast": ForecastRecord,
}


def default_paths() -> list[Path]:
    return [resources.path("seeds")]


def seed_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInput(f"seed path {path} does not exist")
    return files


def read_records(files: list[Path]) -> list[tuple[str, str, Record]]:
    """Every record of every file, validated: (where, section, record). Raises on the first bad."""
    records: list[tuple[str, str, Record]] = []
    for path in files:
        if path.stat().st_size > MAX_SEED_BYTES:
            raise InvalidInput(f"{path}: larger than {MAX_SEED_BYTES // 2**20} MB")
        try:
            document = tomllib.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
        for section, rows in document.items():
            model = SECTIONS.get(section)
            if model is None or not isinstance(rows, list):
                raise InvalidInput(
                    f"{path}: unknown section [[{section}]]; expected {', '.join(SECTIONS)}"
                )
            for index, row in enumerate(rows, start=1):
                where = f"{path.name} [[{section}]] #{index}"
                if (isinstance(row, dict) and "slug" in row) or (
                    isinstance(row, dict) and "key" in row
                ):
                    where += f" ({row.get('slug') or row.get('key')})"
                try:
                    records.append((where, section, model.model_validate(row)))
                except ValidationError as exc:
                    error = exc.errors()[0]
                    key = ".".join(str(part) for part in error["loc"]) or "record"
                    raise InvalidInput(f"{where}: {key}: {error['msg']}") from None
    return records
