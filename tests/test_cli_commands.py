"""The command table: each command loads from its own module, and only that one."""

from __future__ import annotations

import importlib
import subprocess
import sys
from ast import literal_eval

from tracker.cli.main import COMMAND_MODULES


def test_the_command_table_names_every_command_of_every_module():
    defined = {}
    for module_name in set(COMMAND_MODULES.values()):
        module = importlib.import_module(f"tracker.cli.{module_name}")
        defined |= {command.name: module_name for command in module.COMMANDS}
    assert defined == COMMAND_MODULES


def test_running_a_command_imports_no_other_command_module(tmp_path):
    probe = (
        "import sys\nfrom tracker.cli.main import cli\n"
        "import click\ncli.get_command(click.Context(cli), 'countdown')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('tracker.cli.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "LOADED [" in result.stdout, result.stderr
    loaded = {
        name.removeprefix("tracker.cli.") for name in literal_eval(result.stdout.split(" ", 1)[1])
    }
    assert loaded & set(COMMAND_MODULES.values()) == {"board"}


def test_an_unknown_command_is_a_usage_error():
    from click.testing import CliRunner

    from tracker.cli.main import cli

    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_opening_the_database_turns_the_collector_back_on(tmp_path):
    probe = (
        "import gc, sys\nfrom tracker.cli.main import main\n"
        "from tracker.cli import app\n"
        "real = app.App.close\n"
        "def close(self):\n"
        "    print('ENABLED', gc.isenabled(), 'FROZEN', gc.get_freeze_count() > 0)\n"
        "    real(self)\n"
        "app.App.close = close\n"
        f"sys.argv = ['tracker', '--database-url', 'sqlite:///{tmp_path}/t.db', 'db', 'current']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "ENABLED True FROZEN True" in result.stdout, result.stdout + result.stderr


def test_a_command_without_the_database_leaves_the_collector_off_until_exit(tmp_path):
    probe = (
        "import gc, sys\nfrom tracker.cli.main import main\n"
        "sys.argv = ['tracker', 'config', '--help']\n"
        "try:\n    main()\nfinally:\n    print('ENABLED', gc.isenabled())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "ENABLED False" in result.stdout, result.stdout + result.stderr
