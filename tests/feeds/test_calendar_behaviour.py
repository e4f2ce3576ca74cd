"""Calendars that behave (#15 item 3) and feed summaries that do not go stale (item 2):
edits made with the real CLI, calendars parsed back by icalendar, feeds by feedparser."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import feedparser
import icalendar
import pytest
from click.testing import CliRunner

from tracker.alerts.planning import describe
from tracker.catalog import queries
from tracker.cli.main import cli
from tracker.notifiers.ics import IcsPublisher
from tracker.notifiers.rss import RssPublisher
from tracker.outbox.notices import Channels, NewNotice, record
from tracker.publish.absolute_dates import item_when_said, window_said
from tracker.publish.build import feed_files
from tracker.views.items import from_deadline

from ..conftest import CURRENT_TIME
from .conftest import HOSTILE, Schedule, later

# A count from the instant the feed was written: wrong a day later.
RELATIVE = re.compile(
    r"\bin \d+(?:[–-]\d+)? (?:minute|hour|day|week|month|year)s?\b|\bago\b|\btoday\b|"
    r"\btomorrow\b|\byesterday\b",
    re.IGNORECASE,
)


@pytest.fixture
def tracker(schedule: Schedule, database_url: str) -> object:
    """The real CLI on the schedule's database: ``tracker(as_of, *args)``."""

    def run(as_of: datetime, *args: str) -> None:
        result = CliRunner().invoke(
            cli, ["--database-url", database_url, "--as-of", as_of.isoformat(), *args]
        )
        assert result.exit_code == 0, result.output

    return run


def calendar(
    schedule: Schedule, as_of: datetime, name: str = "calendar.ics", *, precise: bool = False
) -> icalendar.Calendar:
    """A calendar as the server renders it live as of ``as_of``."""
    with schedule.sessions() as session:
        files, _ = feed_files(
            session, schedule.settings, [IcsPublisher()], as_of=as_of, precise=precise
        )
    return icalendar.Calendar.from_ical(files[name])


def events(found: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["URL"]).rsplit("/", 1)[1]: e for e in found.walk("VEVENT")}


def test_sequence_grows_after_a_date_edit_and_a_cancel_not_after_a_title_edit(
    schedule: Schedule, tracker
) -> None:
    def hostile() -> icalendar.Event:
        return events(calendar(schedule, later(4)))["hostile"]

    first = hostile()["SEQUENCE"]
    tracker(later(1), "meeting", "edit", "hostile", "--title", "Renamed talks")
    retitled = hostile()
    tracker(later(2), "meeting", "edit", "hostile", "--starts", "2026-12-11")
    moved = hostile()
    tracker(later(3), "meeting", "cancel", "hostile")
    cancelled = hostile()

    # A new title alone is no new version of the event: LAST-MODIFIED says it changed.
    assert retitled["SEQUENCE"] == first and str(retitled["SUMMARY"]) == "Renamed talks"
    assert retitled["LAST-MODIFIED"].dt == later(1)
    assert moved["SEQUENCE"] == first + 1 and moved["DTSTART"].dt == date(2026, 12, 11)
    assert cancelled["SEQUENCE"] == first + 2 and str(cancelled["STATUS"]) == "CANCELLED"


def test_a_cancelled_meeting_stays_cancelled_for_30_days_then_leaves(
    schedule: Schedule, tracker
) -> None:
    tracker(CURRENT_TIME, "meeting", "cancel", "hostile")

    for day in (0, 10, 29):
        shown = events(calendar(schedule, later(day)))
        assert str(shown["hostile"]["STATUS"]) == "CANCELLED", day
        assert "hostile" in events(calendar(schedule, later(day), "treaties/inf.ics"))
    after = events(calendar(schedule, later(30)))
    assert "hostile" not in after
    assert "hostile" not in events(calendar(schedule, later(30), "treaties/inf.ics"))
    assert "ssd-plenary" in after  # long past but not cancelled: still there


def test_all_day_events_end_the_day_after_their_last_day(schedule: Schedule, tracker) -> None:
    tracker(CURRENT_TIME, "meeting", "add", "Working group", "--starts", "1–5 June 2027",
            "--slug", "working-group")  # fmt: skip
    shown = events(calendar(schedule, CURRENT_TIME))

    spans = {
        slug: (shown[slug]["DTSTART"].dt, shown[slug]["DTEND"].dt)
        for slug in ("new-start-expiry", "hostile", "working-group")
    }
    assert spans == {
        "new-start-expiry": (date(2026, 2, 5), date(2026, 2, 6)),
        "hostile": (date(2026, 12, 10), date(2026, 12, 11)),
        "working-group": (date(2027, 6, 1), date(2027, 6, 6)),
    }
    for start, end in spans.values():
        assert not isinstance(start, datetime) and end > start


def test_every_timed_meeting_carries_its_zone(schedule: Schedule, tracker) -> None:
    tracker(
        CURRENT_TIME,
        "meeting",
        "add",
        "Vienna briefing",
        "--starts",
        "2027-03-01T10:00 Europe/Vienna",
        "--ends",
        "2027-03-01T12:00",
        "--slug",
        "briefing",
    )
    tracker(CURRENT_TIME, "meeting", "add", "Call", "--starts", "2027-03-02T15:00",
            "--tz", "UTC", "--slug", "call")  # fmt: skip
    found = calendar(schedule, CURRENT_TIME)
    shown = events(found)
    zones = {str(tz["TZID"]) for tz in found.walk("VTIMEZONE")}

    timed = [e for e in shown.values() if isinstance(e["DTSTART"].dt, datetime)]
    assert {str(e["URL"]).rsplit("/", 1)[1] for e in timed} == {"ssd-plenary", "briefing", "call"}
    for event in timed:
        for prop in ("DTSTART", "DTEND"):
            if prop in event:
                assert event[prop].dt.tzinfo is not None
                tzid = event[prop].params.get("TZID")
                assert tzid is None or tzid in zones  # UTC, or a zone the calendar defines
    assert shown["briefing"]["DTSTART"].params["TZID"] == "Europe/Vienna"
    assert shown["call"].to_ical().count(b"DTSTART:20270302T150000Z") == 1


def test_a_window_of_a_year_is_a_one_day_transparent_marker_left_out_when_precise(
    schedule: Schedule, tracker
) -> None:
    tracker(CURRENT_TIME, "meeting", "add", "BWC RevCon", "--starts", "2027", "--slug", "revcon",
            "--treaty", "inf", "--alert", "30d")  # fmt: skip
    tracker(CURRENT_TIME, "meeting", "add", "Undated talks", "--starts", "TBA", "--slug", "tba")
    revcon = events(calendar(schedule, CURRENT_TIME))["revcon"]

    assert str(revcon["SUMMARY"]) == "BWC RevCon — date not fixed: 2027"
    assert (revcon["DTSTART"].dt, revcon["DTEND"].dt) == (date(2027, 1, 1), date(2027, 1, 2))
    assert str(revcon["TRANSP"]) == "TRANSPARENT" and str(revcon["STATUS"]) == "TENTATIVE"
    assert not revcon.walk("VALARM")  # no alarm counts down to a day it may not be
    for name in ("calendar.ics", "treaties/inf.ics"):
        precise = events(calendar(schedule, CURRENT_TIME, name, precise=True))
        assert "revcon" not in precise and "hostile" in precise
        assert "data-exchange" not in precise  # "February 2027": a marker too
    assert "tba" not in events(calendar(schedule, CURRENT_TIME))


def test_the_server_leaves_markers_out_of_a_calendar_asked_for_precise(
    schedule: Schedule, tracker
) -> None:
    from starlette.testclient import TestClient

    from tracker.clock import FixedClock
    from tracker.web.app import create_app

    tracker(CURRENT_TIME, "meeting", "add", "BWC RevCon", "--starts", "2027", "--slug", "revcon")
    app = create_app(schedule.settings, schedule.sessions, FixedClock(CURRENT_TIME))
    with TestClient(app) as client:
        for path in ("/calendar.ics", "/treaties/new-start.ics", "/meetings/revcon.ics"):
            loose = client.get(path)
            precise = client.get(f"{path}?precise=1")
            assert loose.status_code == precise.status_code == 200
            assert b"date not fixed" in loose.content  # new-start: "February 2027"
            assert b"date not fixed" not in precise.content
            assert loose.headers["etag"] != precise.headers["etag"]
            assert client.get(f"{path}?precise=1").content == precise.content  # from the cache


def feed_entries(schedule: Schedule, as_of: datetime) -> list[feedparser.FeedParserDict]:
    with schedule.sessions() as session:
        files, _ = feed_files(session, schedule.settings, [RssPublisher()], as_of=as_of)
    found = []
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse(files[name])
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        found += parsed.entries
    return found


def test_feed_summaries_say_absolute_dates_and_never_count_days(
    schedule: Schedule, tracker
) -> None:
    tracker(later(1), "deadline", "edit", "new-start-expiry", "--due", "2027-02-05")
    tracker(later(1), "meeting", "add", "RevCon", "--starts", "end of September 2027")
    tracker(later(1), "meeting", "add", "Working group", "--starts", "1–5 June 2027")
    with schedule.sessions() as session:
        item = from_deadline(queries.deadline(session, "new-start-expiry"), later(2))
    title, body = describe(item, timedelta(days=7), later(2))
    alert = NewNotice(identity="alert:deadline:new-start-expiry:7d:2027-02-05", kind="alert",
                      title=title, body=body, due_at=later(2), subject_type="deadline",
                      subject_slug="new-start-expiry", treaty_slug="new-start")  # fmt: skip
    schedule.edit(lambda s: record(s, alert, [], Channels(), now=later(2), public=True))

    for as_of in (later(3), later(400)):  # what the feed says does not age
        entries = feed_entries(schedule, as_of)
        summaries = [e.summary for e in entries]
        assert len(entries) == 2 * 8 and all(summaries)
        assert [s for s in summaries if RELATIVE.search(s)] == []
        said = " | ".join(summaries)
        assert "5 February 2027" in said and "end of September 2027" in said
        assert "1–5 June 2027" in said and "When: 5 February 2027" in said
        assert HOSTILE in said  # the hostile title intact, its date in words
        assert "10 December 2026" in said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("2026-02-05", "5 February 2026"),
        ("2021-07-28T09:00 Europe/Geneva", "28 July 2021, 09:00 Europe/Geneva"),
        ("2026-06-01/2026-06-05", "1–5 June 2026"),
        ("2026-05-28/2026-06-03", "28 May – 3 June 2026"),
        ("2026-12-28/2027-01-03", "28 December 2026 – 3 January 2027"),
        ("end of September 2026", "end of September 2026"),
        ("2027", "2027"),
        ("TBA", "date to be announced"),
    ],
    ids=lambda value: value,
)
def test_a_date_is_said_in_words(written: str, said: str) -> None:
    from tracker.catalog.editing import read_date

    assert window_said(read_date(written), "UTC") == said


def test_a_timed_meeting_on_one_day_is_said_with_both_times(schedule: Schedule) -> None:
    from tracker.views.items import from_meeting

    with schedule.sessions() as session:
        plenary = from_meeting(queries.meeting(session, "ssd-plenary"), CURRENT_TIME)
    assert item_when_said(plenary) == "28 July 2021, 09:00–17:00 Europe/Geneva"
