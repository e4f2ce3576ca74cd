"""The calendar poller against a calendar served on 127.0.0.1: a changed event becomes one
change alert; a 500, a timeout, a 50 MB body or a malformed calendar is recorded on the
calendar and changes nothing else; a 304 changes nothing and counts as a success."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog.models import Meeting
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory, transaction
from tracker.interchange import poller
from tracker.interchange.calendars import failing, register
from tracker.interchange.fetch import FetchError, fetch
from tracker.interchange.models import CalendarFeed

from ..alerts.helpers import RecordingNotifier, add_subscriber, make_worker
from ..daemon.test_daemon_process import emails, prepare, start
from ..faults.daemons import wait_for
from .served_calendar import FIFTY_MB, FORUM, MARCH, MOVED, Served, served_fixture, url_fixture

__all__ = ["served_fixture", "url_fixture"]  # the fixtures these tests use


@pytest.fixture
def feed(session_factory: sessionmaker[Session], url: str, now: datetime) -> str:
    """The served calendar registered, its events imported once, a subscriber by email."""
    with transaction(session_factory) as session:
        register(session, url, now=now, body=FORUM, grade="primary")
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
        assert [f.problem() for f in failing(session.connection())] == [
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


def test_without_an_etag_the_last_modified_is_sent_back_and_a_304_imports_nothing(
    url: str, served: Served
):
    served.mode = "dated"
    first = fetch(url)
    again = fetch(url, etag=first.etag, last_modified=first.last_modified)

    assert first.data == MARCH and first.etag is None
    assert served.requests[-1]["If-Modified-Since"] == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert again.not_modified and again.last_modified == first.last_modified


def test_a_redirect_is_followed_and_a_loop_of_them_is_a_failure(url: str, served: Served):
    served.mode = "redirect"
    assert fetch(url).data == MARCH

    served.mode = "loop"
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(url)


def test_a_url_whose_port_is_no_number_is_a_failure_in_one_line():
    with pytest.raises(FetchError, match="not a valid URL"):
        fetch("http://127.0.0.1:port/calendar.ics")


def test_an_unreachable_host_is_a_failure_in_one_line():
    with pytest.raises(FetchError, match=r"connection refused|cannot resolve"):
        fetch("http://127.0.0.1:9/calendar.ics", timeout=5)


@pytest.mark.slow
def test_the_daemon_polls_a_calendar_on_its_own_thread_while_alerts_go_out(
    tmp_path: Path, url: str, served: Served
):
    """The calendar's server holds the daemon's fetch; a deadline's alert falls due and is
    sent meanwhile; once let go, the calendar is imported."""
    identity = prepare(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        register(session, url, now=datetime.now(UTC), body=FORUM)
    served.mode = "held"
    daemon, log = start(tmp_path, "calendars")
    try:
        assert wait_for(lambda: len(served.requests) == 1, 30), log.read_text()
        assert wait_for(lambda: len(emails(tmp_path, identity)) == 1, 30), log.read_text()
        with factory() as session:
            assert session.scalar(select(Meeting)) is None  # the fetch is still held
        served.release.set()
        assert wait_for(lambda: row(factory, url).last_ok_at is not None, 30), log.read_text()
        with factory() as session:
            meeting = session.scalar(select(Meeting))
            assert meeting is not None and meeting.body == FORUM
    finally:
        daemon.terminate()
        daemon.wait(15)
        engine.dispose()
