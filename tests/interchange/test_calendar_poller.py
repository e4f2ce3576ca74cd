"""The calendar poller against a calendar served on 127.0.0.1: a changed event becomes one
change alert; a 500, a timeout, a 50 MB body or a malformed calendar is recorded on the
calendar and changes nothing else; a 304 changes nothing and counts as a success."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog.models import Meeting
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.interchange import poller
from tracker.interchange.fetch import FetchError, fetch
from tracker.interchange.models import CalendarFeed

from ..alerts.helpers import RecordingNotifier, add_subscriber, make_worker

FORUM = "IAEA Board of Governors"
CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example Agency//Meetings//EN\r
BEGIN:VEVENT\r
UID:board-2027-03@example.org\r
DTSTAMP:20261101T000000Z\r
SUMMARY:Board of Governors\r
DTSTART;VALUE=DATE:{start}\r
DTEND;VALUE=DATE:{end}\r
LOCATION:Vienna\r
END:VEVENT\r
END:VCALENDAR\r
"""
MARCH = CALENDAR.format(start="20270302", end="20270307").encode()
MOVED = CALENDAR.format(start="20270309", end="20270314").encode()
FIFTY_MB = 50 * 1024 * 1024


@dataclass
class Served:
    """What the server answers: ``mode`` and the calendar with its ETag."""

    mode: str = "calendar"
    calendar: bytes = MARCH
    etag: str = '"v1"'
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    served: Served

    def do_GET(self) -> None:
        served = self.served
        served.requests.append(dict(self.headers.items()))
        try:
            getattr(self, f"answer_{served.mode.replace('-', '_')}")(served)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the poller hung up on purpose

    def answer_calendar(self, served: Served) -> None:
        if self.headers.get("If-None-Match") == served.etag:
            self.send_response(304)
            self.send_header("ETag", served.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(served.calendar)))
        self.send_header("ETag", served.etag)
        self.end_headers()
        self.wfile.write(served.calendar)

    def answer_error(self, served: Served) -> None:
        self.send_error(500, "Internal Server Error")

    def answer_malformed(self, served: Served) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "20")
        self.end_headers()
        self.wfile.write(b"this is no calendar\n")

    def answer_hang(self, served: Served) -> None:
        """Headers and a few bytes, then nothing until the test ends."""
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"BEGIN:VCALENDAR\r\n")
        self.wfile.flush()
        served.release.wait(30)

    def answer_huge(self, served: Served) -> None:
        self._fifty_mb(declared=True)

    def answer_huge_undeclared(self, served: Served) -> None:
        self._fifty_mb(declared=False)

    def _fifty_mb(self, declared: bool) -> None:
        self.send_response(200)
        if declared:
            self.send_header("Content-Length", str(FIFTY_MB))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"X" * (1024 * 1024)
        for _ in range(FIFTY_MB // len(chunk)):
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[Served]:
    yield Served()


@pytest.fixture
def url(served: Served) -> Iterator[str]:
    handler = type("ServedHandler", (Handler,), {"served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/meetings.ics"
    served.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def feed(session_factory: sessionmaker[Session], url: str, now: datetime) -> str:
    """The served calendar registered, its events imported once, a subscriber by email."""
    with transaction(session_factory) as session:
        poller.register(session, url, now=now, body=FORUM, grade="primary")
        add_subscriber(session, now=now)
    [outcome] = poller.poll_due(session_factory, FixedClock(now))
    assert outcome.ok, outcome.said
    assert outcome.said.startswith("import: 1 added")
    return url


def row(factory: sessionmaker[Session], url: str) -> CalendarFeed:
    with factory() as session:
        found = session.scalar(select(CalendarFeed).where(CalendarFeed.url == url))
        assert found is not None
        session.expunge(found)
        return found


def everything_but_the_calendars(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but calendar_feeds."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for name, table in tables.tables.items()
            if name != "calendar_feeds"
        }


def test_a_changed_event_in_the_calendar_becomes_one_change_alert(
    session_factory: sessionmaker[Session], feed: str, served: Served, now: datetime
):
    email = RecordingNotifier()
    make_worker(session_factory, now + timedelta(hours=1), email).tick()
    before = len(email.sent)
    with session_factory() as session:
        meeting = session.scalar(select(Meeting))
        assert meeting is not None
        assert (meeting.title, meeting.body, meeting.starts_text) == (
            "Board of Governors",
            FORUM,
            "2027-03-02",
        )
        assert [s.url for s in meeting.sources] == [feed]

    served.calendar, served.etag = MOVED, '"v2"'
    later = now + timedelta(hours=7)  # past the 6 h between polls
    [outcome] = poller.poll_due(session_factory, FixedClock(later))
    assert outcome.ok and outcome.said.startswith("import: 0 added, 1 changed")
    for at in (later, later + timedelta(minutes=3), later + timedelta(minutes=10)):
        make_worker(session_factory, at, email).tick()

    [alert] = email.sent[before:]
    assert alert.kind == "change"
    assert "Board of Governors" in alert.subject and "2027-03-09" in alert.subject
    assert served.requests[-1]["If-None-Match"] == '"v1"'
    assert row(session_factory, feed).etag == '"v2"'


def test_a_304_changes_nothing_and_counts_as_a_success(
    session_factory: sessionmaker[Session], engine: Engine, feed: str, served: Served, now: datetime
):
    later = now + timedelta(hours=7)
    before = everything_but_the_calendars(engine)

    [outcome] = poller.poll_due(session_factory, FixedClock(later))

    assert (outcome.ok, outcome.said) == (True, "not modified")
    assert served.requests[-1]["If-None-Match"] == '"v1"'
    assert everything_but_the_calendars(engine) == before
    polled = row(session_factory, feed)
    assert (polled.checked_at, polled.last_ok_at, polled.failures) == (later, later, 0)
    assert polled.next_check_at == later + timedelta(hours=6)
    assert polled.etag == '"v1"'


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("error", "HTTP 500 Internal Server Error"),
        ("hang", "timed out after 0.5 s"),
        ("huge", f"body of {FIFTY_MB} bytes is over the {10 * 1024 * 1024} limit"),
        ("huge-undeclared", f"body over the {10 * 1024 * 1024} byte limit"),
        ("malformed", "calendar: not an iCalendar file"),
    ],
    ids=["http-500", "timeout", "50MB-declared", "50MB-streamed", "malformed"],
)
def test_a_failed_poll_is_recorded_on_the_calendar_and_nothing_else_changes(
    session_factory: sessionmaker[Session],
    engine: Engine,
    feed: str,
    served: Served,
    now: datetime,
    mode: str,
    error: str,
):
    served.mode = mode
    served.calendar, served.etag = MOVED, '"v2"'  # had it been read, an event would move
    later = now + timedelta(hours=7)
    before = everything_but_the_calendars(engine)
    quick = functools.partial(fetch, timeout=0.5)

    [outcome] = poller.poll_due(session_factory, FixedClock(later), fetcher=quick)

    assert not outcome.ok and outcome.said.startswith(error)
    assert everything_but_the_calendars(engine) == before
    failed = row(session_factory, feed)
    assert failed.failures == 1 and (failed.last_error or "").startswith(error)
    assert (failed.checked_at, failed.last_ok_at) == (later, now)
    assert failed.next_check_at == later + timedelta(minutes=15)
    assert failed.etag == '"v1"'
    with session_factory() as session:
        assert [f.problem() for f in poller.failing(session.connection())] == [
            f"calendar {feed} failing (1 in a row): {failed.last_error}"
        ]


def test_failures_back_off_and_a_success_clears_them(
    session_factory: sessionmaker[Session], feed: str, served: Served, now: datetime
):
    served.mode = "error"
    at = now + timedelta(hours=7)
    waits = []
    for _ in range(3):
        [outcome] = poller.poll_due(session_factory, FixedClock(at))
        assert not outcome.ok
        due = row(session_factory, feed).next_check_at
        assert due is not None
        waits.append(due - at)
        assert poller.poll_due(session_factory, FixedClock(due - timedelta(seconds=1))) == []
        at = due
    assert waits == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)]

    served.mode = "calendar"
    [outcome] = poller.poll_due(session_factory, FixedClock(at))
    cleared = row(session_factory, feed)
    assert outcome.ok and (cleared.failures, cleared.last_error) == (0, None)


def test_a_calendar_claimed_by_another_poller_is_left_to_it(
    session_factory: sessionmaker[Session], feed: str, served: Served, now: datetime
):
    later = now + timedelta(hours=7)
    calls = []

    def fetch_while_another_polls(url: str, **validators: str | None) -> Any:
        calls.append(url)
        assert poller.poll_due(session_factory, FixedClock(later)) == []  # claimed: skipped
        return fetch(url, **validators)

    [outcome] = poller.poll_due(
        session_factory, FixedClock(later), fetcher=fetch_while_another_polls
    )
    assert outcome.ok and calls == [feed]


def test_an_unreachable_host_is_a_failure_in_one_line():
    with pytest.raises(FetchError, match="connection refused|cannot resolve"):
        fetch("http://127.0.0.1:9/calendar.ics", timeout=5)
