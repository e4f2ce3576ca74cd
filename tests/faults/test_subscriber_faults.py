"""Addresses checked on the way in (email-validator, no DNS), suspension shown and lifted,
and `tracker alerts status`, through the real CLI in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker.cli.main import cli, describe
from tracker.db import make_engine, make_session_factory, transaction
from tracker.errors import TrackerError
from tracker.outbox import transports

AS_OF = "2026-12-03"


def invoke(home: Path, *args: str, **env: str) -> Result:
    environment = {"TRACKER_DATA_DIR": str(home / "var"), "TRACKER_DATABASE_URL": ""} | env
    return CliRunner().invoke(cli, ["--as-of", AS_OF, *args], env=environment)


def refused(result: Result) -> str:
    assert isinstance(result.exception, TrackerError), result.output
    code, line = describe(result.exception)
    assert code != 0 and "\n" not in line
    return line


def listed(home: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(invoke(home, "subscriber", "list", "--json").output)
    return {row["email"]: row for row in rows}


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("ann@example..org", "two periods in a row"),
        ("ann@exämple.org", "SMTPUTF8"),
        ("änn@example.org", "SMTPUTF8"),
        ("ann@localhost", "period"),
        ("ann example.org", "@"),
        ("", "not an email address"),
    ],
)
def test_a_bad_address_is_refused_with_one_line_and_nothing_written(
    home: Path, address: str, why: str
) -> None:
    before = listed(home)
    line = refused(invoke(home, "subscriber", "add", address))
    assert why in line and repr(address) in line
    assert listed(home) == before


def test_an_internationalised_address_is_taken_once_the_server_announces_smtputf8(
    home: Path,
) -> None:
    result = invoke(home, "subscriber", "add", "Ann@Exämple.org", TRACKER_SMTP__SMTPUTF8="true")
    assert result.exit_code == 0, result.output
    assert "ann@exämple.org" in listed(home)


def test_a_suspended_subscriber_is_listed_as_such_until_resumed(home: Path) -> None:
    assert invoke(home, "subscriber", "add", "bob@example.org").exit_code == 0
    engine = make_engine(f"sqlite:///{home / 'var' / 'tracker.db'}")
    with transaction(make_session_factory(engine)) as session:
        from tracker.alerts import subscribers

        sub = subscribers.get(session, "bob@example.org")
        sub.bounces, sub.suspended_at = 3, datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    engine.dispose()

    row = listed(home)["bob@example.org"]
    assert (row["bounces"], row["suspended_at"]) == (3, "2026-12-02T10:00:00+00:00")
    assert "suspended since 2026-12-02T10:00 (3 bounces)" in " ".join(
        invoke(home, "subscriber", "list").output.split()
    )
    result = invoke(home, "subscriber", "edit", "bob@example.org", "--resume")
    assert result.exit_code == 0, result.output
    row = listed(home)["bob@example.org"]
    assert (row["bounces"], row["suspended_at"]) == (0, None)


def test_alerts_status_shows_each_transport_its_state_and_its_backlog(home: Path) -> None:
    fine = json.loads(invoke(home, "alerts", "status", "--json").output)
    email = next(row for row in fine if row["transport"] == "email")
    assert (email["state"], email["pending"], email["last_success_at"]) == ("ok", 0, None)

    engine = make_engine(f"sqlite:///{home / 'var' / 'tracker.db'}")
    since = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    with engine.begin() as connection:
        from tracker.settings import DeliverySettings

        transports.fault(connection, "email", "SMTP 535 bad credentials", since, DeliverySettings())
    engine.dispose()
    rows = json.loads(invoke(home, "alerts", "status", "--json").output)
    email = next(row for row in rows if row["transport"] == "email")
    assert email["state"] == "paused" and email["paused_since"] == since.isoformat()
    assert email["last_error"] == "SMTP 535 bad credentials"
    human = " ".join(invoke(home, "alerts", "status").output.split())
    assert "paused since 2026-12-02T10:00" in human and "535" in human
