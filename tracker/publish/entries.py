"""What a feed shows: alerts, changes and new items, as :class:`FeedEvent` values.

Changes and new items come from the recorded history (``Change`` rows: a date moved, a
status changed, an item added), alerts from the outbox (``Notice`` rows of kind alert
sent to the broadcast channels). A change has the identity of the outbox's change event
(``change:<id>``), so its GUID is the same whether or not the daemon has seen it. Each
event's identity, time and text derive only from stored rows, so rebuilding the feeds
from an unchanged database gives the same bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tracker.catalog.models import NAMESPACE, Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.dates import DateWindow, Precision
from tracker.views.countdown import countdown

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ufffe\uffff]+")
_FIELD_WORDS = {
    "due": "moved to",
    "starts": "moved to",
    "ends": "now ends",
    "location": "moved to",
    "title": "renamed to",
}


def one_line(value: str) -> str:
    """Text safe in any feed: control characters and line breaks become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


@dataclass(frozen=True)
class FeedEvent:
    """One feed entry. ``identity`` never changes for the same event."""

    identity: str
    kind: str
    title: str
    summary: str
    link: str
    event_time: datetime
    treaty_slug: str | None = None

    @property
    def guid(self) -> str:
        """A URN that is the same on every rebuild and every machine."""
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed:' + self.identity)}"


def item_link(base_url: str, subject_type: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/{subject_type}s/{slug}"


def _describe(
    subject_type: str, field: str, subject_title: str, new: str | None
) -> tuple[str, str]:
    """The entry's kind and title for one history row."""
    name = one_line(subject_title)
    shown = one_line(new or "")
    if field == "created":
        when = f" ({shown})" if shown else ""
        return "new", f"New {subject_type}: {name}{when}"
    if field == "removed":
        return "change", f"{name} removed"
    if field == "status":
        return "change", f"{name} {shown}" if shown else f"{name}: status cleared"
    words = _FIELD_WORDS.get(field, f"{field} changed to")
    return "change", f"{name} {words} {shown or 'nothing'}"


@dataclass(frozen=True)
class _Subject:
    """What an entry shows of the item a change is about, as it is now."""

    window: DateWindow | None
    tz: str
    treaty_slug: str | None


def _subjects(session: Session, ids: dict[str, set[int]]) -> dict[tuple[str, int], _Subject]:
    """The items of ``ids`` by kind, read as plain columns (no sources, no history)."""
    queries = {
        "deadline": select(
            Deadline.id,
            Deadline.due_text,
            Deadline.due_earliest,
            Deadline.due_latest,
            Deadline.due_precision,
            Deadline.due_time,
            Deadline.tz,
            Treaty.slug,
        )
        .outerjoin(Treaty, Deadline.treaty_id == Treaty.id)
        .where(Deadline.id.in_(ids.get("deadline", ()))),
        "meeting": select(
            Meeting.id,
            Meeting.starts_text,
            Meeting.starts_earliest,
            Meeting.starts_latest,
            Meeting.starts_precision,
            Meeting.starts_time,
            Meeting.tz,
            Treaty.slug,
        )
        .outerjoin(Treaty, Meeting.treaty_id == Treaty.id)
        .where(Meeting.id.in_(ids.get("meeting", ()))),
    }
    found: dict[tuple[str, int], _Subject] = {}
    for kind, query in queries.items():
        if not ids.get(kind):
            continue
        for key, text, earliest, latest, precision, at, tz, treaty_slug in session.execute(query):
            window = None
            if text is not None and earliest is not None and latest is not None and precision:
                window = DateWindow(text, earliest, latest, Precision(precision), at)
            found[(kind, key)] = _Subject(window, tz, treaty_slug)
    return found


def _history_rows(session: Session, limit: int | None) -> list[Any]:
    return list(
        session.execute(
            select(
                Change.id,
                Change.subject_type,
                Change.subject_id,
                Change.subject_slug,
                Change.subject_title,
                Change.field,
                Change.new,
                Change.changed_at,
                Change.note,
            )
            .order_by(Change.changed_at.desc(), Change.id.desc())
            .limit(limit)
        )
    )


def _history_events(session: Session, base_url: str, changes: Sequence[Any]) -> list[FeedEvent]:
    ids: dict[str, set[int]] = {}
    for change in changes:
        ids.setdefault(change.subject_type, set()).add(change.subject_id)
    subjects = _subjects(session, ids)
    events = []
    for change in changes:
        subject = subjects.get((change.subject_type, change.subject_id))
        kind, title = _describe(change.subject_type, change.field, change.subject_title, change.new)
        summary = title
        if subject is not None and subject.window is not None:
            when = countdown(subject.window, change.changed_at, subject.tz).human
            summary += f" — {subject.window.text}, {when}"
        if change.note:
            summary += f". {one_line(change.note)}"
        events.append(
            FeedEvent(
                identity=f"change:{change.id}",  # as the outbox's change event
                kind=kind,
                title=title,
                summary=summary,
                link=item_link(base_url, change.subject_type, change.subject_slug),
                event_time=change.changed_at,
                treaty_slug=subject.treaty_slug if subject is not None else None,
            )
        )
    return events


def events_from_history(
    session: Session, base_url: str, limit: int | None = None
) -> list[FeedEvent]:
    """The newest ``limit`` history rows as feed events, newest first."""
    return _history_events(session, base_url, _history_rows(session, limit))


def events_from_outbox(
    session: Session, base_url: str, limit: int | None = None
) -> list[FeedEvent]:
    """The newest ``limit`` alerts recorded for everyone (with a broadcast delivery).

    "Newest" is by when the alert was recorded, which the outbox indexes, so the query
    reads ``limit`` rows however long the history; entries show the instant it fell due.
    """
    from tracker.outbox.models import BROADCAST, Delivery, Notice

    if not inspect(session.get_bind()).has_table(Notice.__tablename__):
        return []  # a database the daemon's migration has not reached yet
    broadcast = (
        select(Delivery.id)
        .where(Delivery.event_id == Notice.id, Delivery.recipient == BROADCAST)
        .exists()
    )
    alerts = session.execute(
        select(
            Notice.identity,
            Notice.title,
            Notice.body,
            Notice.subject_type,
            Notice.subject_slug,
            Notice.treaty_slug,
            Notice.due_at,
        )
        .where(Notice.kind == "alert", broadcast)
        .order_by(Notice.recorded_at.desc(), Notice.id.desc())
        .limit(limit)
    ).all()
    events = []
    for alert in alerts:
        link = (
            item_link(base_url, alert.subject_type, alert.subject_slug)
            if alert.subject_type and alert.subject_slug
            else base_url
        )
        summary = one_line(alert.body)
        events.append(
            FeedEvent(
                identity=alert.identity,
                kind="alert",
                title=one_line(alert.title),
                summary=summary[:1000] or one_line(alert.title),
                link=link,
                event_time=alert.due_at,
                treaty_slug=alert.treaty_slug,
            )
        )
    return events


def feed_events(session: Session, base_url: str, limit: int) -> list[FeedEvent]:
    """The ``limit`` newest events a feed may show, newest first: at most ``limit`` rows
    are read from the history and from the outbox, however long they are, and only the
    history rows that make the cut are described (each needs its item and a countdown)."""
    changes = _history_rows(session, limit)
    alerts = events_from_outbox(session, base_url, limit)
    # Stable, history first: the order newest_first gives the same instants.
    timeline = sorted(
        [(c.changed_at, 0, n) for n, c in enumerate(changes)]
        + [(a.event_time, 1, n) for n, a in enumerate(alerts)],
        key=lambda entry: entry[0],
        reverse=True,
    )[:limit]
    kept = sorted(n for _, source, n in timeline if source == 0)
    events = _history_events(session, base_url, [changes[n] for n in kept])
    described = dict(zip(kept, events, strict=True))
    return [described[n] if source == 0 else alerts[n] for _, source, n in timeline]


def newest_first(events: list[FeedEvent], limit: int) -> list[FeedEvent]:
    # Stable: events of the same instant keep the order their queries gave (newest id first).
    return sorted(events, key=lambda e: e.event_time, reverse=True)[:limit]
