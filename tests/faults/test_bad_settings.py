"""Bad settings: a one-line error naming the key, exit 2, and secrets never printed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli.main import cli, describe

SECRET = "s3cret-Pa55"


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The CLI in-process, with the one-line error handling of ``tracker.cli.main.main``."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, **env: str) -> Outcome:
        result = CliRunner().invoke(cli, list(args), env={"TRACKER_DATA_DIR": "var", **env})
        if isinstance(result.exception, Exception) and not isinstance(result.exception, SystemExit):
            code, message = describe(result.exception)
            return Outcome(code, result.stdout, f"error: {message}\n")
        return Outcome(result.exit_code, result.stdout, "")

    return invoke


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TRACKER_SMTP__PORTT", "25", "'smtp.portt'"),
        ("TRACKER_SMTP__PORT", "twenty-five", "'smtp.port'"),
        ("TRACKER_DELIVERY__FIRST_RETRY_SECONDS", "-1", "'delivery.first_retry_seconds'"),
        ("TRACKER_DATABASE_URL", f"postgresq+psycopg://ana:{SECRET}@db/tracker", "'database_url'"),
        ("TRACKER_DATABASE_URL", f"ana:{SECRET}@db/tracker", "'database_url'"),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "url-driver-typo", "url-not-a-url"],
)
def test_a_bad_setting_is_one_line_naming_the_key_and_never_the_password(
    run, variable: str, value: str, named: str
) -> None:
    result = run("countdown", **{variable: value})

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: setting ") and named in line
    assert SECRET not in result.stderr + result.stdout


def test_an_unreachable_database_is_one_line_pointing_at_the_setting(run) -> None:
    url = f"postgresql+psycopg://ana:{SECRET}@127.0.0.1:1/tracker"
    result = run("countdown", TRACKER_DATABASE_URL=url)

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "database_url" in line and "tracker init" not in line
    assert SECRET not in result.stderr


def test_config_show_prints_the_settings_with_every_secret_masked(run) -> None:
    result = run(
        "config",
        "show",
        TRACKER_SMTP__HOST="mail.example.org",
        TRACKER_SMTP__PASSWORD=SECRET,
        TRACKER_APPRISE__URLS=f'["ntfy://{SECRET}@ntfy.example.org/arms"]',
        TRACKER_DATABASE_URL=f"postgresql+psycopg://ana:{SECRET}@db/tracker",
    )

    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout
    lines = result.stdout.splitlines()
    assert 'database_url = "postgresql+psycopg://ana:**********@db/tracker"' in lines
    assert 'host = "mail.example.org"' in lines
    assert 'password = "**********"' in lines
    assert 'urls = ["**********"]' in lines
    assert "[smtp]" in lines and "[delivery]" in lines
