"""Live from the database: an edit made through the CLI (another session factory, as another
process would) is seen on the next request with no rebuild; ETag and Last-Modified come
from the catalogue's revision, so unchanged responses answer 304; only catalogue writes
move the revision; and every link the feeds and the board point at resolves."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx2 as httpx
import icalendar
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from tracker.catalog import revision
from tracker.cli.main import cli
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.plan import PlanEntry
from tracker.web.app import create_app
from tracker.web.throttles import Throttle

from ..conftest import CURRENT_TIME

BASE = "http://testserver/"


def run_cli(site, *args: str) -> None:
    """The real CLI in-process, on its own engine and sessions (as another process)."""
    result = CliRunner().invoke(
        cli,
        [
            "--database-url",
            site.settings.effective_database_url,
            "--as-of",
            "2026-11-22T09:00",
            *args,
        ],
        env={"TRACKER_DATA_DIR": str(site.settings.data_dir)},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


def served(site, base_url: str = BASE) -> TestClient:
    feeds = site.settings.feeds.model_copy(update={"base_url": base_url})
    settings = site.settings.model_copy(update={"feeds": feeds})
    return TestClient(create_app(settings, site.sessions, FixedClock(CURRENT_TIME)))


def current_revision(site) -> int:
    with site.sessions() as session:
        return revision.current(session)


@pytest.fixture
def first_meeting(seeded_site) -> str:
    with served(seeded_site) as client:
        upcoming = client.get("/api/upcoming").json()
    return next(item["slug"] for item in upcoming if item["type"] == "meeting")


def test_a_cli_edit_is_on_the_board_page_feed_and_api_at_the_next_request(
    seeded_site, first_meeting: str
):
    paths = ["/", "/index.html", f"/meetings/{first_meeting}", "/feed.xml", "/api/upcoming"]
    with served(seeded_site) as client:
        before = {path: client.get(path) for path in paths}
        assert all(r.status_code == 200 for r in before.values())
        run_cli(seeded_site, "meeting", "edit", first_meeting, "--title", "Edited Live Title")
        for path in paths:
            response = client.get(path)
            assert "Edited Live Title" in response.text, path
            again = {"If-None-Match": before[path].headers["etag"]}
            assert client.get(path, headers=again).status_code == 200, path


def test_unchanged_responses_answer_304_and_are_not_rendered_again(seeded_site):
    paths = ["/", "/feed.xml", "/calendar.ics", "/treaties/new-start", "/api/countdowns"]
    with served(seeded_site) as client:
        first = {path: client.get(path) for path in paths}
        renders = client.app.state.live.renders
        for path, response in first.items():
            etag = {"If-None-Match": response.headers["etag"]}
            assert client.get(path, headers=etag).status_code == 304, path
            since = {"If-Modified-Since": response.headers["last-modified"]}
            assert client.get(path, headers=since).status_code == 304, path
        assert client.app.state.live.renders == renders  # all from the cache


def test_query_parameters_no_endpoint_reads_neither_render_anew_nor_change_the_answer(
    seeded_site,
):
    with served(seeded_site) as client:
        board = client.get("/")
        renders = client.app.state.live.renders
        for n in range(5):
            again = client.get(f"/?x={n}")
            assert again.text == board.text and again.headers["etag"] == board.headers["etag"]
        assert client.app.state.live.renders == renders
        assert client.get("/?kind=expiry").text != board.text  # a parameter that is read


def test_every_query_parameter_a_live_endpoint_reads_is_in_the_cache_key():
    from pathlib import Path

    from tracker.views.filters import FIELDS
    from tracker.web import live

    web = Path(live.__file__).parent
    read = {
        name
        for source in web.glob("*.py")
        for name in re.findall(r"query_params\.get(?:list)?\(\"(\w+)\"", source.read_text())
    }
    assert read and read | set(FIELDS) <= live.READ_PARAMETERS


def test_the_etag_names_the_revision_and_moves_with_it(seeded_site):
    with served(seeded_site) as client:
        etag = client.get("/treaties/new-start").headers["etag"]
        assert etag.startswith(f'W/"{current_revision(seeded_site)}-')
        run_cli(seeded_site, "treaty", "edit", "new-start", "--summary", "Edited summary.")
        response = client.get("/treaties/new-start", headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert "Edited summary." in response.text


def test_a_transaction_from_another_session_factory_is_seen_without_a_rebuild(seeded_site):
    from tracker.catalog.treaties import Treaty

    engine = make_engine(seeded_site.settings.effective_database_url)
    other = make_session_factory(engine)
    try:
        with served(seeded_site) as client:
            assert "Renamed Treaty" not in client.get("/").text
            with other() as session, session.begin():
                treaty = session.scalars(select(Treaty).where(Treaty.slug == "inf")).one()
                treaty.short_name = "Renamed Treaty"
            assert "Renamed Treaty" in client.get("/").text
            assert "Renamed Treaty" in client.get("/treaties/inf").text
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ["meeting", "edit", "ssd-2021-plenary-1", "--location", "Vienna"],
        ["meeting", "edit", "ssd-2021-plenary-1", "--source", "https://example.org/new"],
        ["treaty", "edit", "inf", "--depositary", "Nobody"],
        ["source", "edit", "SOURCE", "--grade", "unverified"],
    ],
    ids=["meeting-edit", "source-added", "treaty-edit", "source-edit"],
)
def test_cli_catalogue_edits_move_the_revision(seeded_site, args: list[str]):
    from tracker.catalog.sources import Source

    if "SOURCE" in args:
        with seeded_site.sessions() as session:
            # a source whose grade the edit changes (the order of rows is the database's)
            key = session.scalars(
                select(Source.key).where(Source.grade != "unverified").order_by(Source.key)
            ).first()
            args = [a if a != "SOURCE" else key for a in args]
    before = current_revision(seeded_site)
    run_cli(seeded_site, *args)
    assert current_revision(seeded_site) > before


def test_outbox_plan_and_throttle_writes_leave_the_revision_alone(seeded_site):
    before = current_revision(seeded_site)
    with seeded_site.sessions() as session, session.begin():
        session.add(PlanEntry(kind="sweep", key="test", due_at=CURRENT_TIME))
        session.add(Throttle(key="test", window_start=CURRENT_TIME, hits=1))
    with seeded_site.sessions() as session, session.begin():
        entry = session.scalars(select(PlanEntry).where(PlanEntry.key == "test")).one()
        entry.due_at = CURRENT_TIME + timedelta(days=1)
    assert current_revision(seeded_site) == before


def test_the_board_reads_otherwise_the_next_day_without_any_write(seeded_site):
    clock = FixedClock(CURRENT_TIME)
    app = create_app(seeded_site.settings, seeded_site.sessions, clock)
    with TestClient(app) as client:
        today = client.get("/")
        clock.advance(timedelta(days=1))
        tomorrow = client.get("/", headers={"If-None-Match": today.headers["etag"]})
    assert tomorrow.status_code == 200
    assert tomorrow.headers["etag"] != today.headers["etag"]


class Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k == "href" and v]


def feed_links(client: TestClient | httpx.Client, base: str = BASE) -> set[str]:
    """Every URL in feed.xml, atom.xml, calendar.ics, the per-treaty feeds and the board
    (served at ``base``)."""
    urls: set[str] = set()
    treaties = [t["slug"] for t in client.get("/api/treaties").json()]
    for path in ["/feed.xml", "/atom.xml", *(f"/treaties/{slug}.xml" for slug in treaties)]:
        text = client.get(path).text
        urls |= set(re.findall(r"<link>([^<]+)</link>", text))
        urls |= set(re.findall(r'href="([^"]+)"', text))
    for path in ["/calendar.ics", *(f"/treaties/{slug}.ics" for slug in treaties)]:
        calendar = icalendar.Calendar.from_ical(client.get(path).content)
        urls |= {str(event["URL"]) for event in calendar.walk("VEVENT") if "URL" in event}
    parser = Hrefs()
    parser.feed(client.get("/").text)
    urls |= {urljoin(base, href) for href in parser.found}
    return urls


def test_every_link_the_feeds_and_the_board_emit_resolves(seeded_site):
    with served(seeded_site) as client:
        links = {url for url in feed_links(client) if url.startswith(BASE)}
        assert len(links) > 40
        assert any("/meetings/" in url for url in links)
        assert any("/deadlines/" in url for url in links)
        broken = [url for url in sorted(links) if client.get(url).status_code != 200]
    assert broken == []


def test_every_item_in_the_api_carries_the_absolute_address_of_its_page_and_it_resolves(
    seeded_site,
):
    with served(seeded_site) as client:
        items = [
            *client.get("/api/upcoming?within=3650d").json(),
            *client.get("/api/countdowns").json(),
        ]
        pages = {item["link"] for item in items}
        assert items and all(page.startswith(BASE) for page in pages)
        broken = [page for page in sorted(pages) if client.get(page).status_code != 200]
    assert broken == []
