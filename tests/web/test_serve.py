"""The real ``tracker serve`` on a free port: a feed reader polling with its ETag, raw paths."""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from ..process import free_port
from ..process import tracker as run_tracker

pytestmark = pytest.mark.slow

IN_SESSION = "2026-12-02T12:00Z"


def tracker(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_tracker(home, *args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The base URL of a real `tracker serve` and its log."""
    home = tmp_path_factory.mktemp("serve")
    tracker(home, "init")
    # News for the feed (a fresh init's seeded past is not news), added through the CLI a
    # month before; the board is built on the third day of the fixture conference.
    added = ("--as-of", "2026-11-01T09:00Z")
    tracker(
        home,
        *added,
        "meeting",
        "add",
        "Fixture Review Conference",
        "--starts",
        "2026-11-30",
        "--ends",
        "2026-12-04",
        "--tz",
        "America/New_York",
        "--kind",
        "review-conference",
        "--confidence",
        "confirmed",
        "--slug",
        "fixture-revcon",
    )
    tracker(home, *added, "deadline", "add", "Fixture protocol deposit", "--due", "TBA")
    port = free_port()
    env = {**os.environ, "TRACKER_DATA_DIR": str(home / "var")}
    env.pop("TRACKER_DATABASE_URL", None)
    log = home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/treaties", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"tracker serve did not start: {log.read_text()}")
                time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(served: tuple[str, Path]) -> str:
    return served[0]


def test_serve_warns_in_one_line_that_the_base_url_names_another_port(served):
    base, log = served
    port = base.rsplit(":", 1)[1]
    warnings = [line for line in log.read_text().splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: feeds.base_url http://127.0.0.1:8040/ points at port 8040, but this server "
        f"listens on {port}: links in feeds and emails will not reach it (set feeds.base_url)"
    ]


def test_a_feed_reader_polling_with_its_etag_gets_304(server: str):
    first = feedparser.parse(f"{server}/feed.xml")
    assert first.status == 200
    assert first.feed.title
    assert first.entries
    assert first.etag
    second = feedparser.parse(f"{server}/feed.xml", etag=first.etag)
    assert second.status == 304
    third = feedparser.parse(f"{server}/feed.xml", modified=first.modified)
    assert third.status == 304


def raw_get(server: str, target: str) -> bytes:
    """Send the request target exactly as given, like ``curl --path-as-is``."""
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "target",
    [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/treaties/../../tracker.db",
        "/treaties/..%2f..%2ftracker.db",
        "/treaties/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/./../tracker.db",
    ],
)
def test_path_as_is_traversal_gets_404(server: str, target: str):
    response = raw_get(server, target)
    assert response.startswith(b"HTTP/1.1 404"), response[:80]
    assert b"root:" not in response
    assert b"SQLite format" not in response


def test_it_binds_loopback_and_serves_the_board(server: str):
    assert server.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{server}/") as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"<svg" in response.read()


def test_the_served_board_shows_a_meeting_in_session_and_a_date_to_be_announced(server: str):
    with urllib.request.urlopen(f"{server}/") as response:
        page = html.unescape(response.read().decode())
    now = page[page.index('id="now"') : page.index('id="next"')]
    card = next(c for c in now.split("<li") if "Fixture Review Conference" in c)
    assert ">in session</dd>" in card
    assert "confirmed — official calendar or notice" in card
    undated = page[page.index('id="undated"') : page.index('id="changed"')]
    assert "Fixture protocol deposit" in undated


def test_the_server_runs_in_a_thread_and_stops(tmp_path, session_factory):
    """What the hardening tests use."""
    from tracker.clock import FixedClock
    from tracker.settings import ServerSettings, Settings
    from tracker.web.server import make_server, start_in_thread

    from ..conftest import CURRENT_TIME

    port = free_port()
    settings = Settings(data_dir=tmp_path, server=ServerSettings(port=port))
    web = start_in_thread(make_server(settings, session_factory, FixedClock(CURRENT_TIME)))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml") as response:
            assert response.read().startswith(b"<?xml")
    finally:
        web.stop()
    assert not web.thread.is_alive()


def children(pid: int) -> set[int]:
    """The child processes of ``pid`` (any of its threads may have started them)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return found


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_daemon_serve_runs_the_server_in_a_child_restarted_if_it_dies(tmp_path):
    import signal

    from ..process import tracker_env

    tracker(tmp_path, "init")
    port = free_port()
    env = tracker_env(tmp_path, TRACKER_SERVER__PORT=str(port), TRACKER_LOG_LEVEL="INFO")
    log = tmp_path / "daemon.log"
    with log.open("wb") as output:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "tracker", "daemon", "--serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}/api/treaties"
    try:
        assert wait_until(lambda: answers(url)), log.read_text()
        (first,) = children(daemon.pid)
        os.kill(first, signal.SIGKILL)  # a crash of the server alone
        assert wait_until(lambda: children(daemon.pid) - {first} and answers(url)), log.read_text()
        (second,) = children(daemon.pid)
        assert daemon.poll() is None  # the daemon went on
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        assert (
            not Path(f"/proc/{second}").exists()
            or "zombie" in Path(f"/proc/{second}/status").read_text()
        )
        assert not answers(url)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    text = log.read_text()
    assert "the web server (process" in text and "starting it again" in text


def test_the_server_of_a_daemon_killed_with_9_stops_and_frees_its_port(tmp_path):
    import signal

    from ..process import tracker_env

    tracker(tmp_path, "init")
    port = free_port()
    env = tracker_env(tmp_path, TRACKER_SERVER__PORT=str(port))
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tracker", "daemon", "--serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/treaties"
    try:
        assert wait_until(lambda: answers(url))
        (server,) = children(daemon.pid)
        daemon.send_signal(signal.SIGKILL)  # the daemon cannot stop its server itself
        daemon.wait()
        assert wait_until(lambda: not answers(url), 30)  # the orphan noticed and stopped
        assert wait_until(lambda: not Path(f"/proc/{server}").exists(), 30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
