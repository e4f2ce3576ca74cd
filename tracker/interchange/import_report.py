"""What an import reads (:class:`Incoming` records, whatever the file's format) and what
it did, record by record: added, changed, unchanged, in conflict."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    """One record a file gives. ``options`` are the CLI's option names and texts (a
    column the file leaves out is absent; ``""`` clears one); ``treaty`` None leaves the
    item's treaty, ``""`` detaches it; ``sources`` are URLs the record cites."""

    type: str  # "meeting" or "deadline"
    identity: str  # an iCalendar UID, or a slug
    where: str  # "line 4", "VEVENT 2 (UID …)": named when the record is refused
    options: dict[str, str | None]
    uid: str | None = None  # the UID a new item keeps in its uid column
    by_uid: bool = False  # matched by ``uid`` (calendars), else by ``slug`` (tables)
    slug: str | None = None  # the slug of a new item (tables); else made from its title
    treaty: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldConflict:
    field: str
    local: str | None
    incoming: str | None


@dataclass
class ImportedRecord:
    """What the import did to one record: the fields it wrote, those it left as edited."""

    type: str
    slug: str
    title: str
    identity: str
    fields: list[str] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)


@dataclass
class ImportReport:
    """Records added, changed, unchanged, and in conflict (a field edited locally that the
    file changed too: the local value was kept; other fields of it may have been written)."""

    added: list[ImportedRecord] = field(default_factory=list)
    changed: list[ImportedRecord] = field(default_factory=list)
    unchanged: list[ImportedRecord] = field(default_factory=list)
    conflicts: list[ImportedRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # records the tracker cannot hold
    dry_run: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "conflicts": len(self.conflicts),
        }

    def summary(self) -> str:
        said = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        said = said.replace(" conflicts", " in conflict")
        if self.skipped:
            said += f", {len(self.skipped)} skipped"
        return ("dry run (nothing written): " if self.dry_run else "import: ") + said

    def lines(self, take_command: str = "tracker import FILE") -> list[str]:
        """The summary, then one line per record added, changed or in conflict."""
        out = [self.summary()]
        out += [f"added {r.type} {r.slug}: {r.title}" for r in self.added]
        written = [r for r in self.changed + self.conflicts if r.fields]
        out += [f"changed {r.type} {r.slug}: {', '.join(r.fields)}" for r in written]
        for record in self.conflicts:
            for conflict in record.conflicts:
                out.append(
                    f"conflict: {record.type} {record.slug}, {conflict.field}: local "
                    f"{_said(conflict.local)}, file {_said(conflict.incoming)} (local kept; "
                    f"to take the file's value: {take_command} --take "
                    f"{record.identity}:{conflict.field})"
                )
        out += [f"skipped {what}" for what in self.skipped]
        return out


def _said(value: str | None) -> str:
    return "(empty)" if value is None else repr(" ".join(value.split())[:80])
