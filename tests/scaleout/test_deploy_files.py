"""The deployment files in deploy/: the units and the compose file run real commands.

Each unit's ExecStart and each compose service's command is a ``tracker`` subcommand
that exists, with options it takes (asked of the real CLI with ``--help``); every
TRACKER_* variable they set is a setting; the units pass ``systemd-analyze verify`` where
systemd is installed; the compose file runs the roles the README describes on one
PostgreSQL and a mail catcher.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from tracker.settings import Settings

from ..conftest import REPO
from ..process import tracker

DEPLOY = REPO / "deploy"
UNITS = sorted(DEPLOY.glob("*@.service"))
INSTALLED = "/opt/tracker/.venv/bin/tracker"  # where the units expect the venv


def unit_entries(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> values in order (a unit may repeat a key), comments skipped."""
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return entries


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def tracker_services() -> dict[str, list[str]]:
    """The compose services running the tracker image: name -> command (arguments)."""
    return {
        name: service["command"]
        for name, service in compose()["services"].items()
        if service.get("image") == "tracker:local"
    }


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    """``tracker <subcommand> --help`` of the real CLI, asked once a subcommand."""
    return {}


def help_text(helps: dict[str, str], home: Path, subcommand: str) -> str:
    if subcommand in helps:
        return helps[subcommand]
    result = tracker(home, subcommand, "--help")
    assert result.returncode == 0, f"tracker {subcommand} --help: {result.stderr}"
    helps[subcommand] = result.stdout
    return result.stdout


def assert_runs_a_real_command(helps: dict[str, str], home: Path, arguments: list[str]) -> None:
    subcommand, *rest = arguments
    text = help_text(helps, home, subcommand)
    for option in (a for a in rest if a.startswith("--")):
        assert option in text, f"tracker {subcommand} takes no {option}"


def is_setting(variable: str) -> bool:
    """Whether TRACKER_SECTION__KEY names a field of the settings (nested by ``__``)."""
    model: type[BaseModel] = Settings
    *sections, key = variable.removeprefix("TRACKER_").lower().split("__")
    for name in sections:
        field = model.model_fields.get(name)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return False
        model = annotation
    return key in model.model_fields


def test_there_is_a_template_unit_for_each_role() -> None:
    names = {path.name for path in UNITS}
    assert names == {
        "tracker-planner@.service",
        "tracker-worker@.service",
        "tracker-serve@.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_unit_starts_a_real_tracker_subcommand(
    unit: Path, tmp_path: Path, helps: dict[str, str]
) -> None:
    entries = unit_entries(unit)
    (command,) = entries["Service.ExecStart"]
    binary, *arguments = shlex.split(command)
    assert binary == INSTALLED
    # An instance specifier (%i, %H) stands for a value: give the option one to check.
    assert_runs_a_real_command(helps, tmp_path, arguments)


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_each_unit_is_hardened_restarted_and_reads_its_settings_file(unit: Path) -> None:
    entries = unit_entries(unit)
    assert entries["Service.EnvironmentFile"] == ["/etc/tracker/tracker.env"]
    assert entries["Service.Restart"] == ["on-failure"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert entries[f"Service.{key}"] == [value], key
    assert entries["Service.User"] == ["tracker"]
    assert entries["Install.WantedBy"] == ["tracker.target"]


def test_the_worker_unit_names_each_instance_apart() -> None:
    (command,) = unit_entries(DEPLOY / "tracker-worker@.service")["Service.ExecStart"]
    assert "%i" in command and "%H" in command


def test_the_settings_the_deploy_files_set_are_settings() -> None:
    variables = [
        line.partition("=")[0]
        for line in (DEPLOY / "tracker.env.example").read_text(encoding="utf-8").splitlines()
        if line.startswith("TRACKER_")
    ]
    variables += list(compose()["x-tracker"]["environment"])
    assert "TRACKER_DATABASE_URL" in variables
    unknown = [variable for variable in variables if not is_setting(variable)]
    assert unknown == []


def test_a_misspelt_setting_is_told_from_a_setting() -> None:
    assert is_setting("TRACKER_SMTP__HOST")
    assert not is_setting("TRACKER_SMTP__HOSTNAME")
    assert not is_setting("TRACKER_SMPT__HOST")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd not installed")
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """On copies whose ExecStart is this venv's tracker (verify wants the binary to exist),
    one instance of each template, and the target."""
    real = shutil.which("tracker", path=str(Path(sys.executable).parent))
    assert real, "no tracker script beside this Python"
    for source in [*UNITS, DEPLOY / "tracker.target"]:
        text = source.read_text(encoding="utf-8").replace(INSTALLED, real)
        text = text.replace("/etc/tracker/tracker.env", str(DEPLOY / "tracker.env.example"))
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    instances = [str(tmp_path / path.name.replace("@.", "@1.")) for path in UNITS]
    result = subprocess.run(
        ["systemd-analyze", "verify", *instances, str(tmp_path / "tracker.target")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    complaints = [line for line in result.stderr.splitlines() if str(tmp_path) in line]
    assert result.returncode == 0 and complaints == [], result.stderr


def test_compose_runs_planners_two_workers_and_two_web_servers_on_one_postgresql(
    tmp_path: Path, helps: dict[str, str]
) -> None:
    services = compose()["services"]
    commands = tracker_services()
    roles = sorted(" ".join(command[:1] + command[1:3]) for command in commands.values())
    assert roles.count("daemon --role planner") >= 1
    assert sum(command[0] == "worker" for command in commands.values()) == 2
    assert sum(command[0] == "serve" for command in commands.values()) == 2
    for command in commands.values():
        assert_runs_a_real_command(helps, tmp_path, command)
    workers = [
        command[command.index("--name") + 1]
        for command in commands.values()
        if command[0] == "worker"
    ]
    assert len(set(workers)) == len(workers), "two workers share a name"
    published = [
        port
        for name, command in commands.items()
        if command[0] == "serve"
        for port in services[name]["ports"]
    ]
    assert len(set(published)) == 2
    assert services["postgres"]["image"].startswith("postgres:")
    assert "mail" in services
    settings = compose()["x-tracker"]["environment"]
    assert settings["TRACKER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert settings["TRACKER_DATABASE_URL"].split("@")[1].startswith("postgres:")
    assert settings["TRACKER_SMTP__HOST"] == "mail"


def test_every_role_waits_for_the_schema() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["init"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in tracker_services():
        if name != "migrate":
            condition = services[name]["depends_on"]["migrate"]["condition"]
            assert condition == "service_completed_successfully", name
