"""The feeds served live: ``feed.xml``, ``atom.xml``, ``calendar.ics`` and each treaty's
``treaties/<slug>.xml`` and ``.ics``, rendered from the database as ``tracker feed build``
would write them (:func:`tracker.publish.build.feed_files`).

One render makes every feed file; it is kept under one cache key while the catalogue's
revision and the newest public alert hold (the news feeds show the outbox's public alerts,
which are not catalogue writes), and each file is served from it.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect, select
from starlette.exceptions import HTTPException

from tracker.catalog import revision
from tracker.errors import InvalidInput, NotFound
from tracker.views.filters import EVERYTHING, BoardFilter
from tracker.web.known_at import known_at_of
from tracker.web.live import LiveCache, Rendered

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    from sqlalchemy.orm import Session
    from starlette.requests import Request
    from starlette.responses import Response

    from tracker.notifiers.base import Publisher
    from tracker.settings import Settings

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
ICS = "text/calendar; charset=utf-8"
MEDIA_TYPES = {".xml": RSS, ".ics": ICS}
TOP_FEEDS = {"feed.xml": RSS, "atom.xml": ATOM, "calendar.ics": ICS}


class Feeds:
    def __init__(self, settings: Settings, cache: LiveCache) -> None:
        self.settings = settings
        self.cache = cache
        self._publishers: Sequence[Publisher] | None = None
        self._lock = threading.Lock()
        self._files: tuple[Any, dict[str, bytes], datetime | None] = (None, {}, None)

    def publishers(self) -> Sequence[Publisher]:
        """Loaded once, at the first feed asked for."""
        with self._lock:
            if self._publishers is None:
                from tracker.publish.build import installed_publishers

                self._publishers = installed_publishers(self.settings)
            return self._publishers

    def respond(self, request: Request, relative: str) -> Response:
        """The feed file ``relative`` (``feed.xml``, ``treaties/new-start.ics``); 404 when
        no publisher writes it."""

        precise = request.query_params.get("precise") == "1"  # calendars: no date markers
        only = board_filter(request)
        known_at = known_at_of(request, self.settings.timezone)

        def render(session: Session, as_of: datetime) -> Rendered:
            try:
                only.check(session)
            except NotFound as exc:
                raise HTTPException(400, str(exc)) from None
            files, until = self._all_files(session, as_of, precise, only, known_at)
            if relative not in files:
                raise HTTPException(404)
            media_type = TOP_FEEDS.get(relative) or MEDIA_TYPES[relative[-4:]]
            return Rendered(files[relative], media_type, until)

        return self.cache.respond(request, render, extra=newest_public_alert)

    def _all_files(
        self,
        session: Session,
        as_of: datetime,
        precise: bool = False,
        only: BoardFilter = EVERYTHING,
        known_at: datetime | None = None,
    ) -> tuple[dict[str, bytes], datetime | None]:
        """Every feed file, rendered once for all of them while the rows hold (narrowed by
        ``only``: a board's view)."""
        from tracker.publish.build import feed_files

        key = (revision.current(session), newest_public_alert(session)[0], precise, only, known_at)
        with self._lock:
            held, files, until = self._files
        if held == key and (until is None or as_of < until):
            return files, until
        files, until = feed_files(
            session,
            self.settings,
            self.publishers(),
            as_of=as_of,
            precise=precise,
            only=only,
            known_at=known_at,
        )
        with self._lock:
            self._files = (key, files, until)
        return files, until


def board_filter(request: Request) -> BoardFilter:
    """The board's view the query string asks for (``?treaty=&kind=&confidence=``); 400 for
    a kind or confidence outside the vocabulary."""
    try:
        return BoardFilter.from_query(request.query_params)
    except InvalidInput as exc:
        raise HTTPException(400, str(exc)) from None


def newest_public_alert(session: Session) -> tuple[Hashable, datetime | None]:
    """The newest public alert's id and when it was recorded (None: none yet)."""
    from tracker.outbox.models import Notice

    if not inspect(session.get_bind()).has_table(Notice.__tablename__):
        return None, None
    query = select(func.max(Notice.id), func.max(Notice.recorded_at)).where(Notice.public.is_(True))
    newest, recorded_at = session.execute(query).one()
    return newest, recorded_at
