"""Which deadlines a countdown board shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.errors import NotFound
from tracker.schedule.models import Deadline, DeadlineStatus
from tracker.treaties.models import Treaty

HIDDEN = (DeadlineStatus.CANCELLED.value, DeadlineStatus.SUPERSEDED.value)


def select_countdowns(
    session: Session, slugs: Sequence[str], *, today: date, recent: timedelta
) -> list[Deadline]:
    """Deadlines named by slug (a deadline, or a treaty for all of its), else the default board:
    pending ones, and the others not passed or passed within ``recent``."""
    query = select(Deadline)
    if slugs:
        treaty_ids = select(Treaty.id).where(Treaty.slug.in_(slugs))
        query = query.where(or_(Deadline.slug.in_(slugs), Deadline.treaty_id.in_(treaty_ids)))
    else:
        query = query.where(
            Deadline.status.not_in(HIDDEN),
            or_(
                Deadline.status == DeadlineStatus.PENDING.value,
                Deadline.due_latest >= today - recent,
            ),
        )
    found = list(session.scalars(query.order_by(Deadline.due_earliest, Deadline.slug)))
    if slugs:
        known = {d.slug for d in found} | {d.treaty.slug for d in found if d.treaty}
        known |= set(session.scalars(select(Treaty.slug).where(Treaty.slug.in_(slugs))))
        missing = [slug for slug in slugs if slug not in known]
        if missing:
            raise NotFound(f"no deadline or treaty {missing[0]!r}")
    return found
