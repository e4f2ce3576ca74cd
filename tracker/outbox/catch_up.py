"""Catching up after the tracker was down: alerts of items already over, folded.

An alert whose item is over by the time it is recorded is no longer worth a message of
its own: each audience gets one summary of the ones it would have had. The services the
public alerts go to get theirs by name (public), each subscriber theirs; the summaries'
identities hold a hash of what they fold, so a repeated catch-up records nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tracker.alerts.models import Subscriber
from tracker.alerts.planning import PlannedAlert
from tracker.alerts.subscribers import recipients
from tracker.outbox.models import NoticeKind
from tracker.outbox.notices import Channels, NewNotice, record

PUBLIC = "public"


def record_summaries(
    session: Session,
    folded: Sequence[PlannedAlert],
    own: dict[str, set[timedelta]],
    subscribers: Sequence[Subscriber],
    channels: Channels,
    now: datetime,
) -> None:
    digest = hashlib.sha1("\n".join(a.identity for a in folded).encode()).hexdigest()[:12]
    theirs: dict[int, list[PlannedAlert]] = {sub.id: [] for sub in subscribers}
    for alert in folded:  # each alert's audience found once, not once per subscriber
        for sub in recipients(alert, own.get(alert.key, set()), subscribers):
            theirs[sub.id].append(alert)
    audiences: list[tuple[str, list[Subscriber], list[PlannedAlert]]] = [
        (PUBLIC, [], [a for a in folded if a.lead in own.get(a.key, set())])
    ]
    audiences += [(str(sub.id), [sub], theirs[sub.id]) for sub in subscribers]
    for who, subs, mine in audiences:
        if not mine:
            continue
        title = f"While the tracker was down: {len(mine)} alert(s) for items now past"
        body = (
            title
            + "\n\n"
            + "\n".join(f"- {a.title} (due {a.fires_at:%Y-%m-%d %H:%M} UTC)" for a in mine)
            + "\n"
        )
        record(
            session,
            NewNotice(
                identity=f"catch-up:{digest}:{who}",
                kind=NoticeKind.ALERT.value,
                title=title,
                body=body,
                due_at=now,
                late=True,
            ),
            subs,
            channels,
            now=now,
            # Not shown in the feeds (they list the item's alerts), sent to each service.
            public=False,
            services=who == PUBLIC,
        )
