"""`--confirm-ahead` on deadlines and meetings (#14 item 6): set, shown, cleared; a bad
value is refused with one line and changes nothing. Through the real command in-process."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog.models import Change
from tracker.cli.main import cli, describe
from tracker.errors import TrackerError

AS_OF = ["--as-of", "2026-11-22T09:00:00"]


@pytest.fixture
def run(
    session_factory: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Any:
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, [*AS_OF, *args])

    return invoke


def shown(run: Any, type_: str, slug: str) -> dict[str, Any]:
    result = run(type_, "show", slug, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def changes(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Change)) or 0)


def test_confirm_ahead_is_set_shown_and_cleared(run: Any) -> None:
    added = run("meeting", "add", "SSD plenary", "--starts", "end of September 2027",
                "--slug", "ssd", "--confirm-ahead", "2w")  # fmt: skip
    assert added.exit_code == 0, added.output
    data = shown(run, "meeting", "ssd")
    assert (data["confirm_lead_days"], data["confirmation_due"]) == (14, "2027-09-07")
    text = run("meeting", "show", "ssd").output
    assert "confirm by  2027-09-07" in text

    assert run("meeting", "edit", "ssd", "--confirm-ahead", "none").exit_code == 0
    data = shown(run, "meeting", "ssd")
    assert (data["confirm_lead_days"], data["confirmation_due"]) == (None, None)


def test_a_date_known_to_the_day_has_no_confirmation_due(run: Any) -> None:
    added = run("deadline", "add", "Report", "--due", "2027-03-01", "--slug", "report",
                "--confirm-ahead", "10d")  # fmt: skip
    assert added.exit_code == 0, added.output
    data = shown(run, "deadline", "report")
    assert (data["confirm_lead_days"], data["confirmation_due"]) == (10, None)


@pytest.mark.parametrize("value", ["3h", "0d", "soon", "400d"])
def test_a_bad_confirm_ahead_is_one_line_and_changes_nothing(
    run: Any, session_factory: sessionmaker[Session], value: str
) -> None:
    assert run("meeting", "add", "SSD plenary", "--starts", "October 2027", "--slug", "ssd",
               "--confirm-ahead", "14d").exit_code == 0  # fmt: skip
    before = changes(session_factory)
    result = run("meeting", "edit", "ssd", "--confirm-ahead", value, "--location", "Geneva")
    assert isinstance(result.exception, TrackerError), result.output
    code, line = describe(result.exception)
    assert code != 0 and "\n" not in line and value in line
    assert changes(session_factory) == before
    data = shown(run, "meeting", "ssd")
    assert (data["confirm_lead_days"], data["location"]) == (14, None)


def test_the_option_is_in_the_help(run: Any, now: datetime) -> None:
    for type_ in ("deadline", "meeting"):
        for command in ("add", "edit"):
            assert "--confirm-ahead" in run(type_, command, "--help").output
