"""The daemon at rest: memory and CPU while idle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    copy_db,
    tracker_env,
)
from bench.generate import sqlite_url
from bench.harness import Figure, Row


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(path: Path, work: Path, n: int, idle_seconds: float) -> list[Row]:
    copy = copy_db(path, work, "rest")
    home = work / "rest-home"
    home.mkdir(exist_ok=True)
    env = tracker_env(home, sqlite_url(copy))
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "daemon"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Settle: the first tick catches up; at rest is when the CPU stops moving.
        settle_start = time.monotonic()
        last, quiet = _cpu_seconds(process.pid), 0
        while quiet < 3 and time.monotonic() - settle_start < 60:
            time.sleep(1)
            now = _cpu_seconds(process.pid)
            quiet = quiet + 1 if now - last < 0.02 else 0
            last = now
        settle = time.monotonic() - settle_start
        start_cpu, start = _cpu_seconds(process.pid), time.monotonic()
        rss: list[float] = []
        while time.monotonic() - start < idle_seconds:
            time.sleep(min(1.0, idle_seconds))
            rss.append(_rss_mb(process.pid))
        cpu = (_cpu_seconds(process.pid) - start_cpu) / (time.monotonic() - start) * 100
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    rss_fig, cpu_fig = Figure(rss, "MB"), Figure([cpu], "%")
    print(f"rest: {rss_fig.text()} {cpu_fig.text()}", file=sys.stderr, flush=True)
    case = f"N={n:,}, {idle_seconds:.0f} s idle after {settle:.0f} s settling"
    return [
        Row("5 daemon at rest", case + ": RSS", rss_fig, None, "≤ 120 MB", None, max(rss) <= 120),
        Row(
            "5 daemon at rest",
            case + ": CPU",
            cpu_fig,
            None,
            "≤ 1 %",
            None,
            cpu <= 1,
            note=(
                f"includes {int(idle_seconds // 30)} of the 30 s sweeps (quiet ticks: a few "
                "small queries); the hourly re-plan (see the tick rows) is outside the window"
            ),
        ),
    ]
