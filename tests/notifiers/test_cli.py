"""``tracker notifiers`` and ``tracker notifiers test NAME``."""

from __future__ import annotations

import json
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli.main import cli

from .plugins import install_test_plugin


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path / "var"))
    return CliRunner()


def test_notifiers_lists_the_built_ins_and_an_installed_plugin_with_its_problems(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install_test_plugin(monkeypatch, tmp_path / "site")
    result = runner.invoke(cli, ["notifiers", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}

    assert {"email", "rss", "ics", "apprise", "postcard", "broken-import"} <= set(rows)
    assert rows["email"]["configured"] and rows["email"]["audience"] == "subscriber"
    assert rows["apprise"]["configured"] is False and rows["apprise"]["problem"] is None
    assert rows["postcard"]["origin"] == "tracker-test-plugin 1.0"
    assert rows["unconfigured"]["configured"] is False
    assert "ModuleNotFoundError" in rows["broken-import"]["problem"]

    table = runner.invoke(cli, ["notifiers"])
    assert table.exit_code == 0
    assert "broken" in table.output and "postcard" in table.output


def test_notifiers_test_sends_a_test_message_through_a_plugin(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install_test_plugin(monkeypatch, tmp_path / "site")
    import tracker_test_plugin  # type: ignore[import-not-found]

    result = runner.invoke(cli, ["--as-of", "2026-11-22", "notifiers", "test", "postcard"])
    assert result.exit_code == 0, result.output
    assert "postcard: test message sent to fridge-door" in result.output
    _, message = tracker_test_plugin.DELIVERED[-1]
    assert message.kind == "test" and "postcard" in message.text
    assert message.recipient.address == "fridge-door"  # its one service, by name


def test_notifiers_test_email_without_smtp_writes_an_eml_file(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["notifiers", "test", "email", "--to", "ana@example.org"])
    assert result.exit_code == 0, result.output
    [eml] = (tmp_path / "var" / "outbox").glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert mail["To"] == "ana@example.org"
    assert mail["Subject"] == "Test message from the arms control treaty tracker"


def test_notifiers_test_refuses_an_unknown_name_and_email_without_recipient(
    runner: CliRunner,
) -> None:
    from tracker.cli.main import describe

    unknown = runner.invoke(cli, ["notifiers", "test", "pigeon"])
    assert describe(unknown.exception)[0] == 2  # type: ignore[arg-type]
    assert "no notifier named 'pigeon'" in str(unknown.exception)
    missing = runner.invoke(cli, ["notifiers", "test", "email"])
    assert "give --to EMAIL" in str(missing.exception)


def test_tracker_help_imports_no_feed_or_template_library() -> None:
    code = (
        "import sys\nfrom tracker.cli.main import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = {'feedgen', 'icalendar', 'jinja2', 'apprise', 'smtplib', 'sqlalchemy.orm'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
