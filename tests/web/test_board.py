"""The board, index.html: what a reader sees, that it is safe, and the timeline's geometry."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tracker.settings import Settings
from tracker.views.board import Board, board
from tracker.views.items import from_deadline
from tracker.views.page import board_page
from tracker.views.timeline import timeline

from ..conftest import CURRENT_TIME
from ..factories import make_deadline, make_meeting, make_treaty


def build_board(session: Session, settings: Settings, as_of: datetime) -> bytes:
    return board_page(session, settings, as_of)[0]


def gather(session: Session, settings: Settings, as_of: datetime) -> Board:
    return board(session, title=settings.feeds.title, timezone=settings.timezone, as_of=as_of)


class Tags(HTMLParser):
    """Counts of (tag, class) pairs and every element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def having(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag and (cls is None or cls in (attrs.get("class") or "").split())
        ]


@pytest.fixture(scope="module")
def page(client: TestClient) -> str:
    return client.get("/").text


@pytest.fixture(scope="module")
def tags(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def test_each_item_says_its_state_confidence_countdown_and_links_to_its_page(tags: Tags):
    cards = tags.having("li", "item")
    assert cards
    for attrs in cards:
        assert attrs["data-slug"]
    hrefs = {attrs.get("href") for _, attrs in tags.elements}
    for attrs in cards:
        kind = "deadlines" if "deadline" in (attrs.get("class") or "").split() else "meetings"
        assert f"{kind}/{attrs['data-slug']}" in hrefs
    assert len(tags.having("dd", "state")) == len(cards)
    assert len(tags.having("dd", "confidence")) == len(cards)
    assert len(tags.having("p", "countdown")) == len(cards)


def test_the_sections_come_in_the_order_a_reader_asks(page: str):
    headings = re.findall(r'<h2 id="([\w-]+)">([^<]+)</h2>', page)
    assert headings == [
        ("now", "In session now"),
        ("next", "Next 30 days"),
        ("later", "Later"),
        ("undated", "Date to be announced"),
        ("changed", "Recently changed"),
        ("treaties", "Treaties"),
        ("timeline", "Timeline"),
    ]


def test_the_status_table_has_headers_and_a_row_per_treaty(page: str, tags: Tags):
    assert len(tags.having("tr", "treaty-row")) >= 9
    headers = re.findall(r'<th scope="col">([^<]+)</th>', page)
    for header in ("Treaty", "Status", "Signed", "In force", "Expires", "United States", "Russia"):
        assert header in headers


def test_the_timeline_is_inline_svg_with_a_lane_per_treaty_and_text_alternatives(
    page: str, tags: Tags
):
    assert len(tags.having("svg", "timeline")) == 1
    assert tags.having("ul", "legend")
    assert len(tags.having("g", "lane")) == len(tags.having("tr", "treaty-row"))
    assert tags.having("title") and tags.having("desc")
    assert tags.having("line", "today")
    assert tags.having("path", "deadline")
    assert tags.having("circle", "meeting")
    assert tags.having("line", "break")  # withdrawals and suspensions


def test_it_links_to_every_feed(tags: Tags):
    hrefs = {attrs.get("href") for _, attrs in tags.elements if attrs.get("href")}
    assert {"feed.xml", "atom.xml", "calendar.ics", "treaties/new-start.xml"} <= hrefs
    assert "treaties/new-start.ics" in hrefs


def test_it_has_no_scripts_and_no_external_assets(page: str, tags: Tags):
    assert not tags.having("script")
    assert not [attrs for _, attrs in tags.elements if any(k.startswith("on") for k in attrs)]
    assert "prefers-color-scheme: dark" in page
    for name, attrs in tags.elements:
        if name in ("link", "img", "iframe"):
            assert not (attrs.get("href") or attrs.get("src") or "").startswith(("http", "//"))


def test_hostile_titles_are_escaped(session_factory, tmp_path):
    hostile = '<script>alert("x")</script>'
    with session_factory() as session, session.begin():
        make_treaty(session, "evil", short_name=f"Evil {hostile}", signed="2020-01-01")
        make_deadline(session, f"Due {hostile}", due="2027-01-01", treaty="evil", slug="evil-due")
        make_meeting(
            session, f"Meet {hostile}", starts="2027-02-01", treaty="evil", location=hostile
        )
    with session_factory() as session:
        html = build_board(session, Settings(data_dir=tmp_path), CURRENT_TIME).decode()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_timeline_lanes_run_from_signature_to_expiry_or_today(session_factory):
    with session_factory() as session, session.begin():
        ended = make_treaty(session, "old", signed="2000-01-01", expires="2010-01-01")
        open_ended = make_treaty(session, "open", signed="2005-06-01")
        due = make_deadline(session, "Review", due="2027-03-01", treaty="open", slug="review")
        session.flush()
        chart = timeline(
            [ended, open_ended], [from_deadline(due, CURRENT_TIME)], date(2026, 11, 22)
        )
    old, new = chart.lanes
    assert chart.first == date(2000, 1, 1) and chart.last == date(2028, 12, 31)
    assert old.start < new.start < old.end < chart.today_x == new.end
    assert [m.kind for m in new.marks] == ["deadline"]
    assert chart.today_x < new.marks[0].x < chart.width
    assert "old" in {lane.slug for lane in chart.lanes}


def test_the_board_is_the_same_all_day_so_rebuilds_write_nothing(session):
    make_treaty(session)
    make_deadline(session, due="2027-02-05", treaty="new-start")
    settings = Settings()
    morning = build_board(session, settings, CURRENT_TIME)
    evening = build_board(session, settings, CURRENT_TIME.replace(hour=22, minute=59))
    assert morning == evening


def test_a_terminated_treaty_ends_its_lane_when_the_withdrawal_took_effect(session):
    from tracker.catalog.treaties import ParticipationEvent, Standing

    inf = make_treaty(session, "inf", signed="1987-12-08", status="terminated")
    inf.events.append(ParticipationEvent(state="US", event="withdrew", on=date(2019, 8, 2)))
    inf.events.append(ParticipationEvent(state="RU", event="ratified", on=date(1988, 6, 1)))
    session.flush()
    assert inf.ended_on() == date(2019, 8, 2)
    assert inf.standing("RU", date(2018, 1, 1)) is Standing.PARTY
    assert inf.standing("RU", date(2020, 1, 1)) is Standing.ENDED
    chart = timeline([inf], [], date(2026, 11, 22))
    assert chart.lanes[0].end < chart.today_x


def test_a_large_schedule_shows_the_nearest_of_each_section(session, monkeypatch):
    from tracker.views import board as module
    from tracker.views import sections

    monkeypatch.setattr(sections, "NEXT_SHOWN", 2)
    monkeypatch.setattr(sections, "LATER_SHOWN", 2)
    monkeypatch.setattr(module, "TIMELINE_MARKS", 3)
    make_treaty(session, signed="2000-01-01")
    for n in range(1, 8):
        make_deadline(
            session, f"Ahead {n}", due=f"2027-0{n}-01", slug=f"ahead-{n}", treaty="new-start"
        )
        make_deadline(
            session, f"Soon {n}", due=f"2026-11-2{n}", slug=f"soon-{n}", treaty="new-start"
        )
    make_deadline(session, "Dropped", due="2026-11-23", slug="dropped", status="cancelled")
    make_deadline(session, "Long ago", due="2020-01-01", slug="long-ago")
    session.flush()

    shown = gather(session, Settings(), CURRENT_TIME)

    assert [e.slug for e in shown.sections.now] == ["soon-2"]  # due today; soon-1 passed
    assert [e.slug for e in shown.sections.next] == ["soon-3", "soon-4"]
    assert [e.slug for e in shown.sections.later] == ["ahead-1", "ahead-2"]
    marks = sorted(m.label.split(" (")[0] for m in shown.timeline.lanes[0].marks)
    assert marks == ["Soon 1", "Soon 2", "Soon 3"]  # the nearest to today


def test_a_date_not_fixed_to_the_day_is_a_bar_on_the_timeline(session):
    make_treaty(session, signed="2000-01-01")
    make_deadline(session, "Window", due="May 2027", slug="window", treaty="new-start")
    make_deadline(session, "Day", due="2027-05-10", slug="day", treaty="new-start")
    session.flush()

    marks = {m.label.split(" (")[0]: m for m in gather(session, Settings(), CURRENT_TIME)
             .timeline.lanes[0].marks}  # fmt: skip
    assert marks["Day"].until_x is None
    assert marks["Window"].until_x is not None
    assert marks["Window"].x < marks["Day"].x < marks["Window"].until_x


def test_the_board_says_until_when_it_holds(session):
    from datetime import UTC, datetime

    make_deadline(session, "Talks open", due="2026-11-22T15:00 Asia/Tokyo", slug="talks")
    make_deadline(session, "Report due", due="2026-11-24", slug="report")
    session.flush()
    settings = Settings(timezone="America/New_York")

    _, until = board_page(session, settings, CURRENT_TIME)  # 09:00 UTC, 18:00 in Tokyo
    assert until == datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # midnight in Tokyo

    _, until = board_page(session, settings, datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    assert until == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)  # midnight in New York

    _, until = board_page(session, settings, datetime(2026, 11, 22, 5, 30, tzinfo=UTC))
    assert until == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # the talks open in Tokyo


def test_a_recurring_meeting_is_marked_at_its_occurrences_in_the_coming_year(session):
    make_treaty(session, signed="2000-01-01")
    make_meeting(
        session, "Annual review", starts="2020-12-01", treaty="new-start", repeat="FREQ=YEARLY"
    )
    make_meeting(session, "Old plenary", starts="2025-03-01", treaty="new-start")
    session.flush()

    marks = gather(session, Settings(), CURRENT_TIME).timeline.lanes[0].marks
    assert sorted(m.label for m in marks) == [
        "Annual review (2026-12-01)",
        "Old plenary (2025-03-01)",
    ]
