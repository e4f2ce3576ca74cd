"""Hardened serving: security headers on every response, only http(s) addresses as links,
and a client that sends its request head too slowly is cut off."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.sources import Source
from tracker.settings import ServerSettings, Settings
from tracker.web.headers import SECURITY_HEADERS

from .conftest import Site

BASE = "http://127.0.0.1:8040/"
HOSTILE = "javascript:alert(1)"
# An address as a link, whatever the format: an HTML or Atom href, an RSS <link>, an
# iCalendar URL property (after unescaping, so an escaped description counts too).
LINK_TO_SCRIPT = re.compile(
    r"""href\s*=\s*["']?\s*javascript:|<link>\s*javascript:|^url[^:\n]*:\s*javascript:""",
    re.IGNORECASE | re.MULTILINE,
)
HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture(scope="module")
def hostile_site(site: Site) -> Site:
    """The seeded site with a source whose URL is a script, cited by an item of a treaty."""
    with site.sessions() as session, session.begin():
        # The CLI refuses such a URL; an old row or SQL by hand may still hold one.
        hostile = Source(key="hostile", title="Hostile", url=HOSTILE)
        deadline = session.scalars(
            select(Deadline).where(Deadline.slug == "new-start-expiry")
        ).one()
        meeting = session.scalars(select(Meeting).where(Meeting.slug == "ssd-2021-plenary-1")).one()
        deadline.sources.append(hostile)
        meeting.sources.append(hostile)
    return site


@pytest.fixture(scope="module")
def hostile_client(hostile_site: Site) -> Iterator[TestClient]:
    with hostile_site.client() as client:
        yield client


def crawl(client: TestClient, starts: list[str]) -> dict[str, str]:
    """Every page under the base URL reachable from ``starts``: path → body."""
    seen: dict[str, str] = {}
    queue = list(starts)
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        seen[path] = response.text
        for href in HREF.findall(html.unescape(response.text)):
            if href.startswith(BASE):
                target = urlsplit(href)
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def test_no_response_makes_a_link_of_a_javascript_source_url(hostile_client: TestClient):
    starts = [
        "/",
        "/feed.xml",
        "/atom.xml",
        "/calendar.ics",
        "/deadlines/new-start-expiry",
        "/meetings/ssd-2021-plenary-1",
        "/api/upcoming",
        "/search?q=new",
    ]
    bodies = crawl(hostile_client, starts)
    assert any(path.startswith("/treaties/") for path in bodies)
    assert any(path.endswith(".ics") for path in bodies)
    for path, body in bodies.items():
        assert not LINK_TO_SCRIPT.search(html.unescape(body)), path
    assert HOSTILE in bodies["/deadlines/new-start-expiry"]  # shown, as text


def test_an_email_citing_a_javascript_source_shows_it_as_text(hostile_site: Site):
    from tracker.notifiers.base import Message
    from tracker.notifiers.compose import render_body
    from tracker.views import service

    from ..conftest import CURRENT_TIME

    with hostile_site.sessions() as session:
        view = service.item(session, "deadline", "new-start-expiry", CURRENT_TIME)
        hostile = session.scalars(select(Source).where(Source.key == "hostile")).one()
        message = Message(
            kind="change",
            identity="change:hostile",
            subject="A change",
            text="A change",
            created_at=CURRENT_TIME,
            payload={
                "item": {**view, "link": f"{BASE}deadlines/new-start-expiry"},
                "fields": [{"name": "title", "old": "a", "new": "b", "date": False}],
                "sources": [hostile.as_dict()],
                "notes": [],
                "recorded_at": CURRENT_TIME.isoformat(),
                "edits": 1,
            },
        )
    text, page = render_body(message)
    assert not LINK_TO_SCRIPT.search(html.unescape(page))
    assert HOSTILE in page and HOSTILE in text  # shown, as text


def assert_hardened(response, path: str) -> None:
    """Our headers, or a route's own that are at least as strict (the forms set
    ``default-src 'none'`` and no referrer)."""
    for name, value in SECURITY_HEADERS:
        if name not in ("content-security-policy", "referrer-policy"):
            assert response.headers.get(name) == value, (path, name)
    # The pages with a token in their address send no referrer at all.
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer"), path
    parts = response.headers["content-security-policy"].split("; ")
    policy = dict((*part.split(" ", 1), "")[:2] for part in parts)
    assert policy["default-src"] in ("'self'", "'none'"), path
    assert policy.get("script-src", policy["default-src"]) in ("'self'", "'none'"), path
    for name, value in (
        ("frame-ancestors", "'none'"),
        ("form-action", "'self'"),
        ("base-uri", "'none'"),
    ):
        assert policy.get(name) == value, (path, name)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/index.html",
        "/feed.xml",
        "/atom.xml",
        "/calendar.ics",
        "/treaties/new-start",
        "/treaties/new-start.json",
        "/treaties/new-start.xml",
        "/treaties/new-start.ics",
        "/deadlines/new-start-expiry",
        "/deadlines/new-start-expiry.json",
        "/deadlines/new-start-expiry.ics",
        "/meetings/ssd-2021-plenary-1",
        "/search?q=start",
        "/api/upcoming",
        "/api/countdowns",
        "/api/treaties",
        "/api/treaties/new-start",
        "/api/upcoming?within=nonsense",
        "/no-such-page",
        "/api/treaties/no-such-treaty",
        "/subscribe",
        "/confirm/not-a-token",
        "/preferences/not-a-token",
        "/unsubscribe/not-a-token",
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str):
    response = client.get(path)
    assert response.status_code < 500, path
    assert_hardened(response, path)


def test_form_posts_and_conditional_answers_carry_them_too(client: TestClient):
    refused = client.post("/subscribe", data={"email": "ann@example.org"})
    assert refused.status_code == 400
    assert_hardened(refused, "POST /subscribe")
    first = client.get("/feed.xml")
    again = client.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert_hardened(again, "304 /feed.xml")
    head = client.head("/")
    assert_hardened(head, "HEAD /")


def test_the_header_timeout_setting_defaults_to_ten_seconds():
    assert ServerSettings().header_timeout_seconds == 10
    assert Settings(server={"header_timeout_seconds": 0.5}).server.header_timeout_seconds == 0.5


def slow_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHo")
    return sock


@pytest.fixture
def guarded_server(site: Site) -> Iterator[int]:
    """The real server (uvicorn with the guard) in a thread, with small limits."""
    from tracker.clock import FixedClock
    from tracker.web.server import make_server, start_in_thread

    from ..conftest import CURRENT_TIME
    from ..process import free_port

    port = free_port()
    server = {"port": port, "header_timeout_seconds": 0.3, "max_body_bytes": 2048}
    settings = site.settings.model_copy(
        update={"server": site.settings.server.model_copy(update=server)}
    )
    web = start_in_thread(make_server(settings, site.sessions, FixedClock(CURRENT_TIME)))
    try:
        yield port
    finally:
        web.stop()


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server ends the connection (EOF) before ``sock``'s timeout."""
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_client_sending_its_head_too_slowly_is_cut_off(guarded_server: int):
    with socket.create_connection(("127.0.0.1", guarded_server), timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHo")
        assert closed_by_server(slow)


def test_a_client_dripping_its_body_is_cut_off_too(guarded_server: int):
    with socket.create_connection(("127.0.0.1", guarded_server), timeout=10) as slow:
        slow.sendall(
            b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nemail="
        )
        assert closed_by_server(slow)


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_head(guarded_server: int):
    with socket.create_connection(("127.0.0.1", guarded_server), timeout=10) as client:
        client.sendall(b"GET /api/treaties HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200")
        client.sendall(b"GET /api/treaties HTTP/1.1\r\nHo")
        while True:  # the rest of the first answer, then the end
            data = client.recv(65536)
            if not data:
                break


def test_a_prompt_client_is_answered_and_large_bodies_are_refused(guarded_server: int):
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{guarded_server}"
    with urllib.request.urlopen(f"{url}/api/upcoming", timeout=5) as response:
        assert response.status == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    request = urllib.request.Request(f"{url}/subscribe", data=b"email=" + b"a" * 4096)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    refused.value.close()
    assert refused.value.code == 413
    assert refused.value.headers["Content-Security-Policy"]


def test_past_the_connection_cap_a_new_connection_is_closed_at_once(site: Site):
    from tracker.clock import FixedClock
    from tracker.web.server import make_server, start_in_thread

    from ..conftest import CURRENT_TIME
    from ..process import free_port

    port = free_port()
    server = {"port": port, "max_connections": 3}
    settings = site.settings.model_copy(
        update={"server": site.settings.server.model_copy(update=server)}
    )
    web = start_in_thread(make_server(settings, site.sessions, FixedClock(CURRENT_TIME)))
    held = [slow_client(port) for _ in range(3)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as late:
            assert closed_by_server(late)
    finally:
        for sock in held:
            sock.close()
        web.stop()


@pytest.mark.parametrize(
    ("base_url", "host", "port", "warned"),
    [
        ("http://127.0.0.1:8040/", "127.0.0.1", 8040, False),
        ("http://localhost:8040", "127.0.0.1", 8040, False),
        ("http://127.0.0.1:8040/", "127.0.0.1", 9000, True),
        ("http://127.0.0.1:8040/", "0.0.0.0", 8040, True),
        ("http://[::1]:8040/", "::1", 8041, True),
        ("https://tracker.example.org/", "0.0.0.0", 8040, False),  # behind a proxy
        ("http://tracker.example.org:8040/", "127.0.0.1", 9999, False),
    ],
)
def test_serve_warns_when_the_base_url_does_not_point_at_it(
    base_url: str, host: str, port: int, warned: bool
):
    from tracker.web.server import base_url_mismatch

    reason = base_url_mismatch(base_url, host, port)
    assert (reason is not None) is warned
    if reason:
        assert "feeds.base_url" in reason and "\n" not in reason


def test_a_repeated_error_is_logged_once_with_a_count():
    import logging

    from tracker.web.guard import RepeatFilter

    now = [0.0]
    flood = RepeatFilter(window=60, clock=lambda: now[0])

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    passed = [flood.filter(record("socket.accept() out of system resource")) for _ in range(500)]
    assert passed.count(True) == 1
    assert flood.filter(record("another error"))
    now[0] = 61
    summary = record("socket.accept() out of system resource")
    assert flood.filter(summary)
    assert "499 more like it" in summary.getMessage()
