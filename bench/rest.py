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

SETTLE_MAX_SECONDS = 300


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _catch_up(path: Path, work: Path) -> float:
    """Bring the copy up to the real now, as a daemon that had been running would have:
    the data is dated 22 Nov 2026, so alerts fell due since (with 10,000 subscribers, over
    a million deliveries after a fortnight). What fell due is recorded, and its deliveries
    marked sent without mail, so what is measured afterwards is the daemon at rest, not
    weeks of mail going out. The seconds it took."""
    from sqlalchemy import update

    from tracker import plan
    from tracker.clock import SystemClock
    from tracker.db import make_engine, make_session_factory, transaction
    from tracker.outbox.models import Delivery, DeliveryStatus
    from tracker.outbox.worker import Worker
    from tracker.settings import Settings

    engine = make_engine(sqlite_url(path))
    sessions = make_session_factory(engine)
    settings = Settings(database_url=sqlite_url(path), data_dir=work / "rest-home")
    started = time.monotonic()
    clock = SystemClock()  # the bench is an edge: it may read the wall clock
    Worker(sessions, settings, clock, {}).record()
    with transaction(sessions) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.SENT.value, sent_at=clock.now())
        )
        plan.take(session, clock.now(), [plan.Work.DELIVERY.value])
    engine.dispose()
    return time.monotonic() - started


def run(path: Path, work: Path, n: int, idle_seconds: float) -> list[Row]:
    copy = copy_db(path, work, "rest")
    caught_up = _catch_up(copy, work)
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
        # Settle: the first round catches up (the data is dated 22 Nov 2026 and the daemon
        # reads the real clock, so the later the run, the more alerts fell due meanwhile);
        # at rest is when the CPU stops moving.
        settle_start = time.monotonic()
        last, quiet = _cpu_seconds(process.pid), 0
        while quiet < 3 and time.monotonic() - settle_start < SETTLE_MAX_SECONDS:
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
    case = (
        f"N={n:,}, {idle_seconds:.0f} s idle after {settle:.0f} s settling "
        f"(outbox caught up to now first: {caught_up:.0f} s)"
    )
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
                f"includes {int(idle_seconds)} of the looks at the plan, one a second (a quiet "
                "one is one indexed query); the daily re-plan (see the tick rows) is outside "
                "the window"
            ),
        ),
    ]
