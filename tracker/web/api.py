"""The JSON API's objects: the same functions, and so the same objects, as the CLI's --json."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

UPCOMING_WITHIN = "180d"


def countdowns(session: Session, today: date, as_of: datetime) -> list[dict[str, Any]]:
    """``tracker countdown --json``: the default board."""
    from tracker.views.countdowns import BOARD_SIZE, RECENTLY_PASSED, select_countdowns
    from tracker.views.items import deadline_entry

    chosen = select_countdowns(session, (), today=today, recent=RECENTLY_PASSED, limit=BOARD_SIZE)
    return [deadline_entry(d, as_of).as_countdown() for d in chosen]


def upcoming(
    session: Session,
    today: date,
    as_of: datetime,
    *,
    within: timedelta,
    treaty: str | None = None,
    kinds: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """``tracker upcoming --json``."""
    from tracker.catalog import queries
    from tracker.views.items import agenda

    flt = queries.Filter(today=today, within=within, treaty=treaty, kinds=kinds)
    entries = agenda(
        queries.deadlines(session, flt),
        queries.meetings(session, flt),
        as_of,
        today,
        today + within,
    )
    return [e.as_agenda() for e in entries]


def treaties(session: Session, today: date, status: str | None = None) -> list[dict[str, Any]]:
    """``tracker treaty list --json``."""
    from tracker.catalog import treaty_editing as service

    return [service.treaty_dict(t, today) for t in service.list_treaties(session, status)]


def treaty(session: Session, today: date, slug: str) -> dict[str, Any]:
    """``tracker treaty show SLUG --json``; raises NotFound."""
    from tracker.catalog import queries
    from tracker.catalog import treaty_editing as service

    return service.treaty_dict(queries.treaty(session, slug), today, events=True)
