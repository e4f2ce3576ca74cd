"""Sources as people grade them, and what one source says of an item's field (a claim).

Each function validates everything first and raises before touching the session, so a
refused command changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog import claims, queries
from tracker.catalog.editing import read_date
from tracker.catalog.history import source_for_url, subject_type
from tracker.catalog.models import Claim, Deadline, Meeting
from tracker.catalog.sources import Source, SourceGrade
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput, NotFound

# The fields a source may be claimed to state, by the item they belong to.
CLAIMABLE = {"deadline": ("due",), "meeting": ("starts", "ends", "location")}
_DATES = frozenset({"due", "starts", "ends"})


def all_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.key)))


def find(session: Session, key: str) -> Source:
    """The source with this key, or NotFound naming the closest."""
    found = session.scalar(select(Source).where(Source.key == key))
    if found is None:
        known = session.scalars(select(Source.key))
        raise NotFound(queries.unknown("source", key, known, "tracker source list"))
    return found


def by_reference(session: Session, reference: str) -> Source:
    """A source named by its key, or by its http(s) URL (created, graded secondary, when
    new)."""
    if ":" in reference:  # keys are slugs; anything with a scheme is a URL, checked as one
        found = source_for_url(session, reference)
        assert found is not None  # a URL was given
        return found
    return find(session, reference)


def cited_by(session: Session, source: Source) -> list[str]:
    """What cites the source, as ``deadline SLUG`` / ``meeting SLUG`` / ``treaty SLUG``."""
    cited = []
    for noun, model in (("treaty", Treaty), ("deadline", Deadline), ("meeting", Meeting)):
        query = select(model.slug).where(model.sources.any(Source.id == source.id))
        cited += [f"{noun} {slug}" for slug in session.scalars(query.order_by(model.slug))]
    return cited


def edit(
    session: Session, key: str, *, grade: str | None, caveat: str | None
) -> list[tuple[str, str | None, str | None]]:
    """Regrade a source or set its caveat (``caveat=""`` removes it); each change made, as
    (field, old, new)."""
    wanted: dict[str, str | None] = {}
    if grade is not None:
        wanted["grade"] = text.choice(grade, SourceGrade, "source grade")
    if caveat is not None:
        wanted["caveat"] = text.title(caveat, "caveat") if caveat.strip() else None
    if not wanted:
        raise InvalidInput("nothing to change: give --grade or --caveat")
    source = find(session, key)
    changed = []
    for name, new in wanted.items():
        old = getattr(source, name)
        if old != new:
            setattr(source, name, new)
            changed.append((name, old, new))
    return changed


@dataclass(frozen=True)
class Claimed:
    """A claim recorded, and whether the item's sources now disagree on that field."""

    claim: Claim
    conflicting: bool


def claim(
    session: Session,
    subject: str,
    slug: str,
    field: str,
    value: str,
    *,
    source: str,
    now: datetime,
    note: str | None = None,
) -> Claimed:
    """Record that ``source`` (a key or a URL) gives ``value`` for the item's ``field``; a
    date is kept as its canonical text, so "15 May 2027" and "2027-05-15" are one value.
    The source's earlier claim of the field is replaced."""
    if field not in CLAIMABLE[subject]:
        allowed = ", ".join(CLAIMABLE[subject])
        raise InvalidInput(f"a source's claim on a {subject} is of {allowed}, not {field!r}")
    if field in _DATES:
        shown = str(read_date(value, recorded_on=now.date()))
    else:
        shown = text.title(value, field)
    checked_note = text.note(note, "claim note")
    item = (
        queries.deadline(session, slug) if subject == "deadline" else queries.meeting(session, slug)
    )
    cited = by_reference(session, source)
    if cited.id is None:
        session.flush()
    found = session.scalar(
        select(Claim).where(
            Claim.subject_type == subject_type(item),
            Claim.subject_id == item.id,
            Claim.field == field,
            Claim.source_id == cited.id,
        )
    )
    if found is None:
        found = Claim(
            subject_type=subject_type(item), subject_id=item.id, field=field, source=cited
        )
        session.add(found)
    found.value, found.note, found.recorded_at = shown, checked_note, now
    session.flush()
    of_field = [entry for entry in claims.of_item(session, item) if entry.field == field]
    return Claimed(found, bool(of_field) and of_field[0].conflicting)
