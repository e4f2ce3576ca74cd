"""Wikidata's statements merged into a treaty's participation events.

Each statement becomes an event citing the treaty's Wikidata source (graded secondary):
a signature is ``signed``; consent to be bound is ``ratified`` when the state signed (as
Wikidata or the tracker has it), else ``acceded`` (Wikidata's "ratified by" does not tell
them apart). A date Wikidata gives to the month or year only is recorded on the period's
first day with a note saying so. Importing the same results again changes nothing.

An event the tracker already has from any other source (a seed's, an editor's) is never
changed: where Wikidata dates it differently, what Wikidata says is kept beside it as a
:class:`~tracker.catalog.models.Claim` of its ``date`` and reported as a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.models import Claim
from tracker.catalog.sources import Source, SourceGrade
from tracker.catalog.treaties import ParticipationEvent, ParticipationEventKind, Treaty
from tracker.interchange.wikidata import DAY, MONTH, Action, Results, Statement, entity_url

# How a participation event's claims are filed (claims of deadlines and meetings say
# "deadline" or "meeting").
CLAIM_SUBJECT = "participation"
CLAIM_FIELD = "date"

_KINDS = {
    Action.SIGNATORY: {ParticipationEventKind.SIGNED},
    Action.PARTY: {ParticipationEventKind.RATIFIED, ParticipationEventKind.ACCEDED},
}


@dataclass
class ImportReport:
    """What an import did: counts, and one line per conflict and per statement left out."""

    source: str = ""
    added: int = 0  # events
    updated: int = 0  # events an earlier import made, now dated or named otherwise
    removed: int = 0  # events an earlier import made that the tracker now has from others
    unchanged: int = 0  # statements that needed nothing
    claims_written: int = 0  # conflicts newly kept, changed or settled
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.claims_written)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {len(self.conflicts)} in conflict "
            f"({self.claims_written} conflict records written), {len(self.skipped)} skipped"
        )


def import_parties(session: Session, slug: str, results: Results, *, now: datetime) -> ImportReport:
    """Merge ``results`` (which name their treaty item) into the treaty ``slug``."""
    treaty = queries.treaty(session, slug)
    assert results.treaty is not None, "the caller names the treaty item"
    source = wikidata_source(session, treaty, results.treaty)
    report = ImportReport(source=source.key, skipped=list(results.skipped))
    # Consent after a signature (Wikidata's or one the tracker has) is a ratification.
    signed = {s.state for s in results.statements if s.action is Action.SIGNATORY}
    signed |= {e.state for e in treaty.events if e.event == ParticipationEventKind.SIGNED}
    for statement in results.statements:
        _merge(session, treaty, statement, source, signed, report, now)
    return report


def wikidata_source(session: Session, treaty: Treaty, qid: str) -> Source:
    """The source Wikidata's facts of ``qid`` cite, made on the first import."""
    key = f"wikidata-{qid.lower()}"
    found = session.scalar(select(Source).where(Source.key == key))
    if found is not None:
        return found
    source = Source(
        key=key,
        title=f"Wikidata: signatories and parties of the {treaty.short_name} ({qid})",
        publisher="Wikidata",
        url=entity_url(qid),
        grade=SourceGrade.SECONDARY.value,
        note="Imported with `tracker treaty import-parties`; community-edited.",
    )
    session.add(source)
    return source


def _merge(
    session: Session,
    treaty: Treaty,
    statement: Statement,
    source: Source,
    signed: set[str],
    report: ImportReport,
    now: datetime,
) -> None:
    kinds = _KINDS[statement.action]
    found = [e for e in treaty.events if e.state == statement.state and e.event in kinds]
    ours = [e for e in found if [s.id for s in e.sources] == [source.id]]
    theirs = [e for e in found if e not in ours]
    if theirs:
        for event in ours:  # the tracker now has this from a source of its own
            treaty.events.remove(event)
            report.removed += 1
        _beside(session, theirs, statement, source, report, now)
        return
    if statement.action is Action.SIGNATORY:
        kind = ParticipationEventKind.SIGNED
    elif statement.state in signed:
        kind = ParticipationEventKind.RATIFIED
    else:
        kind = ParticipationEventKind.ACCEDED
    wanted = (kind.value, statement.on, _precision_note(statement))
    if ours:
        event = ours[0]
        if (event.event, event.on, event.note) == wanted:
            report.unchanged += 1
            return
        event.event, event.on, event.note = wanted
        report.updated += 1
        return
    event = ParticipationEvent(state=statement.state, event=kind.value, on=statement.on)
    event.note = wanted[2]
    event.sources.append(source)
    treaty.events.append(event)
    report.added += 1


def _beside(
    session: Session,
    theirs: list[ParticipationEvent],
    statement: Statement,
    source: Source,
    report: ImportReport,
    now: datetime,
) -> None:
    """The tracker's own events stand; a Wikidata date that differs is kept as a claim."""
    if any(statement.agrees_with(event.on) for event in theirs):
        report.unchanged += 1
        for event in theirs:  # an earlier import's disagreement is settled
            stale = _claim_of(session, event, source)
            if stale is not None:
                session.delete(stale)
                report.claims_written += 1
        return
    event = theirs[0]
    cited = ", ".join(f"{s.key} ({s.grade})" for s in event.sources) or "no source"
    note = f"the tracker keeps {event.event} {event.on.isoformat()}, cited by {cited}"
    report.conflicts.append(
        f"{statement.label} ({statement.state}): Wikidata says {statement.action} "
        f"{statement.said}; {note}"
    )
    claim = _claim_of(session, event, source)
    if claim is not None and (claim.value, claim.note) == (statement.said, note):
        return  # kept on an earlier import
    if claim is None:
        session.flush()  # the event's id
        claim = Claim(
            subject_type=CLAIM_SUBJECT,
            subject_id=event.id,
            field=CLAIM_FIELD,
            source=source,
            value=statement.said,
            recorded_at=now,
        )
        session.add(claim)
    report.claims_written += 1
    claim.value, claim.note, claim.recorded_at = statement.said, note, now


def _claim_of(session: Session, event: ParticipationEvent, source: Source) -> Claim | None:
    if event.id is None or source.id is None:
        return None
    return session.scalar(
        select(Claim).where(
            Claim.subject_type == CLAIM_SUBJECT,
            Claim.subject_id == event.id,
            Claim.field == CLAIM_FIELD,
            Claim.source_id == source.id,
        )
    )


def _precision_note(statement: Statement) -> str | None:
    if statement.precision >= DAY:
        return None
    period = "month" if statement.precision == MONTH else "year"
    return f"Wikidata gives this date to the {period} only ({statement.said})"
