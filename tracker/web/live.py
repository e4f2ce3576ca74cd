"""Every page, the API and the feeds rendered from the database on request, cached by the
catalogue's revision.

A request reads the revision (one row by its primary key, :mod:`tracker.catalog.revision`)
and looks up what it rendered for the same path, query and revision. Any process's
catalogue write moves the revision on, so an edit made with the CLI is seen on the next
request, with no rebuild; a request between edits costs that one read. What depends on
the day as well (countdowns, states) is kept only until the instant it could read
otherwise. ``ETag`` is the revision and a digest of the bytes (two servers on one database
give the same), ``Last-Modified`` the instant the revision moved (or the day began, for
what ages with the day), so an unchanged page answers 304 to a conditional GET.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING

from starlette.responses import Response

from tracker.catalog import revision
from tracker.dates import zone

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.requests import Request

    from tracker.clock import Clock

# Rendered responses kept per process, the least recently used dropped first: a bound on
# memory whatever query strings clients make up.
CACHED = 512
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rendered:
    """A response's body as rendered; ``valid_until``: the instant it may read otherwise
    for the same rows (None: only a catalogue write changes it)."""

    content: bytes
    media_type: str
    valid_until: datetime | None = None


@dataclass(frozen=True)
class _Cached:
    rendered: Rendered
    etag: str
    last_modified: datetime


Render = Callable[["Session", datetime], Rendered]
# More than the catalogue a response shows (the feeds' public alerts are outbox rows):
# a value in the cache key and the instant it last moved.
Extra = Callable[["Session"], tuple[Hashable, datetime | None]]


def etag(revision_value: int, content: bytes) -> str:
    return f'W/"{revision_value}-{hashlib.sha256(content).hexdigest()[:20]}"'


def etag_matches(header: str, tag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(given.strip().removeprefix("W/") == opaque for given in header.split(","))


def not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(last_modified.timestamp()) <= since.timestamp()


# Every query parameter a live response depends on. The others are left out of the cache
# key: a request may carry any it likes (?x=1, ?x=2, ...) without a render each, nor push
# what is cached out. A parameter read by a live endpoint must be named here.
READ_PARAMETERS = frozenset(
    {"treaty", "kind", "confidence", "body", "precise", "q", "within", "status", "since", "type"}
    | {"known_at"}  # the catalogue as known then (tracker.views.knowledge)
)


def _read_parameters(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted((k, v) for k, v in request.query_params.multi_items() if k in READ_PARAMETERS)
    )


class LiveCache:
    """Renders on request and keeps what it rendered while the revision holds."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        timezone: str = "UTC",
        cache_control: str = "no-cache",
        size: int = CACHED,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self._timezone = timezone
        self._cache_control = cache_control
        self._size = size
        self._entries: OrderedDict[Hashable, _Cached] = OrderedDict()
        self._revision = -1
        self._lock = threading.Lock()
        self.renders = 0  # how many responses were rendered (the tests count them)

    def respond(
        self, request: Request, render: Render, *, extra: Extra | None = None, name: str = ""
    ) -> Response:
        """The response of ``render`` for this request: from the cache if the revision (and
        ``extra``) has not moved and it has not aged, else rendered now; 304 if the client
        has it. ``name``: the cache key instead of the path (responses that share one
        render). ``render`` may raise HTTPException (not cached)."""
        as_of = self.clock.now()
        with self.sessions() as session:
            stamp = revision.stamp(session.connection())  # Core: no ORM layer per request
            more, moved = extra(session) if extra is not None else (None, None)
            key = (name or request.url.path, _read_parameters(request), more)
            found = self._get(key, stamp.value, as_of)
            if found is None:
                rendered = render(session, as_of)
                self.renders += 1
                changed = max(stamp.changed_at or _EPOCH, moved or _EPOCH)
                if rendered.valid_until is not None:  # it ages: at least since the day began
                    changed = max(changed, self._day_start(as_of))
                found = _Cached(rendered, etag(stamp.value, rendered.content), changed)
                self._put(key, stamp.value, found)
        return self._response(request, found)

    def _day_start(self, as_of: datetime) -> datetime:
        local = zone(self._timezone)
        return datetime.combine(as_of.astimezone(local).date(), time(0), local)

    def _get(self, key: Hashable, value: int, as_of: datetime) -> _Cached | None:
        with self._lock:
            if value != self._revision:
                return None
            found = self._entries.get(key)
            if found is None:
                return None
            until = found.rendered.valid_until
            if until is not None and as_of >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found

    def _put(self, key: Hashable, value: int, cached: _Cached) -> None:
        with self._lock:
            if value < self._revision:
                return  # rendered from an older revision than another request has seen
            if value > self._revision:
                self._entries.clear()  # nothing rendered before the write is asked for again
                self._revision = value
            self._entries[key] = cached
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def _response(self, request: Request, cached: _Cached) -> Response:
        headers = {
            "ETag": cached.etag,
            "Last-Modified": format_datetime(cached.last_modified.astimezone(UTC), usegmt=True),
            "Cache-Control": self._cache_control,
        }
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            fresh = etag_matches(if_none_match, cached.etag)
        else:
            since = request.headers.get("if-modified-since")
            fresh = since is not None and not_modified_since(since, cached.last_modified)
        if fresh:
            return Response(status_code=304, headers=headers)
        rendered = cached.rendered
        return Response(rendered.content, media_type=rendered.media_type, headers=headers)
