"""A non-editable install finds alembic/, config/ and seeds/ inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO


def test_wheel_ships_migrations_config_and_seeds_and_runs_elsewhere(tmp_path: Path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("tracker-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "tracker/_resources/alembic/env.py",
        "tracker/_resources/config/tracker.toml",
        "tracker/_resources/seeds/30-deadlines.toml",
    } <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["PYTHONPATH"] = str(site)
    # -I would drop PYTHONPATH; -P keeps the unpacked wheel first and the repo off the path.
    probe = [
        sys.executable,
        "-P",
        "-c",
        "import tracker, sys; sys.argv[0] = 'tracker'; "
        "assert tracker.__file__.startswith(sys.argv[-1]), tracker.__file__; "
        "from tracker.cli.main import main; sys.argv = sys.argv[:1] + sys.argv[1:-1]; main()",
    ]
    init = subprocess.run(
        [*probe, "init", str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    countdown = subprocess.run(
        [*probe, "--as-of", "2026-01-01", "countdown", "new-start", "--json", str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(countdown.stdout)[0]["days_remaining"] == 35
    assert (elsewhere / "var" / "tracker.db").is_file()
