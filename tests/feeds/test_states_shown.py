"""The feeds as of a fixed instant inside a review conference, read back by icalendar and
feedparser: each item's state and confidence in words, graded sources with their caveat,
STATUS by state and precision, and no calendar event for a date to be announced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import icalendar
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.publish.build import build_feeds
from tracker.publish.calendar_items import calendar_items, next_state_change
from tracker.settings import Settings

from ..lifecycle_items import CAVEAT, IN_SESSION, fill


@pytest.fixture
def filled(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session, session.begin():
        fill(session)
    return session_factory


@pytest.fixture
def built(filled: sessionmaker[Session], tmp_path: Path) -> Iterator[Path]:
    with filled() as session:
        build_feeds(session, Settings(data_dir=tmp_path), tmp_path, as_of=IN_SESSION)
    yield tmp_path


def events(directory: Path) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical((directory / "calendar.ics").read_bytes())
    return {str(e["SUMMARY"]).split(" (")[0].split(" — ")[0]: e for e in calendar.walk("VEVENT")}


def test_the_calendar_says_a_meeting_is_in_session_and_how_sure_it_is(built: Path):
    revcon = events(built)["Fixture Review Conference"]
    description = str(revcon["DESCRIPTION"])
    assert "Status: in session" in description
    assert "Confidence: confirmed — official calendar or notice" in description
    assert (
        "Conference calendar, Fixture Secretariat [primary (official)] — "
        "https://example.org/calendar" in description
    )
    assert revcon["STATUS"] == "CONFIRMED"


def test_the_calendar_shows_a_running_window_tentative_with_its_caveated_source(built: Path):
    report = events(built)["Fixture report due"]
    description = str(report["DESCRIPTION"])
    assert "Status: open (its window is running)" in description
    assert "Confidence: expected — by treaty schedule or pattern" in description
    assert f"[unverified] — caveat: {CAVEAT}" in description
    assert report["STATUS"] == "TENTATIVE"


def test_a_meeting_cancelled_more_than_30_days_ago_has_left_the_calendar(built: Path):
    # Recorded cancelled on 1 October, two months before: subscribers have seen it cancelled
    # (tests/feeds/test_calendar_behaviour.py shows it kept within the 30 days).
    assert "Fixture plenary called off" not in events(built)


def test_a_date_to_be_announced_is_no_calendar_event(built: Path):
    shown = events(built)
    assert "Fixture protocol deposit" not in shown
    assert "Fixture extraordinary meeting" not in shown
    assert "Fixture Review Conference" in shown


def test_the_calendars_are_built_again_when_a_meeting_goes_into_session(
    filled: sessionmaker[Session],
):
    before = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 19:00 the day before in New York
    with filled() as session:
        items = calendar_items(session, before, before.date())
    assert next_state_change(items, before) == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def test_a_news_entry_says_its_items_state_and_confidence(built: Path):
    feed = feedparser.parse((built / "feed.xml").read_bytes())
    revcon = next(e for e in feed.entries if "Fixture Review Conference" in e.title)
    # As of the change (the meeting added on 1 October): scheduled then.
    assert "; scheduled; confirmed — official calendar or notice" in revcon.summary


def test_the_next_state_change_is_the_first_bound_of_any_window_ahead(
    filled: sessionmaker[Session],
):
    start = datetime(2026, 11, 25, tzinfo=UTC)
    with filled() as session:
        items = calendar_items(session, start, start.date())
    for hours in range(0, 24 * 12, 5):
        as_of = start + timedelta(hours=hours)
        bounds = [
            instant
            for item in items
            if item.recorded_status in ("pending", "scheduled", "postponed")
            for window in (item.when, item.ends)
            if window is not None
            for instant in (window.start(item.tz), window.end(item.tz))
            if instant > as_of
        ]
        assert next_state_change(items, as_of) == min(bounds, default=None)
