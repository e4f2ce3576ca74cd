"""Recording changes: every edit of a deadline or meeting leaves a Change row per field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import dates, text
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.sources import Source, SourceGrade
from tracker.errors import InvalidInput

Item = Deadline | Meeting
# Dates that may be to be announced: stored as no date, shown and recorded as "TBA".
UNDATED = frozenset({"due", "starts"})
# What moves an item's calendar event (its time, zone, rule) or its status: a change of
# one of these bumps SEQUENCE (RFC 5545 3.8.7.4), so calendar clients take the new
# version; a retitled or re-sourced item keeps its SEQUENCE (LAST-MODIFIED says it).
SCHEDULING = frozenset({"due", "starts", "ends", "tz", "recurrence", "status"})
# What made a change (``Change.origin``): a person at the command line or on the web, a seed
# file, an imported file, a polled calendar.
ORIGINS = frozenset({"cli", "web", "seed", "import", "poll"})


def subject_type(item: Item) -> str:
    return "deadline" if isinstance(item, Deadline) else "meeting"


def record(
    session: Session,
    item: Item,
    field: str,
    old: str | None,
    new: str | None,
    *,
    now: datetime,
    origin: str | None,
    changed_at: datetime | None = None,
    source: Source | None = None,
    note: str | None = None,
) -> Change:
    """One field's change; ``origin`` is what made it (one of :data:`ORIGINS`; None: not
    said, as for rows recorded before origins were kept)."""
    if origin is not None and origin not in ORIGINS:
        raise ValueError(f"unknown change origin {origin!r}")
    if item.id is None:
        session.flush()
    change = Change(
        subject_type=subject_type(item),
        subject_id=item.id,
        subject_slug=item.slug,
        subject_title=item.title,
        field=field,
        old=old,
        new=new,
        changed_at=changed_at or now,
        recorded_at=now,
        source=source,
        note=note,
        origin=origin,
    )
    session.add(change)
    return change


def apply_changes(
    session: Session,
    item: Item,
    values: Mapping[str, Any],
    *,
    now: datetime,
    origin: str | None,
    source: Source | None = None,
    note: str | None = None,
) -> list[Change]:
    """Set attributes, recording one Change for each that really changed.

    ``values`` maps attribute names to new values; date windows are compared and
    recorded by their canonical text, a date to be announced as "TBA".
    """
    changes = []
    for field, given in values.items():
        old, new = current(item, field), _dated(field, given)
        if _shown(old) == _shown(new):
            continue
        setattr(item, field, stored(new))
        changes.append(
            record(
                session,
                item,
                field,
                _shown(old),
                _shown(new),
                now=now,
                origin=origin,
                source=source,
                note=note,
            )
        )
    if changes:
        if any(change.field in SCHEDULING for change in changes):
            item.sequence += 1
        item.updated_at = now
    return changes


def current(item: Item, field: str) -> Any:
    """An item's attribute; an undated ``due`` or ``starts`` is TBA."""
    return _dated(field, getattr(item, field))


def _dated(field: str, value: Any) -> Any:
    return dates.TBA if value is None and field in UNDATED else value


def stored(value: Any) -> Any:
    """What a value is kept as: a date to be announced is no date (NULL columns)."""
    return None if isinstance(value, dates.DateWindow) and value.is_tba else value


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(part) for part in value)
    return str(value)


def history(session: Session, item: Item) -> list[Change]:
    return list(
        session.scalars(
            select(Change)
            .where(Change.subject_type == subject_type(item), Change.subject_id == item.id)
            .order_by(Change.changed_at, Change.id)
        )
    )


def source_for_url(session: Session, url: str | None, grade: str | None = None) -> Source | None:
    """The source with this URL, created (titled by its host, graded ``grade`` or else
    secondary) when new. A grade given for a known source must be its own: regrading one
    is `tracker source edit`, not a side effect of citing it."""
    if grade is not None:
        grade = text.choice(grade, SourceGrade, "source grade")
    if not url:
        if grade is not None:
            raise InvalidInput("--source-grade grades the --source URL given with it")
        return None
    url = text.url(url)
    parts = urlsplit(url)
    found = session.scalar(select(Source).where(Source.url == url).limit(1))
    if found:
        if grade is not None and grade != found.grade:
            raise InvalidInput(
                f"source {found.key} is graded {found.grade}: regrade it with "
                f"`tracker source edit {found.key} --grade {grade}`"
            )
        return found
    source = Source(
        key=text.slugify(f"{parts.netloc}{parts.path}")[:100],
        title=url,
        publisher=parts.netloc,
        url=url,
        grade=grade or SourceGrade.SECONDARY.value,
    )
    source.key = unique_slug(session, Source, source.key, column="key")
    session.add(source)
    return source


def unique_slug(session: Session, model: type[Any], base: str, column: str = "slug") -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free."""
    attribute = getattr(model, column)
    taken = set(session.scalars(select(attribute).where(attribute.like(f"{base}%"))))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
