"""Which deadlines a countdown board shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, DeadlineStatus
from tracker.catalog.queries import line_loading
from tracker.catalog.treaties import Treaty
from tracker.dates import LONGEST_WINDOW
from tracker.errors import NotFound

HIDDEN = (DeadlineStatus.CANCELLED.value, DeadlineStatus.SUPERSEDED.value)
RECENTLY_PASSED = timedelta(days=30)
# The default board: the nearest deadlines, so it costs the same on any size of database.
BOARD_SIZE = 50


def select_countdowns(
    session: Session,
    slugs: Sequence[str],
    *,
    today: date,
    recent: timedelta,
    limit: int | None = None,
) -> list[Deadline]:
    """Deadlines named by slug (a deadline, or a treaty for all of its), else the board:
    deadlines not passed or passed within ``recent``, in date order, the first ``limit``.

    A deadline still pending long after its window (never marked met or missed) is left
    off the board: ordered by date it would push every coming deadline off the top.
    """
    query = select(Deadline).options(line_loading(Deadline))
    if slugs:
        treaty_ids = select(Treaty.id).where(Treaty.slug.in_(slugs))
        query = query.where(or_(Deadline.slug.in_(slugs), Deadline.treaty_id.in_(treaty_ids)))
    else:
        since = today - recent
        query = query.where(
            Deadline.status.not_in(HIDDEN),
            Deadline.due_latest >= since,
            # Implied by the line above; it lets the index on due_earliest start the scan
            # here instead of at the oldest deadline.
            Deadline.due_earliest >= since - LONGEST_WINDOW,
        )
    query = query.order_by(Deadline.due_earliest, Deadline.slug).limit(limit)
    found = list(session.scalars(query))
    if slugs:
        _check_named(session, slugs, found)
    return found


def _check_named(session: Session, slugs: Sequence[str], found: Sequence[Deadline]) -> None:
    """Raise NotFound for the first slug that names no deadline or treaty."""
    shown = {d.slug for d in found} | {d.treaty.slug for d in found if d.treaty}
    unseen = [slug for slug in slugs if slug not in shown]
    if not unseen:
        return
    # A treaty without deadlines, or a deadline past the limit, is known but not shown.
    known = set(session.scalars(select(Treaty.slug).where(Treaty.slug.in_(unseen))))
    known |= set(session.scalars(select(Deadline.slug).where(Deadline.slug.in_(unseen))))
    missing = [slug for slug in unseen if slug not in known]
    if missing:
        raise NotFound(f"no deadline or treaty {missing[0]!r}")
