"""The board's sections and its filters, and the feeds of a filtered view (the same query
string), on the board's fixture rows as of the review conference's third day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import icalendar
import pytest
from starlette.testclient import TestClient

from tracker import migrations
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.errors import InvalidInput
from tracker.settings import Settings
from tracker.views.filters import BoardFilter
from tracker.views.items import deadline_item
from tracker.views.sections import section_of
from tracker.web.app import create_app

from .board_data import IN_SESSION, fill_board


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root: Path = tmp_path_factory.mktemp("filters")
    url = f"sqlite:///{root / 'tracker.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        fill_board(session)
    settings = Settings(data_dir=root / "var", database_url=url)
    with TestClient(create_app(settings, sessions, FixedClock(IN_SESSION))) as client:
        yield client
    engine.dispose()


def shown(client: TestClient, query: str = "") -> dict[str, list[str]]:
    """Each section's item slugs on the board served for ``query``."""
    response = client.get(f"/{query}")
    assert response.status_code == 200
    page = response.text
    found = {}
    for name in ("now", "next", "later", "undated", "changed"):
        start = page.index(f'<h2 id="{name}"')
        found[name] = re.findall(
            r'data-slug="([^"]+)"', page[start : page.index("</section>", start)]
        )
    return found


def test_the_board_sorts_items_into_its_sections(client: TestClient):
    assert shown(client) == {
        "now": ["fixture-revcon", "fixture-report"],
        "next": ["fixture-cancelled", "second-exchange"],
        "later": ["fixture-2027", "second-plenary", "second-notification"],
        "undated": ["fixture-tba-meeting", "fixture-tba-deadline"],
        "changed": ["second-exchange"],
    }


def test_a_recent_change_says_what_changed_and_when(client: TestClient):
    page = unescape(client.get("/").text)
    changed = page[page.index('<h2 id="changed"') :]
    assert (
        "Changed 28 November: Second data exchange: date moved from 2026-12-18 to 2026-12-20"
        in (changed)
    )


def day(due: str) -> datetime:
    return datetime.fromisoformat(due).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "section"),
    [
        ("2026-12-02", "now"),  # due today: its window is running
        ("2026-12-03", "next"),
        ("2027-01-01", "next"),  # 30 days ahead
        ("2027-01-02", "later"),
        ("December 2026", "now"),
        ("January 2027", "later"),  # may be 60 days away: not said to be within 30
        ("2027", "later"),
        ("2026-11-30", None),  # passed
    ],
    ids=str,
)
def test_where_an_item_goes(session, due: str, section: str | None):
    from ..factories import make_deadline

    row = make_deadline(session, "Due", due=due, slug="due")
    session.flush()
    assert section_of(deadline_item(row, IN_SESSION)) == section


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "?treaty=second-treaty",
            {
                "now": [],
                "next": ["second-exchange"],
                "later": ["second-plenary", "second-notification"],
                "undated": [],
                "changed": ["second-exchange"],
            },
        ),
        (
            "?kind=review-conference",
            {"now": ["fixture-revcon"], "next": [], "later": [], "undated": [], "changed": []},
        ),
        (
            "?treaty=fixture-treaty&confidence=reported",
            {"now": [], "next": [], "later": [], "undated": ["fixture-tba-meeting"], "changed": []},
        ),
        (
            "?treaty=&kind=&confidence=",  # the form's "all"
            None,
        ),
    ],
    ids=["treaty", "kind", "treaty-and-confidence", "all"],
)
def test_a_filter_narrows_every_section(client: TestClient, query: str, expected):
    assert shown(client, query) == (expected or shown(client))


def test_the_form_keeps_the_choice_and_the_feed_links_carry_it(client: TestClient):
    page = client.get("/?kind=notification&treaty=second-treaty").text
    assert '<option value="second-treaty" selected>' in page
    assert '<option value="notification" selected>' in page
    assert 'href="feed.xml?treaty=second-treaty&amp;kind=notification"' in page
    assert 'href="atom.xml?treaty=second-treaty&amp;kind=notification"' in page
    assert 'href="calendar.ics?treaty=second-treaty&amp;kind=notification"' in page
    assert "Subscribe to this view" in page
    assert 'href="./">Show everything</a>' in page


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("?kind=picnic", "no kind 'picnic' (one of: "),
        ("?confidence=sure", "no confidence 'sure' (one of: confirmed, announced"),
        ("?treaty=second-treaty-x", "no treaty 'second-treaty-x'"),
    ],
)
@pytest.mark.parametrize("path", ["/", "/feed.xml", "/calendar.ics"])
def test_a_value_outside_the_vocabulary_is_refused_in_one_line(
    client: TestClient, path: str, query: str, said: str
):
    response = client.get(path + query)
    assert response.status_code == 400
    assert said in response.text
    assert "\n" not in response.text.strip()
    assert "Traceback" not in response.text


def test_the_feeds_of_a_view_hold_what_the_view_does(client: TestClient):
    everything = icalendar.Calendar.from_ical(client.get("/calendar.ics").content)
    narrowed = icalendar.Calendar.from_ical(
        client.get("/calendar.ics?treaty=second-treaty").content
    )
    titles = {str(e["SUMMARY"]) for e in narrowed.walk("VEVENT")}
    assert any("Second data exchange" in t for t in titles)
    assert not any("Fixture" in t for t in titles)
    assert len(list(everything.walk("VEVENT"))) > len(list(narrowed.walk("VEVENT")))
    feed = client.get("/feed.xml?treaty=second-treaty").text
    assert "Second data exchange" in feed
    assert "Fixture" not in feed.split("<item>", 1)[-1]
    assert "Second data exchange" not in client.get("/atom.xml?confidence=reported").text
    assert client.get("/feed.xml").text != feed


def test_a_filter_is_read_from_a_query_string_and_written_back():
    only = BoardFilter.from_query({"kind": "expiry", "treaty": " new-start ", "confidence": ""})
    assert only == BoardFilter(treaty="new-start", kind="expiry")
    assert only.query() == "?treaty=new-start&kind=expiry"
    assert BoardFilter().query() == "" and not BoardFilter().active
    with pytest.raises(InvalidInput):
        BoardFilter.from_query({"kind": "<script>"})
