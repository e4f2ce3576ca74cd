"""What a news feed shows: public alerts, changes and new items, as feed entries.

Changes and new items come from the recorded history (``Change`` rows: a date moved, a
status changed, an item added) that is news, worded by :mod:`tracker.views.wording`.
History loaded with its record (a seed's past, a seeded record's creation) is left out:
dated today it would be false, and dated when it happened a reader would still get it as a
new item. Alerts come from the outbox's public notices (the alerts of each item's own lead
times), read only. A change has the identity of the outbox's change notice
(``change:<id>``), so its GUID is the same whether or not the daemon has seen it. Each
entry's identity, time and text derive only from stored rows, so an unchanged database
gives the same bytes. Summaries say dates as dates ("5 February 2026"), never counted
from the build ("in 9 days"), which would be wrong a day later
(:mod:`tracker.publish.absolute_dates`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tracker.catalog.models import NAMESPACE, Change
from tracker.notifiers.feeds import FeedEntry, item_link
from tracker.outbox.models import Notice
from tracker.publish.absolute_dates import item_when_said, written_moment_said
from tracker.publish.calendar_items import items_by_id, records
from tracker.views.items import Item
from tracker.views.knowledge import Knowledge
from tracker.views.wording import change_title, confidence_phrase, one_line, status_phrase


def guid(identity: str) -> str:
    """A URN that is the same on every rebuild and every machine."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed:' + identity)}"


def _history_rows(session: Session, limit: int, known: Knowledge | None = None) -> list[Any]:
    subject = (Change.subject_type, Change.subject_id, Change.subject_slug, Change.subject_title)
    what = (Change.field, Change.old, Change.new, Change.changed_at, Change.note)
    newest = select(Change.id, *subject, *what).where(Change.news.is_(True))
    if known is not None:  # the news then known
        newest = newest.where(Change.changed_at <= known.at)
    return records(
        session, newest.order_by(Change.changed_at.desc(), Change.id.desc()).limit(limit)
    )


def _item_said(item: Item, at: datetime) -> str:
    """An item's date in words, its state as of ``at`` and how sure its date is:
    ``5 February 2026; in session; announced — …``."""
    status = replace(item, as_of=at).status
    return f"{item_when_said(item)}; {status_phrase(status)}; {confidence_phrase(item.confidence)}"


def _alert_summary(title: str, body: str) -> str:
    """An alert's body in one line without its headline (which counts the days to the item
    from when the alert fell due), its date in words: ``Deadline: New START expires
    (expiry). Treaty: new-start. When: 5 February 2026. Alert: 30d before``."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if lines and lines[0] == one_line(title):
        lines = lines[1:]
    said = []
    for line in lines:
        if line.startswith("When: "):
            written = line.removeprefix("When: ").rpartition(" (")[0] or line[6:]
            line = f"When: {written_moment_said(written)}"
        said.append(line.rstrip("."))
    return one_line(". ".join(said))[:1000] or title


def _change_entries(
    session: Session,
    base_url: str,
    changes: Sequence[Any],
    as_of: datetime,
    known: Knowledge | None = None,
) -> list[FeedEntry]:
    """The history rows as entries; each shows its item as it is now (when and how far)."""
    ids: dict[str, set[int]] = {}
    for change in changes:
        ids.setdefault(change.subject_type, set()).add(change.subject_id)
    items = items_by_id(session, ids, as_of, known)
    entries = []
    for change in changes:
        item = items.get((change.subject_type, change.subject_id))
        title = change_title(
            change.subject_type, change.subject_title, change.field, change.old, change.new
        )
        summary = title
        if item is not None:
            summary += f" — {_item_said(item, change.changed_at)}"
        if change.note:
            summary += f". {one_line(change.note)}"
        entries.append(
            FeedEntry(
                guid=guid(f"change:{change.id}"),  # as the outbox's change notice
                kind="new" if change.field == "created" else "change",
                title=title,
                summary=summary,
                link=item_link(base_url, change.subject_type, change.subject_slug),
                at=change.changed_at,
                treaty_slug=item.treaty if item is not None else None,
            )
        )
    return entries


def _alert_entries(session: Session, base_url: str, limit: int) -> list[FeedEntry]:
    """The newest ``limit`` public alerts.

    "Newest" is by when the alert was recorded, which the outbox indexes, so the query
    reads ``limit`` rows however long the history; entries show the instant it fell due.
    """
    if not inspect(session.get_bind()).has_table(Notice.__tablename__):
        return []  # a database the daemon's migration has not reached yet
    alerts = records(
        session,
        select(
            Notice.identity,
            Notice.title,
            Notice.body,
            Notice.subject_type,
            Notice.subject_slug,
            Notice.treaty_slug,
            Notice.due_at,
        )
        .where(Notice.public.is_(True))  # the alerts of the items' own lead times
        .order_by(Notice.recorded_at.desc(), Notice.id.desc())
        .limit(limit),
    )
    entries = []
    for alert in alerts:
        link = (
            item_link(base_url, alert.subject_type, alert.subject_slug)
            if alert.subject_type and alert.subject_slug
            else base_url
        )
        title = one_line(alert.title)
        entries.append(
            FeedEntry(
                guid=guid(alert.identity),
                kind="alert",
                title=title,
                summary=_alert_summary(title, alert.body),
                link=link,
                at=alert.due_at,
                treaty_slug=alert.treaty_slug,
            )
        )
    return entries


def feed_entries(
    session: Session, base_url: str, limit: int, as_of: datetime, known: Knowledge | None = None
) -> list[FeedEntry]:
    """The ``limit`` newest entries a feed may show, newest first: at most ``limit`` rows
    are read from the history and from the outbox, however long they are, and only the
    history rows that make the cut are described (each needs its item). As ``known``:
    the changes then known, and the alerts that fell due by then."""
    changes = _history_rows(session, limit, known)
    alerts = _alert_entries(session, base_url, limit)
    if known is not None:
        alerts = [alert for alert in alerts if alert.at <= known.at]
    # Stable, history first among entries of the same instant.
    timeline = sorted(
        [(c.changed_at, 0, n) for n, c in enumerate(changes)]
        + [(a.at, 1, n) for n, a in enumerate(alerts)],
        key=lambda entry: entry[0],
        reverse=True,
    )[:limit]
    kept = sorted(n for _, source, n in timeline if source == 0)
    described = dict(
        zip(
            kept,
            _change_entries(session, base_url, [changes[n] for n in kept], as_of, known),
            strict=True,
        )
    )
    return [described[n] if source == 0 else alerts[n] for _, source, n in timeline]
