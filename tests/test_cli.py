"""The real `tracker` process, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from .conftest import POSTGRES_URL
from .process import tracker

pytestmark = pytest.mark.slow  # each test starts the real command: `make check` skips them


def run(home: Path, *args: str, database_url: str | None = None) -> CompletedProcess[str]:
    return tracker(home, *args, **({"TRACKER_DATABASE_URL": database_url} if database_url else {}))


def as_json(result: CompletedProcess[str]) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_countdown_to_new_start_expiry_on_new_years_day(seeded):
    counted = as_json(run(seeded, "--as-of", "2026-01-01", "countdown", "new-start", "--json"))
    [expiry] = [item for item in counted if item["slug"] == "new-start-expiry"]
    assert (expiry["slug"], expiry["kind"], expiry["days_remaining"]) == (
        "new-start-expiry",
        "expiry",
        35,
    )
    assert {
        "slug",
        "title",
        "kind",
        "treaty",
        "earliest",
        "latest",
        "precision",
        "days_remaining",
        "status",
        "human",
    } <= set(expiry)


def test_upcoming_plenaries_in_july_2021_include_the_second_plenary(seeded):
    entries = as_json(
        run(seeded, "--as-of", "2021-07-01", "upcoming", "--kind", "plenary", "--json")
    )
    second = [e for e in entries if e["earliest"].startswith("2021-09")]
    assert second and second[0]["series"] == "US-Russia Strategic Stability Dialogue"
    assert second[0]["earliest"] >= "2021-09-21"


def test_upcoming_month_lists_the_tpnw_review_conference(seeded):
    result = run(seeded, "--as-of", "2026-11-22", "upcoming", "--within", "30d")
    assert result.returncode == 0
    assert "TPNW" in result.stdout and "2026-11-30" in result.stdout


def test_added_deadline_is_listed_with_quarter_precision(home):
    added = run(
        home, "deadline", "add", "Test deadline", "--due", "Q3 2027", "--treaty", "new-start"
    )
    assert added.returncode == 0, added.stderr
    listed = as_json(run(home, "deadline", "list", "--json"))
    [test] = [d for d in listed if d["title"] == "Test deadline"]
    assert (test["precision"], test["treaty"], test["when"]) == ("quarter", "new-start", "Q3 2027")


def test_impossible_date_exits_2_with_one_line_and_adds_nothing(home):
    before = run(home, "deadline", "list", "--all", "--json").stdout
    result = run(home, "deadline", "add", "X", "--due", "31 February 2027")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "day is out of range" in result.stderr
    assert "Traceback" not in result.stderr
    assert run(home, "deadline", "list", "--all", "--json").stdout == before


def test_debug_shows_the_traceback(home):
    result = run(home, "--debug", "deadline", "add", "X", "--due", "31 February 2027")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_unknown_slug_is_a_one_line_error(seeded):
    result = run(seeded, "deadline", "show", "no-such-thing")
    assert result.returncode == 2 and result.stderr.startswith("error: no deadline")


def test_seeding_twice_reports_nothing_changed(home):
    result = run(home, "seed")
    assert result.returncode == 0 and result.stdout.strip() == "seed: nothing changed"


def test_editing_a_meeting_shows_in_its_history(home):
    moved = run(
        home,
        "meeting",
        "edit",
        "tpnw-revcon-1-2026",
        "--starts",
        "2026-12-01",
        "--source",
        "https://example.org/notice",
    )
    assert moved.returncode == 0, moved.stderr
    shown = run(home, "meeting", "show", "tpnw-revcon-1-2026", "--json")
    changes = as_json(shown)["history"]
    assert changes[-1]["field"] == "starts" and changes[-1]["new"] == "2026-12-01"
    assert changes[-1]["source"]["url"] == "https://example.org/notice"


def test_piped_output_is_plain_text(seeded):
    result = run(seeded, "treaty", "list")
    assert result.returncode == 0
    assert (
        "New START" in result.stdout and "│" not in result.stdout and "\x1b[" not in result.stdout
    )


def test_treaty_show_lists_participation_events(seeded):
    shown = as_json(run(seeded, "treaty", "show", "ctbt", "--json"))
    assert ("RU", "de-ratified", "2023-11-02") in {
        (e["state"], e["event"], e["date"]) for e in shown["events"]
    }


def test_help_does_not_import_the_orm_alembic_or_apscheduler(tmp_path):
    probe = (
        "import sys\nfrom tracker.cli.main import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy.orm', 'alembic', 'apscheduler', 'jinja2', "
        "'feedgen') if m in sys.modules]\nprint('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init"],
        ["seed"],
        ["db"],
        ["db", "upgrade"],
        ["treaty", "add"],
        ["treaty", "list"],
        ["deadline", "add"],
        ["deadline", "list"],
        ["deadline", "edit"],
        ["deadline", "done"],
        ["meeting", "add"],
        ["meeting", "cancel"],
        ["countdown"],
        ["upcoming"],
    ],
)
def test_every_command_has_help(command):
    from click.testing import CliRunner

    from tracker.cli.main import cli

    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.postgres
def test_init_and_countdown_on_postgresql(tmp_path):
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    from .conftest import _reset_postgres

    _reset_postgres(POSTGRES_URL)
    assert run(tmp_path, "init", database_url=POSTGRES_URL).returncode == 0
    [expiry] = as_json(
        run(
            tmp_path,
            "--as-of",
            "2026-01-01",
            "countdown",
            "new-start-expiry",
            "--json",
            database_url=POSTGRES_URL,
        )
    )
    assert expiry["days_remaining"] == 35
