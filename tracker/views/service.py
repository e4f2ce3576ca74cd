"""The agenda for every reader: upcoming items, listings and one item in full.

The board and countdowns are in :mod:`tracker.views.board`, treaties in
:mod:`tracker.views.treaties`; each returns the read model (:class:`Item`) or its JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker.catalog import history, queries
from tracker.catalog.models import Change, Meeting
from tracker.views.items import Item, agenda, from_deadline, meeting_items

# Every listing of meetings starts here: before the first meeting anyone records.
EARLIEST = date(1800, 1, 1)


def upcoming(session: Session, flt: queries.Filter, as_of: datetime) -> list[Item]:
    """``tracker upcoming`` and ``/api/upcoming``: deadlines and meeting occurrences
    within ``flt.within`` of ``flt.today``, in date order."""
    end = flt.today + (flt.within or timedelta(0))
    found = queries.deadlines(session, flt), queries.meetings(session, flt)
    return agenda(*found, as_of, flt.today, end)


def deadlines(session: Session, flt: queries.Filter, as_of: datetime) -> list[Item]:
    """``tracker deadline list``."""
    return [from_deadline(deadline, as_of) for deadline in queries.deadlines(session, flt)]


def meetings(
    session: Session, flt: queries.Filter, as_of: datetime, horizon: timedelta
) -> list[Item]:
    """``tracker meeting list``: recurring meetings by their occurrences up to ``flt.within``
    (else ``horizon``) ahead; past ones from the first on record."""
    end = flt.today + (flt.within or horizon)
    found = queries.meetings(session, flt)
    if flt.scope is queries.Scope.UPCOMING:
        return agenda((), found, as_of, flt.today, end)
    items = agenda((), found, as_of, EARLIEST, end)
    if flt.scope is queries.Scope.PAST:
        return [item for item in items if item.when.latest < flt.today]
    return items


def deadline(session: Session, slug: str, as_of: datetime) -> dict[str, Any]:
    """``tracker deadline show --json``: the deadline, its leads, notes and history."""
    found = queries.deadline(session, slug)
    return {
        **from_deadline(found, as_of).as_agenda(),
        "alert_leads": found.alert_leads,
        "notes": found.notes,
        "history": changes_as_dicts(history.history(session, found)),
    }


def meeting(session: Session, slug: str, as_of: datetime) -> dict[str, Any]:
    """``tracker meeting show --json``: the meeting (a recurring or undated one without a
    countdown), its delegations, outcome and history."""
    found = queries.meeting(session, slug)
    # A meeting that does not repeat is its one occurrence, whatever the range asked.
    items = [] if found.recurrence else meeting_items(found, as_of, EARLIEST, EARLIEST)
    data = items[0].as_agenda() if items else _undated(found)
    return {
        **data,
        "recurrence": found.recurrence,
        "delegations": found.delegations,
        "outcome": found.outcome,
        "history": changes_as_dicts(history.history(session, found)),
    }


def _undated(meeting: Meeting) -> dict[str, Any]:
    shown = ("slug", "title", "status", "kind", "location", "series")
    return {
        **{name: getattr(meeting, name) for name in shown},
        "when": meeting.starts_text,
        "human": None,
        "sources": [source.as_dict() for source in meeting.sources],
    }


def item(session: Session, type_: str, slug: str, as_of: datetime) -> dict[str, Any]:
    """One deadline or meeting in full, by type and slug; raises NotFound."""
    return deadline(session, slug, as_of) if type_ == "deadline" else meeting(session, slug, as_of)


def changes_as_dicts(changes: Iterable[Change]) -> list[dict[str, Any]]:
    return [
        {
            "field": c.field,
            "old": c.old,
            "new": c.new,
            "at": c.changed_at.isoformat(),
            "source": c.source.as_dict() if c.source else None,
            "note": c.note,
        }
        for c in changes
    ]
