"""The HTTP application: the feed directory, the board and a read-only JSON API.

Built by :func:`create_app` from settings, a session factory and a clock; no globals.
Files are served only from a fixed list of names (and ``treaties/<slug>.xml|.ics``), so no
request path, encoded or not, can reach outside the feed directory.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracker.dates import parse_duration, zone
from tracker.errors import InvalidInput, NotFound
from tracker.web import pages, subscriptions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.clock import Clock
    from tracker.settings import Settings

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
ICS = "text/calendar; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
TOP_FILES = {"index.html": HTML, "feed.xml": RSS, "atom.xml": ATOM, "calendar.ics": ICS}
TREATY_FILE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}\.(xml|ics)$")
METHODS = ["GET", "HEAD"]
UPCOMING_WITHIN = "180d"


def etag_for(content: bytes) -> str:
    return f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(mtime) <= since.timestamp()


def conditional(
    request: Request, content: bytes, media_type: str, cache_control: str, mtime: float | None
) -> Response:
    """``content`` with ETag, Last-Modified and Cache-Control, or 304 if the client has it."""
    headers = {"ETag": etag_for(content), "Cache-Control": cache_control}
    if mtime is not None:
        headers["Last-Modified"] = formatdate(mtime, usegmt=True)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, headers["ETag"])
    else:
        since = request.headers.get("if-modified-since")
        fresh = since is not None and mtime is not None and _not_modified_since(since, mtime)
    if fresh:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def create_app(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Starlette:
    feed_dir = settings.feed_dir.resolve()
    cache_control = settings.server.cache_control

    def serve_file(request: Request, relative: str, media_type: str) -> Response:
        path = (feed_dir / relative).resolve()
        if not path.is_relative_to(feed_dir) or not path.is_file():
            raise HTTPException(404)
        return conditional(
            request, path.read_bytes(), media_type, cache_control, path.stat().st_mtime
        )

    def board(request: Request) -> Response:
        return serve_file(request, "index.html", HTML)

    def top_file(name: str) -> Callable[[Request], Any]:
        def endpoint(request: Request) -> Response:
            return serve_file(request, name, TOP_FILES[name])

        return endpoint

    def treaty_file(request: Request) -> Response:
        name = request.path_params["name"]
        if not TREATY_FILE.match(name):
            raise HTTPException(404)
        return serve_file(request, f"treaties/{name}", RSS if name.endswith(".xml") else ICS)

    def as_json(request: Request, data: Any) -> Response:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        return conditional(request, body, JSON, cache_control, None)

    def today_and_now() -> tuple[Any, Any]:
        as_of = clock.now()
        return as_of.astimezone(zone(settings.timezone)).date(), as_of

    def upcoming(request: Request) -> Response:
        from tracker.catalog.queries import Filter
        from tracker.views import service

        today, as_of = today_and_now()
        try:
            within = parse_duration(request.query_params.get("within", UPCOMING_WITHIN))
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None
        flt = Filter(
            today=today,
            within=within,
            treaty=request.query_params.get("treaty"),
            kinds=tuple(request.query_params.getlist("kind")),
        )
        with sessions() as session:
            items = service.upcoming(session, flt, as_of)
        return as_json(request, [item.as_agenda() for item in items])

    def countdowns(request: Request) -> Response:
        from tracker.views.board import countdowns

        today, as_of = today_and_now()
        with sessions() as session:
            items = countdowns(session, today=today, as_of=as_of)
        return as_json(request, [item.as_countdown() for item in items])

    def treaties(request: Request) -> Response:
        from tracker.views.treaties import treaties

        today, _ = today_and_now()
        try:
            with sessions() as session:
                return as_json(
                    request, treaties(session, today, request.query_params.get("status"))
                )
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from None

    def treaty(request: Request) -> Response:
        from tracker.views.treaties import treaty

        today, _ = today_and_now()
        try:
            with sessions() as session:
                return as_json(request, treaty(session, request.path_params["slug"], today))
        except NotFound:
            raise HTTPException(404) from None

    routes = [
        Route("/", board, methods=METHODS),
        Route("/index.html", board, methods=METHODS),
        *(
            Route(f"/{name}", top_file(name), methods=METHODS)
            for name in TOP_FILES
            if name != "index.html"
        ),
        Route("/treaties/{name}", treaty_file, methods=METHODS),
        Route("/api/upcoming", upcoming, methods=METHODS),
        Route("/api/countdowns", countdowns, methods=METHODS),
        Route("/api/treaties", treaties, methods=METHODS),
        Route("/api/treaties/{slug}", treaty, methods=METHODS),
        *pages.routes(settings, sessions, clock),
        *subscriptions.routes(settings, sessions, clock),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, minimum_size=500)])
    app.router.redirect_slashes = False  # "/feed.xml/" is unknown, not a redirect
    return app
