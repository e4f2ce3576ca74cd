"""``server.static_dir``: the benchmarks' floor, files served by the same app; unset, none."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tracker.clock import FixedClock
from tracker.web.app import create_app

from ..conftest import CURRENT_TIME
from .conftest import Site


def test_a_static_dir_serves_its_files_through_the_same_app(site: Site, tmp_path: Path) -> None:
    (tmp_path / "board.html").write_bytes(b"<p>the same bytes</p>")
    server = site.settings.server.model_copy(update={"static_dir": tmp_path})
    settings = site.settings.model_copy(update={"server": server})

    with TestClient(create_app(settings, site.sessions, FixedClock(CURRENT_TIME))) as client:
        served = client.get("/static/board.html")
        again = client.get("/static/board.html", headers={"If-None-Match": served.headers["ETag"]})

    assert served.status_code == 200 and served.content == b"<p>the same bytes</p>"
    assert served.headers["X-Content-Type-Options"] == "nosniff"  # the same middleware
    assert again.status_code == 304


def test_without_a_static_dir_no_file_is_served(client: TestClient) -> None:
    assert client.get("/static/board.html").status_code == 404
