"""Treaties as readers see them: the list and one treaty, as JSON-ready dicts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import text
from tracker.catalog import queries
from tracker.catalog.treaties import Treaty, TreatyStatus
from tracker.catalog.treaty_editing import DATE_FIELDS

WATCHED_STATES = ("US", "RU")


def list_treaties(session: Session, status: str | None = None) -> list[Treaty]:
    query = select(Treaty).order_by(Treaty.short_name)
    if status:
        query = query.where(Treaty.status == text.choice(status, TreatyStatus, "treaty status"))
    return list(session.scalars(query))


def treaties(session: Session, today: date, status: str | None = None) -> list[dict[str, Any]]:
    """``tracker treaty list --json`` and ``/api/treaties``."""
    return [treaty_dict(t, today) for t in list_treaties(session, status)]


def treaty(session: Session, slug: str, today: date) -> dict[str, Any]:
    """``tracker treaty show SLUG --json`` and ``/api/treaties/SLUG``; raises NotFound."""
    return treaty_dict(queries.treaty(session, slug), today, events=True)


def treaty_dict(
    treaty: Treaty, today: date | None = None, *, events: bool = False
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "slug": treaty.slug,
        "name": treaty.name,
        "short_name": treaty.short_name,
        "kind": treaty.kind,
        "status": treaty.status,
        **{name: _iso(getattr(treaty, name)) for name in DATE_FIELDS},
        "depositary": treaty.depositary,
        "standing": {state: treaty.standing(state, today).value for state in WATCHED_STATES},
        "sources": [source.as_dict() for source in treaty.sources],
    }
    if events:
        result["summary"] = treaty.summary
        result["events"] = [
            {
                "state": event.state,
                "event": event.event,
                "date": event.on.isoformat(),
                "note": event.note,
                "sources": [source.as_dict() for source in event.sources],
            }
            for event in treaty.events
        ]
    return result


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
