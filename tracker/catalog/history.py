"""Recording changes: every edit of a deadline or meeting leaves a Change row per field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.sources import Source

Item = Deadline | Meeting


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
    changed_at: datetime | None = None,
    source: Source | None = None,
    note: str | None = None,
) -> Change:
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
    )
    session.add(change)
    return change


def apply_changes(
    session: Session,
    item: Item,
    values: Mapping[str, Any],
    *,
    now: datetime,
    source: Source | None = None,
    note: str | None = None,
) -> list[Change]:
    """Set attributes, recording one Change for each that really changed.

    ``values`` maps attribute names to new values; date windows are compared and
    recorded by their canonical text.
    """
    changes = []
    for field, new in values.items():
        old = getattr(item, field)
        if _shown(old) == _shown(new):
            continue
        setattr(item, field, new)
        changes.append(
            record(
                session, item, field, _shown(old), _shown(new), now=now, source=source, note=note
            )
        )
    if changes:
        item.sequence += 1
        item.updated_at = now
    return changes


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


def source_for_url(session: Session, url: str | None) -> Source | None:
    """The source with this URL, created (titled by its host) when new."""
    if not url:
        return None
    url = text.url(url)
    parts = urlsplit(url)
    found = session.scalar(select(Source).where(Source.url == url).limit(1))
    if found:
        return found
    source = Source(
        key=text.slugify(f"{parts.netloc}{parts.path}")[:100],
        title=url,
        publisher=parts.netloc,
        url=url,
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
