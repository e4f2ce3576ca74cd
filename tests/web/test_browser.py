"""The board in headless Chromium (Playwright, the system package) from a real ``tracker
serve``: no sideways scroll on a phone or a desktop, filters that change the list without
JavaScript, the timeline's legend, an item's page a click away, reachable by keyboard, and
screenshots that match the stored ones.

The screenshots come from a server with a frozen clock (``--as-of``) on fixture rows only
(:mod:`.board_data`), so they change only when the board does. A screenshot matches its
reference when at most :data:`TOLERANCE` of its pixels differ by more than a little in any
channel (:mod:`.pixels`): fonts render a little differently from one machine to another,
and CI runs on the same kind of machine. ``UPDATE_SCREENSHOTS=1`` writes them anew (look
at them before committing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker import migrations
from tracker.db import make_engine, make_session_factory

from ..browser import browser_page, needs_chromium, scrolls_sideways
from ..process import free_port, tracker_env
from .board_data import fill_board
from .test_serve import served, server  # noqa: F401  (the module-scoped real server, seeded)

pytestmark = [pytest.mark.slow, needs_chromium]

SCREENSHOTS = Path(__file__).parent / "screenshots"
TOLERANCE = 0.02
AS_OF = "2026-12-02T12:00Z"  # the fixture review conference's third day
WIDTHS = [(1280, 900), (375, 812)]


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tracker serve`` on the board's fixture rows, its clock stopped at AS_OF."""
    home = tmp_path_factory.mktemp("frozen")
    url = f"sqlite:///{home / 'tracker.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    with make_session_factory(engine)() as session, session.begin():
        fill_board(session)
    engine.dispose()
    port = free_port()
    command = [sys.executable, "-m", "tracker", "--database-url", url, "--as-of", AS_OF]
    log = home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=tracker_env(home),
            cwd=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/treaties", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > give_up:
                    pytest.fail(f"tracker serve did not start: {log.read_text()}")
                time.sleep(0.1)  # unavoidable: waiting for another process to listen
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def slugs(page, section: str) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.locator(f"section:has(#{section}) li.item").evaluate_all(
        "items => items.map(item => item.dataset.slug)"
    ))  # fmt: skip


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["desktop", "phone"])
def test_the_board_does_not_scroll_sideways(
    frozen: str,
    server: str,  # noqa: F811
    width: int,
    height: int,
):
    for base in (frozen, server):  # fixture rows, and a fresh init's seeded catalogue
        with browser_page(width, height) as page:
            page.goto(f"{base}/")
            assert page.locator("h1").count() == 1
            assert not scrolls_sideways(page), base


def test_choosing_a_filter_changes_the_list_and_its_feed_links(frozen: str):
    with browser_page(1280, 900) as page:
        page.goto(f"{frozen}/")
        assert "fixture-revcon" in slugs(page, "now")
        page.select_option("#f-treaty", "second-treaty")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**/?treaty=second-treaty*")
        assert slugs(page, "now") == []
        assert slugs(page, "next") == ["second-exchange"]
        assert slugs(page, "later") == ["second-plenary", "second-notification"]
        assert set(page.locator("li.item dd.treaty").all_inner_texts()) == {"Second"}
        assert page.locator("#f-treaty").input_value() == "second-treaty"
        rss = page.get_by_role("link", name="RSS").first.get_attribute("href")
        ics = page.get_by_role("link", name="iCalendar").get_attribute("href")
        assert rss == "feed.xml?treaty=second-treaty"
        assert ics == "calendar.ics?treaty=second-treaty"
        page.select_option("#f-confidence", "reported")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**confidence=reported*")
        assert slugs(page, "later") == ["second-notification"]
        assert slugs(page, "next") == []
    with urllib.request.urlopen(f"{frozen}/calendar.ics?treaty=second-treaty") as response:
        calendar = response.read().decode()
    assert "Second data exchange" in calendar
    assert "Fixture Review Conference" not in calendar


def test_the_timeline_has_a_legend(frozen: str):
    with browser_page(1280, 900) as page:
        page.goto(f"{frozen}/")
        legend = page.get_by_role("list", name="Legend")
        assert legend.is_visible()
        text = legend.inner_text()
        for meaning in ("Deadline on a known day", "Meeting on a known day", "Date not fixed"):
            assert meaning in text
        # May 2027, a window: drawn as a bar, not a point.
        assert page.locator("svg.timeline rect.window").count() >= 1


def test_an_item_page_is_reachable_from_the_board(frozen: str):
    with browser_page(375, 812) as page:
        page.goto(f"{frozen}/")
        card = page.locator('li.item[data-slug="second-plenary"]').first
        title = card.locator("h3").inner_text()
        card.get_by_role("link", name=title).click()
        page.wait_for_url("**/meetings/second-plenary")
        assert page.locator("h1").inner_text() == title == "Second plenary"


def test_the_filters_and_cards_are_reached_by_keyboard_with_a_visible_focus(frozen: str):
    with browser_page(1280, 900) as page:
        page.goto(f"{frozen}/")
        reached = []
        for _ in range(30):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                """() => { const e = document.activeElement;
                  return [e.id || e.getAttribute('href') || e.tagName,
                          getComputedStyle(e).outlineStyle]; }"""
            )
            reached.append(focused[0])
            assert focused[1] != "none", focused
        assert {"f-treaty", "f-kind", "f-confidence"} <= set(reached)
        assert "meetings/fixture-revcon" in reached


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["desktop", "phone"])
def test_the_board_looks_as_it_did(frozen: str, tmp_path: Path, width: int, height: int):
    from .pixels import differing_share, load

    reference = SCREENSHOTS / f"board-{width}.png"
    shot = tmp_path / reference.name
    with browser_page(width, height) as page:
        page.emulate_media(color_scheme="light", reduced_motion="reduce")
        page.goto(f"{frozen}/")
        page.screenshot(path=shot, full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        reference.write_bytes(shot.read_bytes())
    taken, stored = load(shot), load(reference)
    assert (taken.width, taken.height) == (stored.width, stored.height), (
        f"{shot} is not the size of {reference}: UPDATE_SCREENSHOTS=1 to store it anew"
    )
    share = differing_share(taken, stored)
    assert share <= TOLERANCE, f"{share:.1%} of pixels differ from {reference} (see {shot})"
