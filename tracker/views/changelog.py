"""The changelog: every change across the catalogue, newest first, for ``tracker history``
and the page of what changed since a moment (``/changes?since=``, linked from digests).

One :class:`Entry` per history row, in the JSON vocabulary of the rest (``type``, ``slug``,
``title`` name the item, as it was titled when the change was recorded; ``link`` its page).
A change's ``origin`` says what made it (``cli``, ``web``, ``seed``, ``import``, ``poll``);
rows recorded before origins were kept say ``unknown``. Filtering by treaty or kind goes
by the item as it is now, so the changes of a removed item are left out of such a listing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from tracker import dates
from tracker.catalog import queries
from tracker.catalog.models import Change, Deadline, Meeting
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput
from tracker.views.items import page_link
from tracker.views.wording import change_title, field_name, one_line

TYPES = ("deadline", "meeting")
# The page of changes shows at most this many, newest first.
PAGE_SHOWN = 500
UNKNOWN_ORIGIN = "unknown"  # a row recorded before origins were kept
_MODELS: dict[str, type[Deadline] | type[Meeting]] = {"deadline": Deadline, "meeting": Meeting}


@dataclass(frozen=True)
class ChangeFilter:
    """What a changelog asks for; None or empty: not narrowed by that."""

    since: datetime | None = None  # changes that happened (became known) at or after it
    treaty: str | None = None
    kinds: tuple[str, ...] = ()
    type: str | None = None  # "deadline" or "meeting"
    limit: int | None = None
    known_at: datetime | None = None  # only the changes known then (``--known-at``)

    @classmethod
    def from_query(
        cls,
        params: Mapping[str, str],
        kinds: Sequence[str],
        timezone: str,
        known_at: datetime | None = None,
    ) -> Self:
        """From a page's query string (``since``, ``treaty``, ``kind``, ``type``; empty
        values are no filter), at most :data:`PAGE_SHOWN`. ``since`` is a moment: the page
        reads the same whenever it is asked for."""
        since = (params.get("since") or "").strip()
        return cls(
            since=since_moment(since, timezone) if since else None,
            treaty=(params.get("treaty") or "").strip() or None,
            kinds=tuple(kind for kind in kinds if kind),
            type=(params.get("type") or "").strip() or None,
            limit=PAGE_SHOWN,
            known_at=known_at,
        )

    def check(self, session: Session) -> None:
        """Refuse a type, kind or treaty that does not exist (it would list nothing)."""
        if self.type is not None and self.type not in TYPES:
            raise InvalidInput(f"unknown type {self.type!r} (one of {', '.join(TYPES)})")
        known = {"deadline": queries.DEADLINE_KINDS, "meeting": queries.MEETING_KINDS}
        what = f"{self.type} kind" if self.type else "kind"
        queries.check_kinds(self.kinds, known.get(self.type or "", queries.KINDS), what)
        queries.check_treaties(session, [self.treaty] if self.treaty else [])


@dataclass(frozen=True)
class Entry:
    """One change: the item it was made to, the field, its values before and after, the
    source and note given with it, what made it, when it happened and when recorded."""

    id: int
    type: str
    slug: str
    title: str
    field: str
    old: str | None
    new: str | None
    changed_at: datetime
    recorded_at: datetime
    origin: str
    source: dict[str, str | None] | None
    note: str | None

    @classmethod
    def of(cls, change: Change) -> Entry:
        return cls(
            id=change.id,
            type=change.subject_type,
            slug=change.subject_slug,
            title=change.subject_title,
            field=change.field,
            old=change.old,
            new=change.new,
            changed_at=change.changed_at,
            recorded_at=change.recorded_at,
            origin=change.origin or UNKNOWN_ORIGIN,
            source=change.source.as_dict() if change.source else None,
            note=change.note,
        )

    @property
    def summary(self) -> str:
        """``X: date moved from 2026-02-05 to 2026-03-01``, ``New meeting: X (2027-03)``."""
        return change_title(self.type, self.title, self.field, self.old, self.new)

    def as_dict(self, base_url: str | None = None) -> dict[str, Any]:
        said: dict[str, Any] = {
            "type": self.type,
            "slug": self.slug,
            "title": self.title,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "changed_at": self.changed_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "origin": self.origin,
            "source": self.source,
            "note": self.note,
        }
        if base_url is not None:
            said["link"] = page_link(base_url, self.type, self.slug)
        return said

    def line(self) -> str:
        """The entry as one line of text (instants in UTC): when, the item, what changed,
        what made it, when recorded if that was another day, its source and its note."""
        item = f'{self.type} {self.slug} "{one_line(self.title)}"'
        before, after = one_line(self.old or "") or "—", one_line(self.new or "") or "—"
        if self.field == "created":
            what = f"new {item}: {after}"
        elif self.field == "removed":
            what = f"removed {item}"
        else:
            what = f"{item}: {field_name(self.field)} {before} → {after}"
        said = [self.origin]
        if self.recorded_at.date() != self.changed_at.date():
            said.append(f"recorded {_utc(self.recorded_at)}")
        parts = [_utc(self.changed_at), what, f"[{', '.join(said)}]"]
        if self.source:
            source = self.source
            parts.append(f"source {source['key']} ({source['grade']}) {source['url'] or ''}")
        if self.note:
            parts.append(f"note: {one_line(self.note)}")
        return " ".join(part.rstrip() for part in parts)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%MZ}"


def changes(session: Session, flt: ChangeFilter) -> list[Entry]:
    """The changes ``flt`` asks for, newest first (by when they happened, then as recorded)."""
    return [Entry.of(change) for change in session.scalars(_select(flt))]


def _select(flt: ChangeFilter) -> Select[Change]:
    query = select(Change).order_by(Change.changed_at.desc(), Change.id.desc())
    if flt.since is not None:
        query = query.where(Change.changed_at >= flt.since)
    if flt.known_at is not None:
        query = query.where(Change.changed_at <= flt.known_at)
    if flt.type is not None:
        query = query.where(Change.subject_type == flt.type)
    if flt.treaty is not None or flt.kinds:
        types = [flt.type] if flt.type else list(TYPES)
        query = query.where(or_(*(_of_items(type_, flt) for type_ in types)))
    if flt.limit is not None:
        query = query.limit(flt.limit)
    return query


def _of_items(type_: str, flt: ChangeFilter) -> Any:
    """Changes to the items of ``type_`` that are of the filter's treaty and kinds now."""
    model = _MODELS[type_]
    ids = select(model.id)
    if flt.treaty is not None:
        ids = ids.join(Treaty, model.treaty_id == Treaty.id).where(Treaty.slug == flt.treaty)
    if flt.kinds:
        ids = ids.where(model.kind.in_(flt.kinds))
    return and_(Change.subject_type == type_, Change.subject_id.in_(ids))


def since_moment(text: str, timezone: str, now: datetime | None = None) -> datetime:
    """``since``: a date expression's first instant (a day from its midnight in
    ``timezone``, ``2026-12-01T09:00Z`` as said); with ``now``, also a duration back from
    it (``7d``). Raises InvalidInput in one line."""
    try:
        window = dates.parse(text)
    except InvalidInput as refused:
        if now is None:
            raise InvalidInput(f"since: {refused}") from None
        try:
            return now - dates.parse_duration(text)
        except InvalidInput:
            raise InvalidInput(f"since: {refused}") from None
    if window.is_tba:
        raise InvalidInput("since needs a moment, not a date to be announced")
    return window.start(timezone).astimezone(UTC)


def since_link(base_url: str, since: datetime) -> str:
    """The absolute address of the page of changes since ``since`` (an instant, in UTC)."""
    # An ISO instant needs no escaping in a query ("T", ":" and "Z" may stand as they are).
    return f"{base_url.rstrip('/')}/changes?since={since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def as_dicts(entries: Sequence[Entry], base_url: str | None = None) -> list[dict[str, Any]]:
    return [entry.as_dict(base_url) for entry in entries]
