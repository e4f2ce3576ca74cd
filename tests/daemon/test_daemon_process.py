"""End to end: the real `tracker daemon` process against a temporary SQLite database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker import migrations
from tracker.alerts.models import Subscriber
from tracker.catalog import revision
from tracker.catalog.models import Deadline
from tracker.db import make_engine, make_session_factory, transaction

from ..faults.daemons import wait_for

pytestmark = pytest.mark.slow
TRACKER = str(Path(sys.executable).parent / "tracker")


def prepare(data: Path) -> str:
    """A deadline whose 1-hour alert falls due a few seconds from now, and a subscriber."""
    engine = make_engine(f"sqlite:///{data / 'tracker.db'}")
    migrations.upgrade(engine)
    now = datetime.now(UTC)
    due = now + timedelta(hours=1, seconds=6)
    text = f"{due:%Y-%m-%dT%H:%M} UTC"
    with transaction(make_session_factory(engine)) as session:
        session.add(
            Subscriber(
                email="ana@example.org",
                immediate=True,
                digest="none",
                tz="UTC",
                treaties=[],
                kinds=[],
                created_at=now,
                confirmed_at=now,
            )
        )
        session.add(
            Deadline(
                slug="soon",
                title="Soon",
                kind="notification",
                due_text=text,
                due_earliest=due.date(),
                due_latest=due.date(),
                due_precision="time",
                due_time=due.time().replace(microsecond=0),
                tz="UTC",
                status="pending",
                alert_leads="1h",
                uid="soon@test",
                sequence=0,
                created_at=now - timedelta(days=1),
                updated_at=now,
            )
        )
    engine.dispose()
    return f"alert:deadline:soon:1h:{text}"


def start(data: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = data / f"{name}.log"
    env = {**os.environ, "TRACKER_DATA_DIR": str(data), "TRACKER_LOG_LEVEL": "INFO"}
    env.pop("TRACKER_DATABASE_URL", None)
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [TRACKER, "daemon"], env=env, stderr=handle, stdout=subprocess.DEVNULL, cwd=data
        )
    return process, log


def emails(data: Path, identity: str) -> list[Path]:
    outbox = data / "outbox"
    if not outbox.is_dir():
        return []
    return [p for p in outbox.rglob("*.eml") if "Subject: Soon" in p.read_text(errors="replace")]


def last_tick(data: Path) -> datetime:
    """When the active daemon last recorded a round (the start of time before any)."""
    engine = make_engine(f"sqlite:///{data / 'tracker.db'}")
    try:
        with engine.connect() as connection:
            stamped = revision.stamp(connection, revision.DAEMON_TICK).changed_at
    finally:
        engine.dispose()
    return stamped or datetime.min.replace(tzinfo=UTC)


def test_an_alert_fires_and_a_standby_daemon_takes_over(tmp_path: Path) -> None:
    identity = prepare(tmp_path)
    first, first_log = start(tmp_path, "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        assert wait_for(lambda: "active" in first_log.read_text(), 30), first_log.read_text()
        second, second_log = start(tmp_path, "second")
        assert wait_for(lambda: "standing by" in second_log.read_text(), 30), second_log.read_text()
        assert wait_for(lambda: len(emails(tmp_path, identity)) == 1, 60), first_log.read_text()
        first.kill()  # kill -9
        first.wait(5)
        killed_at = datetime.now(UTC)
        assert wait_for(lambda: "active" in second_log.read_text(), 30), second_log.read_text()
        # Its first round has run (the tick it stamps comes after the first's death):
        # nothing more is sent.
        assert wait_for(lambda: last_tick(tmp_path) > killed_at, 60), second_log.read_text()
        assert len(emails(tmp_path, identity)) == 1
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0
        assert "released" in second_log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(5)
