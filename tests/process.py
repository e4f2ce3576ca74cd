"""Running the real `tracker` command, as a user would, in a home of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def tracker_env(home: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment without TRACKER_* settings, data kept under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_DATA_DIR"] = str(home / "var")
    env.update(overrides)
    return env


def tracker(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        cwd=home,
        env=tracker_env(home, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    """A port free right now (aiosmtpd and uvicorn here need an explicit one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
