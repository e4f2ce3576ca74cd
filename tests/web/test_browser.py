"""Headless Chromium loads the board from a real ``tracker serve`` (see test_serve.server)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .test_serve import server  # noqa: F401  (the module-scoped real server)

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (Debian package `chromium`; .ci/run installs it)",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


class Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.classes.extend((dict(attrs).get("class") or "").split())


@needs_chromium
def test_the_browser_renders_cards_table_rows_and_svg_lanes(server: str, tmp_path: Path):  # noqa: F811
    dom = chromium(tmp_path, "--dump-dom", f"{server}/").stdout
    counter = Counter()
    counter.feed(dom)
    assert counter.classes.count("card") >= 1
    assert counter.classes.count("treaty-row") >= 9
    assert counter.classes.count("lane") == counter.classes.count("treaty-row")
    assert "svg" in counter.tags


@needs_chromium
@pytest.mark.parametrize(("width", "height"), [(1280, 2000), (390, 2400)])
def test_the_board_screenshots(server: str, tmp_path: Path, width: int, height: int):  # noqa: F811
    shot = tmp_path / f"board-{width}.png"
    chromium(
        tmp_path,
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={shot}",
        f"{server}/",
    )
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
