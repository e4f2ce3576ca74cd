"""Change notices: one per item for the edits made together or close together.

The history rows of one item are coalesced: a notice is recorded once ``window`` has
passed since the item's last change, and says every field's net change (its first old
value, its last new one), the source, and the item's date, state and confidence as they
are now. A field put back where it was within the window is left out; if nothing is left,
nothing is sent.

Exactly once, across crashes and concurrent workers: the notice's identity is
``change:<subject type>:<subject id>:<last change id>`` and its ``change_id`` is that
last id (the column is unique); its payload lists every change it covers. The changes of
an item not told yet are its news changes after the highest ``change_id`` of its notices,
so recording a notice, and with it the rows it covers, is one insert in the transaction
that takes the plan's marks: it happens entirely or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from tracker import plan
from tracker.alerts.models import Subscriber
from tracker.alerts.subscribers import receiving
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.notifiers.feeds import item_link
from tracker.outbox.models import Notice, NoticeKind
from tracker.outbox.notices import Channels, NewNotice, record
from tracker.views.items import Item, from_deadline, from_meeting
from tracker.views.wording import (
    FieldChange,
    change_title,
    changes_title,
    field_line,
    field_name,
    item_phrase,
    local_text,
    net_changes,
    one_line,
    source_phrase,
    window_text,
)

# The default of ``alerts.coalesce_seconds``.
DEFAULT_WINDOW = timedelta(seconds=120)
Subject = tuple[str, int]


def record_changes(
    session: Session,
    channels: Channels,
    now: datetime,
    ids: Collection[int] | None = None,
    *,
    window: timedelta = DEFAULT_WINDOW,
    base_url: str | None = None,
) -> int:
    """Record one change notice per item among those of the history rows ``ids`` (or
    every item with changes not told yet) whose window has closed by ``now``; an item
    whose window is still open gets a plan mark at its close. Only news counts, written
    since the first subscriber appeared: history loaded with its record (a seed's past, a
    seeded record's creation) alerts nobody. ``base_url``: the public site the notices
    link the item's page on (``feeds.base_url``). Says how many notices were recorded."""
    if ids is not None and not ids:
        return 0
    first = session.scalar(select(func.min(Subscriber.created_at)))
    if first is None:
        return 0
    subscribers = list(session.scalars(select(Subscriber).where(Subscriber.immediate, receiving())))
    marks: list[plan.Mark] = []
    recorded = 0
    for _, group in groupby(_untold(session, first, ids), key=_subject):
        rows = list(group)
        closes = rows[-1].recorded_at + window
        if closes > now:
            marks.append((plan.Work.CHANGE.value, str(rows[-1].id), closes))
        elif _record_one(session, rows, subscribers, channels, now, base_url):
            recorded += 1
    plan.mark(session.connection(), marks)
    return recorded


def _subject(change: Change) -> Subject:
    return change.subject_type, change.subject_id


def _untold(session: Session, first: datetime, ids: Collection[int] | None) -> list[Change]:
    """The news changes not told yet of the items of ``ids`` (or of every item), by item
    and then in the order made."""
    told = aliased(Change)
    last_told = (
        select(func.max(Notice.change_id))
        .join(told, told.id == Notice.change_id)
        .where(told.subject_type == Change.subject_type, told.subject_id == Change.subject_id)
        .scalar_subquery()
    )
    query = select(Change).where(
        Change.news.is_(True),
        Change.recorded_at > first,
        Change.id > func.coalesce(last_told, 0),
    )
    if ids is not None:
        subjects = session.execute(
            select(Change.subject_type, Change.subject_id)
            .where(Change.id.in_(sorted(ids)))
            .distinct()
        ).all()
        if not subjects:
            return []
        query = query.where(
            or_(*(and_(Change.subject_type == t, Change.subject_id == i) for t, i in subjects))
        )
    return list(session.scalars(query.order_by(Change.subject_type, Change.subject_id, Change.id)))


def _record_one(
    session: Session,
    rows: Sequence[Change],
    subscribers: Sequence[Subscriber],
    channels: Channels,
    now: datetime,
    base_url: str | None,
) -> bool:
    """Record the notice of one item's changes; False when they come to nothing."""
    last = rows[-1]
    view = _view(session, last, now)
    wording = _wording(rows, view)
    if wording is None:
        return False
    title, lines, fields = wording
    link = item_link(base_url, last.subject_type, last.subject_slug) if base_url else None
    if link is not None and view is not None:
        lines.append(f"Details: {link}")
    treaty, kind = (view.treaty, view.kind) if view is not None else (None, None)
    chosen = [
        s for s in subscribers if s.created_at < last.recorded_at and s.concerns(treaty, kind)
    ]
    notice = NewNotice(
        identity=f"change:{last.subject_type}:{last.subject_id}:{last.id}",
        kind=NoticeKind.CHANGE.value,
        title=title,
        body=title + "\n\n" + "\n".join(lines) + "\n",
        due_at=last.recorded_at,
        subject_type=last.subject_type,
        subject_slug=last.subject_slug,
        subject_kind=kind,
        treaty_slug=treaty,
        change_id=last.id,
        payload=_payload(rows, view, fields, link),
    )
    # chat and push hear of changes; the feeds read the history
    return record(session, notice, chosen, channels, now=now, services=True) is not None


def _view(session: Session, change: Change, now: datetime) -> Item | None:
    """The item a change is of, as it is now; None once removed."""
    if change.subject_type == "deadline":
        deadline = session.get(Deadline, change.subject_id)
        return from_deadline(deadline, now) if deadline is not None else None
    meeting = session.get(Meeting, change.subject_id)
    return from_meeting(meeting, now) if meeting is not None else None


def _wording(
    rows: Sequence[Change], view: Item | None
) -> tuple[str, list[str], list[FieldChange]] | None:
    """The subject line, the body's lines and the net change of each field (none for an
    item added or removed), or None when the changes cancel out."""
    last = rows[-1]
    fields = {row.field for row in rows}
    if {"created", "removed"} <= fields:
        return None  # added and removed again within the window
    lines: list[str] = []
    net: list[FieldChange] = []
    if "created" in fields or "removed" in fields:
        made = next(row for row in rows if row.field in ("created", "removed"))
        new = view.when.text if view is not None and made.field == "created" else made.new
        if view is not None and made.field == "created":
            new = local_text(new, view.tz)
        title = change_title(last.subject_type, last.subject_title, made.field, made.old, new)
    else:
        net = net_changes((row.field, row.old, row.new) for row in rows)
        if not net:
            return None  # every change undone within the window
        title = changes_title(last.subject_title, net, _windows(net, view))
        lines += [field_line(change) for change in net]
    sources = {row.source.id: row.source for row in rows if row.source is not None}
    lines += [f"Source: {source_phrase(source.as_dict())}" for source in sources.values()]
    if view is not None:
        lines.append(f"Now: {item_phrase(view)}")
    edits = len({row.recorded_at for row in rows})
    lines.append(
        f"Recorded {last.recorded_at:%Y-%m-%d %H:%M} UTC"
        + (f" ({edits} edits)." if edits > 1 else ".")
    )
    notes = dict.fromkeys(one_line(row.note) for row in rows if row.note)
    lines += [f"Note: {note}" for note in notes]
    return title, lines, net


def _payload(
    rows: Sequence[Change], view: Item | None, net: Sequence[FieldChange], link: str | None
) -> dict[str, Any]:
    """What the email says beside the text: the item as it is now (the views' vocabulary,
    with its page's ``link``), each field's change, the sources, notes and when it was
    recorded (an instant: each reader words it in their own zone)."""
    last = rows[-1]
    sources = {row.source.id: row.source for row in rows if row.source is not None}
    made = next((row.field for row in rows if row.field in ("created", "removed")), None)
    return {
        "changes": [row.id for row in rows],
        "made": made,
        "subject_type": last.subject_type,
        "item": {**view.as_dict(), "link": link} if view is not None else None,
        "fields": [
            {"name": field_name(c.field), "old": c.old, "new": c.new, "date": c.field in _DATED}
            for c in net
        ],
        "sources": [source.as_dict() for source in sources.values()],
        "notes": list(dict.fromkeys(one_line(row.note) for row in rows if row.note)),
        "recorded_at": last.recorded_at.isoformat(),
        "edits": len({row.recorded_at for row in rows}),
    }


_DATED = frozenset(("due", "starts", "ends"))


def _windows(net: Sequence[FieldChange], view: Item | None) -> tuple[str, str] | None:
    """An item's new and old date (a meeting's span of days) when its date moved: the
    fields that did not change are as the item has them now."""
    if view is None:
        return None
    now: dict[str, str | None] = {"due" if view.type == "deadline" else "starts": view.when.text}
    if view.type == "meeting":
        now["ends"] = view.ends.text if view.ends else None
    before = {**now, **{c.field: c.old for c in net}}
    after = {**now, **{c.field: c.new for c in net}}
    start = "due" if view.type == "deadline" else "starts"
    return (
        window_text(local_text(after.get(start), view.tz), local_text(after.get("ends"), view.tz)),
        window_text(
            local_text(before.get(start), view.tz), local_text(before.get("ends"), view.tz)
        ),
    )
