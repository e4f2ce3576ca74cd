"""Pages for every treaty, deadline and meeting, live from the database: ``/treaties/<slug>``,
``/deadlines/<slug>`` and ``/meetings/<slug>``, each also as ``.json`` (the read model the
CLI and the API give) and an item as ``.ics`` (its one event); ``/search?q=``; and a page
for an address that names nothing, with a search box and the nearest slugs.

Every response goes through the revision-keyed cache (:mod:`tracker.web.live`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker.catalog import revision
from tracker.dates import zone
from tracker.errors import NotFound
from tracker.views.board import valid_until
from tracker.views.page import base, render_page
from tracker.web.known_at import known_at_of
from tracker.web.live import LiveCache, Rendered

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from tracker.settings import Settings
    from tracker.views.items import Item
    from tracker.views.search import Found

HTML = "text/html; charset=utf-8"
JSON = "application/json"
ICS = "text/calendar; charset=utf-8"
METHODS = ["GET", "HEAD"]
PAGE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?P<suffix>json|ics))?$")
# A treaty's page lists at most this many of its deadlines and of its meetings.
TREATY_SHOWN = 200
MEETINGS_AHEAD = timedelta(days=365)


def split_name(name: str) -> tuple[str, str]:
    """``new-start.json`` → (``new-start``, ``json``); a page: suffix ``""``; 404 else."""
    matched = PAGE.match(name)
    if matched is None or len(matched["slug"]) > 120:
        raise HTTPException(404)
    return matched["slug"], matched["suffix"] or ""


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


class Pages:
    """The pages of one app: its settings and its cache."""

    def __init__(self, settings: Settings, cache: LiveCache) -> None:
        self.settings = settings
        self.cache = cache
        self.base = base(settings.feeds.base_url)
        self._names: tuple[int, list[Found]] = (-1, [])

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/deadlines/{name}", self._item_endpoint("deadline"), methods=METHODS),
            Route("/meetings/{name}", self._item_endpoint("meeting"), methods=METHODS),
            Route("/search", self.search, methods=METHODS),
            Route("/sources/{name}", self.source, methods=METHODS),
            Route("/changes", self.changes, methods=METHODS),
        ]

    def _context(self, as_of: datetime, **more: Any) -> dict[str, Any]:
        return {"base": self.base, "site_title": self.settings.feeds.title, "as_of": as_of, **more}

    def _today(self, as_of: datetime) -> Any:
        return as_of.astimezone(zone(self.settings.timezone)).date()

    def _aged(self, items: list[Item], as_of: datetime) -> datetime:
        return valid_until(items, [self.settings.timezone], as_of)

    # Deadlines and meetings

    def _item_endpoint(self, type_: str) -> Any:
        def endpoint(request: Request) -> Response:
            slug, suffix = split_name(request.path_params["name"])
            precise = request.query_params.get("precise") == "1"  # .ics: no date marker
            known_at = known_at_of(request, self.settings.timezone)
            return self.cache.respond(
                request, lambda s, t: self._item(s, t, type_, slug, suffix, precise, known_at)
            )

        return endpoint

    def _item(
        self,
        session: Session,
        as_of: datetime,
        type_: str,
        slug: str,
        suffix: str,
        precise: bool = False,
        known_at: datetime | None = None,
    ) -> Rendered:
        from tracker.catalog import queries
        from tracker.views import knowledge, service
        from tracker.views.forecasts import on_item as forecasts_on
        from tracker.views.items import from_deadline, from_meeting
        from tracker.views.slip_chart import of_item as slip_chart_of

        try:
            known = knowledge.load(session, known_at)
            if type_ == "deadline":
                item = from_deadline(
                    knowledge.as_known(session, known, queries.deadline(session, slug)), as_of
                )
            else:
                item = from_meeting(
                    knowledge.as_known(session, known, queries.meeting(session, slug)), as_of
                )
        except NotFound:
            raise HTTPException(404) from None
        aged = self._aged([item], as_of)
        if suffix == "ics":
            return Rendered(self._ics(item, precise), ICS, aged)
        data = service.item(session, type_, slug, as_of, self.settings.feeds.base_url, known_at)
        if suffix == "json":
            return Rendered(json_bytes(data), JSON, aged)
        data["forecasts"] = forecasts_on(session, type_, slug, known_at)  # not in the JSON
        chart = slip_chart_of(session, type_, slug, known_at)
        page = render_page("pages/item.html", self._context(as_of, item=data, chart=chart))
        return Rendered(page, HTML, aged)

    def _ics(self, item: Item, precise: bool = False) -> bytes:
        from tracker.notifiers.feeds import Publication
        from tracker.notifiers.ics import IcsPublisher

        feeds = self.settings.feeds
        one = Publication(title=f"{feeds.title}: {item.title}", base_url=feeds.base_url,
                          treaties=(), items=(item,), precise=precise)  # fmt: skip
        return IcsPublisher().publish(one)["calendar.ics"]

    # Treaties (``/treaties/<slug>``; the app routes ``.xml`` and ``.ics`` to the feeds)

    def treaty(self, request: Request, slug: str, suffix: str) -> Response:
        known_at = known_at_of(request, self.settings.timezone)
        return self.cache.respond(request, lambda s, t: self._treaty(s, t, slug, suffix, known_at))

    def _treaty(
        self,
        session: Session,
        as_of: datetime,
        slug: str,
        suffix: str,
        known_at: datetime | None = None,
    ) -> Rendered:
        from tracker.catalog.queries import Filter, Scope
        from tracker.views import service, slip_stats
        from tracker.views.treaties import treaty

        today = self._today(as_of)
        try:
            data = treaty(session, slug, today, self.settings.treaties.summary_states)
        except NotFound:
            raise HTTPException(404) from None
        aged = self._aged([], as_of)
        if suffix == "json":
            return Rendered(json_bytes(data), JSON, aged)
        flt = Filter(today=today, scope=Scope.ALL, treaty=slug, undated=True)
        deadlines = service.deadlines(session, flt, as_of, known_at)[:TREATY_SHOWN]
        meetings = service.meetings(session, flt, as_of, MEETINGS_AHEAD, known_at)[:TREATY_SHOWN]
        slips = slip_stats.report(session, slip_stats.Scope(treaty=slug))
        context = self._context(
            as_of, treaty=data, deadlines=deadlines, meetings=meetings, shown=TREATY_SHOWN,
            slips=slips,
        )  # fmt: skip
        page = render_page("pages/treaty.html", context)
        return Rendered(page, HTML, self._aged([*deadlines, *meetings], as_of))

    # What changed since a moment (``/changes?since=``: a digest links its period's start)

    def changes(self, request: Request) -> Response:
        from tracker.errors import InvalidInput
        from tracker.views.changelog import ChangeFilter, changes

        params, tz = request.query_params, self.settings.timezone
        try:
            known_at = known_at_of(request, tz)
            flt = ChangeFilter.from_query(params, params.getlist("kind"), tz, known_at)
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None
        kept = [
            (k, v)
            for k, v in params.multi_items()
            if k in ("treaty", "kind", "type", "known_at") and v
        ]

        def render(session: Session, as_of: datetime) -> Rendered:
            try:
                flt.check(session)
            except (InvalidInput, NotFound) as exc:
                raise HTTPException(400, str(exc)) from None
            found = changes(session, flt)
            context = self._context(as_of, only=flt, kept=kept, since_text=params.get("since"),
                                    entries=found)  # fmt: skip
            return Rendered(render_page("pages/changes.html", context), HTML)

        return self.cache.respond(request, render)

    # Search and the page for an address that names nothing

    def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "")[:200]

        def render(session: Session, as_of: datetime) -> Rendered:
            from tracker.views.search import search

            found = search(session, query)
            page = render_page("pages/search.html", self._context(as_of, query=query, found=found))
            return Rendered(page, HTML)

        return self.cache.respond(request, render)

    def not_found(self, request: Request, exc: Exception) -> Response:
        """404: for the API, JSON; else a page with a search box and the nearest slugs."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "not found"}, status_code=404)
        wanted = request.url.path.rstrip("/").rpartition("/")[2].partition(".")[0]
        as_of = self.cache.clock.now()
        with self.cache.sessions() as session:
            nearest = self._nearest(session, wanted) if wanted else []
        context = self._context(as_of, path=request.url.path, nearest=nearest, query=wanted)
        return Response(render_page("pages/not_found.html", context), 404, media_type=HTML)

    def _nearest(self, session: Session, wanted: str) -> list[Found]:
        """The slugs closest to ``wanted``; every name is read once per revision."""
        from tracker.views.search import every_name, nearest

        now = revision.current(session)
        if self._names[0] != now:
            self._names = (now, every_name(session))
        return nearest(wanted[:120], self._names[1])

    # Sources (``/sources/<key>``): what a source is, what cites it, the forecasts it made

    def source(self, request: Request) -> Response:
        key, suffix = split_name(request.path_params["name"])
        if suffix == "ics":
            raise HTTPException(404)
        return self.cache.respond(request, lambda s, t: self._source(s, t, key, suffix))

    def _source(self, session: Session, as_of: datetime, key: str, suffix: str) -> Rendered:
        from tracker.views.forecasts import by_source

        try:
            data = by_source(session, key)
        except NotFound:
            raise HTTPException(404) from None
        if suffix == "json":
            return Rendered(json_bytes(data), JSON)
        return Rendered(render_page("pages/source.html", self._context(as_of, source=data)), HTML)
