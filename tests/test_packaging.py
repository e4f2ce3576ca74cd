"""A non-editable ``pip install .`` into a fresh venv runs from any directory: the wheel
carries alembic/, config/ and seeds/ inside the package."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import REPO
from .faults.daemons import wait_for
from .process import tracker_env

pytestmark = pytest.mark.slow


def installed(tmp_path: Path) -> Path:
    """A fresh venv with the repository pip-installed (built as a wheel, not editable).
    Its dependencies are this environment's, through a .pth file: no network needed."""
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = (venv / "lib").glob("python3*/site-packages")
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    options = ["--no-deps", "--no-build-isolation", "--no-cache-dir", "--quiet"]
    built = subprocess.run(
        [*pip, "install", *options, str(REPO)], capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    return venv / "bin" / "tracker"


def test_pip_install_then_init_countdown_and_daemon_from_another_directory(
    tmp_path: Path,
) -> None:
    command = installed(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = f"sqlite:///{tmp_path / 't.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "--database-url", database, *args],
            cwd=elsewhere,
            env=tracker_env(elsewhere),
            capture_output=True,
            text=True,
            timeout=120,
        )

    init = run("init")
    assert init.returncode == 0, init.stderr
    assert "database ready at revision" in init.stdout
    countdown = run("--as-of", "2026-01-01", "countdown", "new-start", "--json")
    counted = {item["slug"]: item for item in json.loads(countdown.stdout)}
    assert counted["new-start-expiry"]["days_remaining"] == 35
    refused = run("db", "revision", "-m", "from an installed copy")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: `tracker db revision` writes into a source")
    assert "_resources/alembic" in refused.stderr and len(refused.stderr.splitlines()) == 1

    log = tmp_path / "daemon.log"
    with log.open("wb") as handle:
        daemon = subprocess.Popen(
            [str(command), "--database-url", database, "daemon"],
            cwd=elsewhere,
            env=tracker_env(elsewhere),
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
    try:
        assert wait_for(lambda: "channels:" in log.read_text() or daemon.poll() is not None, 30)
        assert daemon.poll() is None, log.read_text()
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(20) == 0, log.read_text()
