"""A page for every treaty, deadline and meeting of the seeded catalogue, as HTML, JSON and
iCalendar; search; and a 404 page that helps."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import icalendar
import pytest
from markupsafe import escape
from sqlalchemy import select
from starlette.testclient import TestClient

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.sources import Source
from tracker.catalog.treaties import Treaty
from tracker.views import service

from ..conftest import CURRENT_TIME

BASE = "http://127.0.0.1:8040/"  # feeds.base_url's default: every page link is made from it


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def slugs(site, model) -> list[str]:
    with site.sessions() as session:
        return list(session.scalars(select(model.slug).order_by(model.slug)))


def test_every_deadline_and_meeting_has_a_page_with_its_state_confidence_and_history(
    client: TestClient, site
):
    with site.sessions() as session:
        for type_, model in (("deadline", Deadline), ("meeting", Meeting)):
            for slug in session.scalars(select(model.slug)):
                data = service.item(session, type_, slug, CURRENT_TIME)
                response = client.get(f"/{type_}s/{slug}")
                assert response.status_code == 200, slug
                assert response.headers["content-type"] == "text/html; charset=utf-8"
                page = response.text
                assert "<h1>" in page and "<script" not in page
                for shown in ("Sources", "History of changes", "State", "Confidence"):
                    assert shown in page
                assert f"{BASE}{type_}s/{slug}.ics" in page
                assert str(escape(data["title"])) in page  # as the templates escape it


def test_a_deadline_page_shows_its_window_sources_with_grades_and_changes(client: TestClient):
    page = client.get("/deadlines/new-start-expiry").text
    assert "New START expires" in page
    assert "2026-02-05" in page
    assert "[primary (official)]" in page or "[established" in page or "[secondary]" in page
    assert 'class="change"' in page  # the seeded history
    assert f'href="{BASE}treaties/new-start"' in page


def test_item_json_is_the_read_model_the_cli_shows(client: TestClient, site):
    with site.sessions() as session:
        expected = service.item(
            session, "meeting", "ssd-2021-plenary-1", CURRENT_TIME, site.settings.feeds.base_url
        )
    response = client.get("/meetings/ssd-2021-plenary-1.json")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(expected))


@pytest.mark.parametrize("type_", ["deadline", "meeting"])
def test_every_item_has_a_calendar_of_its_one_event(client: TestClient, site, type_: str):
    model = Deadline if type_ == "deadline" else Meeting
    for slug in slugs(site, model):
        response = client.get(f"/{type_}s/{slug}.ics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        calendar = icalendar.Calendar.from_ical(response.content)
        events = calendar.walk("VEVENT")
        assert len(events) <= 1  # a date to be announced is no event
        for event in events:
            assert str(event["URL"]) == f"{BASE}{type_}s/{slug}"


def test_every_treaty_has_a_page_with_its_parties_actions_items_and_feeds(client: TestClient, site):
    for slug in slugs(site, Treaty):
        response = client.get(f"/treaties/{slug}")
        assert response.status_code == 200, slug
        found = links(response.text)
        assert f"{BASE}treaties/{slug}.xml" in found.hrefs
        assert f"{BASE}treaties/{slug}.ics" in found.hrefs
        assert "Parties' actions" in response.text
    page = client.get("/treaties/new-start").text
    assert f'href="{BASE}deadlines/new-start-expiry"' in page
    assert 'class="event"' in page
    assert (
        client.get("/treaties/new-start.json").json()
        == client.get("/api/treaties/new-start").json()
    )


def test_treaty_feeds_still_answer_beside_its_page(client: TestClient):
    assert client.get("/treaties/new-start.xml").headers["content-type"] == "application/rss+xml"
    assert client.get("/treaties/new-start.ics").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/deadlines/no-such", "/meetings/no-such.json", "/treaties/no-such", "/deadlines/A.json"],
)
def test_unknown_items_are_404(client: TestClient, path: str):
    assert client.get(path).status_code == 404


def test_the_404_page_offers_a_search_box_and_the_nearest_slugs(client: TestClient):
    response = client.get("/deadlines/new-start-expiri")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    found = links(response.text)
    assert f"{BASE}deadlines/new-start-expiry" in found.hrefs
    assert "input" in found.tags and 'action="http://127.0.0.1:8040/search"' in response.text
    elsewhere = client.get("/treaty/new-strat")
    assert elsewhere.status_code == 404
    assert f"{BASE}treaties/new-start" in links(elsewhere.text).hrefs


def test_an_unknown_api_path_is_a_json_404(client: TestClient):
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_search_lists_items_by_title_and_slug(client: TestClient):
    found = links(client.get("/search", params={"q": "new start"}).text).hrefs
    assert f"{BASE}treaties/new-start" in found
    assert f"{BASE}deadlines/new-start-expiry" in found
    by_slug = links(client.get("/search", params={"q": "ssd-2021"}).text).hrefs
    assert f"{BASE}meetings/ssd-2021-plenary-1" in by_slug
    assert "Nothing matches" in client.get("/search", params={"q": "%_%zzz"}).text
    assert client.get("/search").status_code == 200


def test_a_javascript_source_url_is_text_never_a_link(seeded_site):
    with seeded_site.sessions() as session, session.begin():
        # The CLI refuses such a URL; an old row or SQL by hand may still hold one.
        hostile = Source(key="hostile", title="Hostile", url="javascript:alert(1)")
        deadline = session.scalars(
            select(Deadline).where(Deadline.slug == "new-start-expiry")
        ).one()
        meeting = session.scalars(select(Meeting).where(Meeting.slug == "ssd-2021-plenary-1")).one()
        deadline.sources.append(hostile)
        meeting.sources.append(hostile)
    with seeded_site.client() as client:
        for path in ("/deadlines/new-start-expiry", "/meetings/ssd-2021-plenary-1", "/"):
            page = client.get(path).text
            hrefs = links(page).hrefs
            assert not [h for h in hrefs if "javascript" in h.lower()], path
            if path != "/":
                assert "javascript:alert(1)" in page  # shown, as text
