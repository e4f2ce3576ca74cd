"""The real HTTP server (uvicorn, as ``tracker serve`` runs it) against rude clients:
path traversal, huge headers, other methods, and a slow client that must not block."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

from tracker import migrations
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.publish.build import build_feeds
from tracker.settings import ServerSettings, Settings
from tracker.web.server import make_server, start_in_thread

from ..conftest import CURRENT_TIME
from ..process import free_port


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    home = tmp_path_factory.mktemp("http")
    settings = Settings(data_dir=home)
    (home / "secret.txt").write_text("not for the web")
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        build_feeds(session, settings, as_of=CURRENT_TIME)
    port = free_port()
    listening = settings.model_copy(update={"server": ServerSettings(host="127.0.0.1", port=port)})
    server = make_server(listening, sessions, FixedClock(CURRENT_TIME))
    background = start_in_thread(server)
    yield "127.0.0.1", port
    background.stop()
    engine.dispose()


def request(
    where: tuple[str, int], method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*where, timeout=5)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/treaties/..%2f..%2fsecret.txt",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "//etc/passwd",
        "/feed.xml%00.html",
    ],
)
def test_traversal_never_leaves_the_feed_directory(base: tuple[str, int], path: str) -> None:
    status, body = request(base, "GET", path)
    assert status in (400, 404)
    assert b"not for the web" not in body and b"root:" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_methods_other_than_get_and_head_are_405(base: tuple[str, int], method: str) -> None:
    assert request(base, method, "/feed.xml")[0] == 405


def test_huge_headers_are_refused_and_the_server_keeps_serving(base: tuple[str, int]) -> None:
    try:
        status, _ = request(base, "GET", "/feed.xml", {"X-Huge": "a" * 200_000})
        assert status in (400, 413, 431)
    except (ConnectionError, http.client.HTTPException):
        pass  # closed on us: refused all the same
    assert request(base, "GET", "/feed.xml")[0] == 200


def test_a_slow_client_does_not_block_the_others(base: tuple[str, int]) -> None:
    slow = [socket.create_connection(base) for _ in range(5)]
    try:
        for sock in slow:
            sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        # a blocked server would let these time out (5 s each) instead of answering
        for _ in range(5):
            assert request(base, "GET", "/feed.xml")[0] == 200
    finally:
        for sock in slow:
            sock.close()
