"""The board served by the web app, as of a fixed instant inside a review conference: states,
confidence and graded sources in words, honest countdowns, dates to be announced listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tracker import migrations
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.publish.build import build_feeds
from tracker.settings import Settings
from tracker.web.app import create_app

from ..lifecycle_items import CAVEAT, IN_SESSION, fill


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("states")
    url = f"sqlite:///{root / 'tracker.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    sessions = make_session_factory(engine)
    settings = Settings(data_dir=root / "var", database_url=url)
    with sessions() as session, session.begin():
        fill(session)
    with sessions() as session:
        build_feeds(session, settings, as_of=IN_SESSION)
    with TestClient(create_app(settings, sessions, FixedClock(IN_SESSION))) as client:
        response = client.get("/")
        assert response.status_code == 200
        yield unescape(response.text)
    engine.dispose()


def section(page: str, name: str) -> str:
    start = page.index(f'id="{name}"')
    return page[start : page.index("</section>", start)]


def card_of(page: str, slug: str) -> str:
    start = page.index(f'data-slug="{slug}"')
    return page[start : page.index("</li>\n", page.index("</dl>", start))]


def test_a_meeting_in_session_is_shown_in_session_now(page: str):
    card = card_of(section(page, "now"), "fixture-revcon")
    assert 'class="state status-in-session">in session</dd>' in card
    assert "confirmed — official calendar or notice" in card
    assert "now, ends in 2 days" in card


def test_an_open_deadline_is_in_session_now_with_its_state_and_confidence(page: str):
    card = card_of(section(page, "now"), "fixture-report")
    assert "open (its window is running)" in card
    assert ">expected — by treaty schedule or pattern</dd>" in card


def test_a_source_is_shown_with_its_grade_and_caveat(page: str):
    card = card_of(page, "fixture-report")
    assert f"Conference news, World News Network [unverified] — caveat: {CAVEAT}" in card


def test_a_date_known_to_the_year_gets_no_t_minus_but_its_countdown_in_words(page: str):
    card = card_of(page, "fixture-2027")
    assert "T−" not in card
    assert re.search(r'<p class="countdown"><strong>in [^<]+</strong></p>', card)
    assert "(not fixed to the day)" in card


def test_dates_to_be_announced_are_listed_in_their_own_section(page: str):
    undated = section(page, "undated")
    assert "Date to be announced" in undated
    assert "Fixture protocol deposit" in undated
    assert "Fixture extraordinary meeting" in undated
    assert "reported — a single secondary source" in undated
    assert "Fixture dropped meeting" not in undated  # cancelled: no date will come
    assert "None" not in undated


def test_a_cancelled_meeting_is_marked_cancelled(page: str):
    card = card_of(section(page, "next"), "fixture-cancelled")
    assert "✕ cancelled" in card
