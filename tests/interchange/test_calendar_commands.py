"""`tracker source add-calendar|calendars|poll-calendars|remove-calendar` as a user runs
them (the real process, a calendar served on 127.0.0.1), and a failing calendar in
`tracker alerts status` and /healthz."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.interchange import poller
from tracker.interchange.calendars import register
from tracker.settings import Settings
from tracker.web.app import create_app

from ..conftest import CURRENT_TIME
from ..process import tracker
from .served_calendar import FORUM, Served, served_fixture, url_fixture

__all__ = ["served_fixture", "url_fixture"]  # the fixtures these tests use

AS_OF = "2026-12-03"


def run(home: Path, *args: str, status: int = 0) -> str:
    result = tracker(home, "--as-of", AS_OF, *args)
    assert result.returncode == status, result.stderr or result.stdout
    return result.stdout


def calendars(home: Path) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(run(home, "source", "calendars", "--json"))
    return listed


def imported(home: Path, url: str) -> list[dict[str, Any]]:
    """The meetings listed that cite the calendar."""
    listed = json.loads(run(home, "meeting", "list", "--json"))
    return [m for m in listed if any(s["url"] == url for s in m["sources"])]


def test_a_registered_calendar_is_polled_listed_failed_and_removed(
    home: Path, url: str, served: Served
):
    said = run(
        home,
        "source",
        "add-calendar",
        url,
        "--treaty",
        "npt",
        "--body",
        FORUM,
        "--every",
        "12h",
        "--grade",
        "primary",
    )
    assert said.startswith(f"registered calendar {url}, polled every 12h")
    [registered] = calendars(home)
    assert registered | {"source": None} == {
        "url": url,
        "treaty": "npt",
        "body": FORUM,
        "source": None,
        "grade": "primary",
        "every": "12h",
        "checked_at": None,
        "last_ok_at": None,
        "next_check_at": "2026-12-03T00:00:00+00:00",
        "failures": 0,
        "last_error": None,
    }

    assert run(home, "source", "poll-calendars").startswith(f"{url}: import: 1 added")
    [meeting] = imported(home, url)
    assert (meeting["title"], meeting["body"], meeting["treaty"]) == (
        "Board of Governors",
        FORUM,
        "npt",
    )
    assert meeting["sources"][0]["grade"] == "primary"
    assert run(home, "source", "poll-calendars") == "no calendar due\n"  # next in 12 h
    assert run(home, "source", "poll-calendars", "--all") == f"{url}: not modified\n"

    served.mode = "error"
    failed = run(home, "source", "poll-calendars", "--all", status=1)
    assert failed == f"{url}: failed: HTTP 500 Internal Server Error\n"
    [listed] = calendars(home)
    assert (listed["failures"], listed["last_error"]) == (1, "HTTP 500 Internal Server Error")
    assert listed["last_ok_at"] == "2026-12-03T00:00:00+00:00"
    problem = f"calendar {url} failing (1 in a row): HTTP 500 Internal Server Error"
    assert problem in run(home, "alerts", "status")
    table = run(home, "source", "calendars")
    assert "HTTP 500" in table and FORUM in table

    assert run(home, "source", "remove-calendar", url) == f"removed calendar {url}\n"
    assert calendars(home) == []
    assert len(imported(home, url)) == 1  # what it imported stays
    assert problem not in run(home, "alerts", "status")


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        (["file:///etc/hosts"], "error: calendar URL 'file:///etc/hosts' is not an http(s) URL"),
        (
            ["http://127.0.0.1:port/x.ics"],
            "error: calendar URL 'http://127.0.0.1:port/x.ics': its port",
        ),
        (["{url}", "--every", "1m"], "error: --every '1m': expected from 1h to 30d"),
        (["{url}", "--every", "31d"], "error: --every '31d': expected from 1h to 30d"),
        (["{url}", "--body", "x" * 201], "error: --body is longer than 200 characters (201)"),
        (["{url}", "--grade", "gospel"], "error: unknown source grade 'gospel'"),
        (["{url}", "--treaty", "no-such-treaty"], "error: no treaty 'no-such-treaty'"),
    ],
    ids=[
        "not-http",
        "bad-port",
        "not-a-duration",
        "too-seldom",
        "body-too-long",
        "unknown-grade",
        "unknown-treaty",
    ],
)
def test_a_calendar_refused_says_why_in_one_line_and_registers_nothing(
    home: Path, url: str, given: list[str], refusal: str
):
    args = [word.format(url=url) for word in given]
    result = tracker(home, "source", "add-calendar", *args)

    assert result.returncode == 2
    assert result.stderr.startswith(refusal), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert calendars(home) == []


def test_a_calendar_registered_twice_is_refused(home: Path, url: str):
    run(home, "source", "add-calendar", url)
    result = tracker(home, "source", "add-calendar", url)

    assert result.returncode == 2
    assert "registered already" in result.stderr
    assert len(calendars(home)) == 1


def test_healthz_names_a_failing_calendar_and_is_degraded(
    session_factory: sessionmaker[Session], engine: Engine, tmp_path: Path, url: str, served: Served
):
    with transaction(session_factory) as session:
        register(session, url, now=CURRENT_TIME)
    served.mode = "error"
    later = CURRENT_TIME + timedelta(minutes=1)
    [outcome] = poller.poll_due(session_factory, FixedClock(later))
    assert not outcome.ok
    database_url = engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)

    with TestClient(create_app(settings, session_factory, FixedClock(later))) as client:
        health = client.get("/healthz").json()
        metrics = client.get("/metrics").text

    assert health["status"] == "degraded"
    assert (
        f"calendar {url} failing (1 in a row): HTTP 500 Internal Server Error"
        in (health["problems"])
    )
    assert health["calendars_failing"] == [
        {
            "url": url,
            "failures": 1,
            "last_error": "HTTP 500 Internal Server Error",
            "checked_at": later.isoformat(),
            "last_ok_at": None,
        }
    ]
    assert "tracker_calendars_failing 1.0" in metrics
