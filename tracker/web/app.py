"""The HTTP application: the board, the feeds, a page for every treaty, deadline and
meeting, and a read-only JSON API, all rendered from the database on request.

Built by :func:`create_app` from settings, a session factory and a clock; no globals.
Nothing is read from the feed directory (``tracker feed build`` still writes it, for
static hosting): every response is rendered live and kept while the catalogue's revision
holds (:mod:`tracker.web.live`), so an edit from any process is seen on the next request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from tracker.dates import parse_duration, zone
from tracker.errors import InvalidInput, NotFound
from tracker.views.board import valid_until
from tracker.web import health, pages, subscriptions
from tracker.web.feeds import TOP_FEEDS, Feeds
from tracker.web.headers import SecurityHeaders
from tracker.web.known_at import known_at_of
from tracker.web.live import LiveCache, Rendered

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.clock import Clock
    from tracker.settings import Settings
    from tracker.views.items import Item

HTML = "text/html; charset=utf-8"
JSON = "application/json"
TREATY_FEED = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}\.(xml|ics)$")
METHODS = ["GET", "HEAD"]
UPCOMING_WITHIN = "180d"


def create_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Starlette:
    cache = LiveCache(
        sessions,
        clock,
        timezone=settings.timezone,
        cache_control=settings.server.cache_control,
    )
    site = pages.Pages(settings, cache)
    monitor = health.Monitor(settings, sessions, clock)
    feeds = Feeds(settings, cache)

    def board(request: Request) -> Response:
        from tracker.views.filters import BoardFilter
        from tracker.views.page import board_page

        try:
            only = BoardFilter.from_query(request.query_params)
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None
        known_at = known_at_of(request, settings.timezone)

        def render(session: Session, as_of: datetime) -> Rendered:
            try:
                html, valid_until = board_page(session, settings, as_of, only, known_at)
            except NotFound as exc:
                raise HTTPException(400, str(exc)) from None
            return Rendered(html, HTML, valid_until)

        return cache.respond(request, render, name="/")

    def top_feed(name: str) -> Callable[[Request], Any]:
        def endpoint(request: Request) -> Response:
            return feeds.respond(request, name)

        return endpoint

    def treaty_page_or_feed(request: Request) -> Response:
        """``/treaties/<slug>``: its page; ``.json``: its JSON; ``.xml``, ``.ics``: its feeds."""
        name = request.path_params["name"]
        if TREATY_FEED.match(name):
            return feeds.respond(request, f"treaties/{name}")
        slug, suffix = pages.split_name(name)
        if suffix == "ics":
            raise HTTPException(404)  # a treaty's calendar is the feed above
        return site.treaty(request, slug, suffix)

    def as_json(
        data: Any, items: list[Item] | None = None, as_of: datetime | None = None
    ) -> Rendered:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        until = valid_until(items or [], [settings.timezone], as_of) if as_of else None
        return Rendered(body, JSON, until)

    def today_of(as_of: datetime) -> date:
        return as_of.astimezone(zone(settings.timezone)).date()

    def upcoming(request: Request) -> Response:
        from tracker.catalog.queries import Filter
        from tracker.views import service

        try:
            within = parse_duration(request.query_params.get("within", UPCOMING_WITHIN))
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None
        known_at = known_at_of(request, settings.timezone)

        def render(session: Session, as_of: datetime) -> Rendered:
            flt = Filter(
                today=today_of(as_of),
                within=within,
                treaty=request.query_params.get("treaty"),
                kinds=tuple(request.query_params.getlist("kind")),
            )
            items = service.upcoming(session, flt, as_of, known_at)
            return as_json([item.as_dict(settings.feeds.base_url) for item in items], items, as_of)

        return cache.respond(request, render)

    def countdowns(request: Request) -> Response:
        from tracker.views.board import countdowns

        known_at = known_at_of(request, settings.timezone)

        def render(session: Session, as_of: datetime) -> Rendered:
            items = countdowns(session, today=today_of(as_of), as_of=as_of, known_at=known_at)
            return as_json([item.as_dict(settings.feeds.base_url) for item in items], items, as_of)

        return cache.respond(request, render)

    def treaties(request: Request) -> Response:
        from tracker.views.treaties import treaties

        def render(session: Session, as_of: datetime) -> Rendered:
            try:
                found = treaties(
                    session,
                    today_of(as_of),
                    request.query_params.get("status"),
                    settings.treaties.summary_states,
                )
            except InvalidInput as exc:
                raise HTTPException(400, str(exc)) from None
            return as_json(found, [], as_of)

        return cache.respond(request, render)

    def treaty(request: Request) -> Response:
        from tracker.views.treaties import treaty

        def render(session: Session, as_of: datetime) -> Rendered:
            try:
                return as_json(
                    treaty(
                        session,
                        request.path_params["slug"],
                        today_of(as_of),
                        settings.treaties.summary_states,
                    ),
                    [],
                    as_of,
                )
            except NotFound:
                raise HTTPException(404) from None

        return cache.respond(request, render)

    routes = [
        Route("/", board, methods=METHODS),
        Route("/index.html", board, methods=METHODS),
        *(Route(f"/{name}", top_feed(name), methods=METHODS) for name in TOP_FEEDS),
        Route("/treaties/{name}", treaty_page_or_feed, methods=METHODS),
        Route("/api/upcoming", upcoming, methods=METHODS),
        Route("/api/countdowns", countdowns, methods=METHODS),
        Route("/api/treaties", treaties, methods=METHODS),
        Route("/api/treaties/{slug}", treaty, methods=METHODS),
        *site.routes(),
        *subscriptions.routes(settings, sessions, clock),
        *monitor.routes(),
    ]
    if settings.server.static_dir is not None:  # the benchmarks' floor: same server, a file
        from starlette.staticfiles import StaticFiles

        routes.append(Mount("/static", StaticFiles(directory=settings.server.static_dir)))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=500)],
        exception_handlers={404: site.not_found},
    )
    monitor.instrument(app)
    app.router.redirect_slashes = False  # "/feed.xml/" is unknown, not a redirect
    app.state.live = cache  # what the tests look at: how many responses were rendered
    return app
