"""Change notices: one for each history row, for the subscribers it concerns."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.alerts.models import Subscriber
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import Channels, NewNotice, record
from tracker.views.wording import change_title


def record_changes(
    session: Session, channels: Channels, now: datetime, ids: Collection[int] | None = None
) -> int:
    """Record a change notice for each history row that is news (of ``ids``, or every one
    not recorded yet) written since the first subscriber appeared: history loaded with its
    record (a seed's past, a seeded record's creation) alerts nobody."""
    first = session.scalar(select(func.min(Subscriber.created_at)))
    if first is None or (ids is not None and not ids):
        return 0
    done = select(Notice.change_id).where(Notice.change_id.is_not(None))
    query = select(Change).where(
        Change.news.is_(True), Change.recorded_at > first, Change.id.not_in(done)
    )
    if ids is not None:
        query = query.where(Change.id.in_(sorted(ids)))
    changes = list(session.scalars(query.order_by(Change.id)))
    subscribers = list(session.scalars(select(Subscriber).where(Subscriber.immediate)))
    for change in changes:
        item: Deadline | Meeting | None = (
            session.get(Deadline, change.subject_id)
            if change.subject_type == "deadline"
            else session.get(Meeting, change.subject_id)
        )
        treaty = item.treaty.slug if item is not None and item.treaty else None
        kind = item.kind if item is not None else None
        chosen = [
            s for s in subscribers if s.created_at < change.recorded_at and s.concerns(treaty, kind)
        ]
        title = change_title(
            change.subject_type, change.subject_title, change.field, change.old, change.new
        )
        body = f"{title}\n\nRecorded {change.recorded_at:%Y-%m-%d %H:%M} UTC."
        if change.note:
            body += f"\nNote: {change.note}"
        record(
            session,
            NewNotice(
                identity=f"change:{change.id}",
                kind=NoticeKind.CHANGE.value,
                title=title,
                body=body + "\n",
                due_at=change.recorded_at,
                subject_type=change.subject_type,
                subject_slug=change.subject_slug,
                subject_kind=kind,
                treaty_slug=treaty,
                change_id=change.id,
            ),
            chosen,
            channels,
            now=now,
            services=True,  # chat and push hear of changes; the feeds read the history
        )
    return len(changes)
