"""The #15 acceptance against the real processes a user runs: `tracker serve` alone (no
feed built, no daemon) on its own address, which feeds.base_url names, and the `tracker`
CLI editing the same home. Every link the feeds, calendars and board emit answers 200 from
that server; an edit is on the board, its page, the feed and the API at the next request;
an unchanged feed answers 304 to a conditional GET."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from ..process import free_port, tracker, tracker_env
from .test_live import feed_links

pytestmark = pytest.mark.slow

AS_OF = ("--as-of", "2026-12-03T12:00Z")
EDITED = "Fixture talks, renamed by the CLI"


def run(home: Path, *args: str) -> None:
    result = tracker(home, *AS_OF, *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """A home, the base URL of `tracker serve` on it, and the server's log."""
    home = tmp_path_factory.mktemp("served-live")
    run(home, "init")
    # News for the feeds (a fresh init's seeded past is not news), added a week before.
    added = tracker(home, "--as-of", "2026-11-26T09:00Z", "meeting", "add", "Fixture talks",
                    "--starts", "2026-12-20", "--kind", "consultation",
                    "--slug", "fixture-talks")  # fmt: skip
    assert added.returncode == 0, added.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = tracker_env(home, TRACKER_FEEDS__BASE_URL=base)
    log = home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker", *AS_OF, "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}api/treaties", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"tracker serve did not start: {log.read_text()}")
                time.sleep(0.1)
        yield home, base, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_does_not_warn_when_the_base_url_points_at_it(site):
    _, _, log = site
    assert not [line for line in log.read_text().splitlines() if line.startswith("warning:")]


def test_every_link_the_feeds_calendars_and_board_emit_answers_200_from_tracker_serve(site):
    _, base, _ = site
    with httpx.Client(base_url=base, timeout=10) as client:
        links = feed_links(client, base)
        assert not [url for url in links if url.startswith("http://testserver")]
        ours = sorted(url for url in links if url.startswith(base))
        assert len(ours) > 40
        assert any("/meetings/" in url for url in ours)
        assert any("/deadlines/" in url for url in ours)
        assert any("/treaties/" in url for url in ours)
        broken = [(url, code) for url in ours if (code := client.get(url).status_code) != 200]
    assert broken == []


def test_a_cli_edit_is_seen_at_the_next_request_and_an_unchanged_feed_answers_304(site):
    home, base, _ = site
    paths = ["/", "/meetings/fixture-talks", "/feed.xml", "/api/upcoming?within=60d"]
    with httpx.Client(base_url=base, timeout=10) as client:
        before = {path: client.get(path) for path in paths}
        assert all(response.status_code == 200 for response in before.values())
        feed = before["/feed.xml"]
        unchanged = client.get("/feed.xml", headers={"If-None-Match": feed.headers["etag"]})
        assert unchanged.status_code == 304 and not unchanged.content
        run(home, "meeting", "edit", "fixture-talks", "--title", EDITED)
        for path in paths:
            assert EDITED in client.get(path).text, path
        changed = client.get("/feed.xml", headers={"If-None-Match": feed.headers["etag"]})
        assert changed.status_code == 200
        again = client.get("/feed.xml", headers={"If-None-Match": changed.headers["etag"]})
        assert again.status_code == 304
