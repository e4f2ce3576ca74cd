"""The real daemon on PostgreSQL: it survives a server restart, and of two daemons on one
database exactly one delivers. Needs TRACKER_TEST_DATABASE_URL (and, for the restart,
``pg_ctlcluster`` on this machine)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker import migrations
from tracker.db import make_engine

from ..conftest import POSTGRES_URL, _reset_postgres
from .daemons import SlowMailbox, add_due_alerts, email_deliveries, start, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="set TRACKER_TEST_DATABASE_URL to run"),
]


@pytest.fixture
def url() -> str:
    assert POSTGRES_URL
    _reset_postgres(POSTGRES_URL)
    engine = make_engine(POSTGRES_URL)
    migrations.upgrade(engine)
    engine.dispose()
    return POSTGRES_URL


def postgres_up() -> bool:
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def restart_postgres() -> None:
    clusters = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not shutil.which("pg_ctlcluster") or not clusters:
        pytest.skip("pg_ctlcluster is not available here")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1].name, "main", "restart"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def test_the_daemon_reconnects_after_postgresql_restarts(
    url: str,
    tmp_path: Path,
    mailbox: tuple[SlowMailbox, int],
    daemons: list[subprocess.Popen[bytes]],
) -> None:
    box, port = mailbox
    log = tmp_path / "daemon.log"
    add_due_alerts(url, 0, 2)
    daemon = start(tmp_path, port, log, TRACKER_DATABASE_URL=url)
    daemons.append(daemon)
    assert wait_for(lambda: email_deliveries(url) == (2, 2), 60), log.read_text()

    try:
        restart_postgres()
    finally:
        assert wait_for(postgres_up, 60), "PostgreSQL did not come back"
    # the heartbeat notices the lost lock; the daemon stands by, then takes the lock again
    assert wait_for(lambda: log.read_text().count("active: holding") >= 2, 30), log.read_text()
    add_due_alerts(url, 2, 2)
    daemon.send_signal(signal.SIGHUP)  # a tick now, not at the next 30-second sweep

    assert wait_for(lambda: email_deliveries(url) == (4, 4), 60), log.read_text()
    assert daemon.poll() is None, log.read_text()
    assert sorted(Counter(str(m["Subject"]) for m in box.received).values()) == [1] * 4
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(20) == 0


def settled(log: Path) -> Callable[[], bool]:
    return lambda: "channels:" in log.read_text() or "standing by" in log.read_text()


def test_of_two_daemons_on_one_database_exactly_one_delivers(
    url: str,
    tmp_path: Path,
    mailbox: tuple[SlowMailbox, int],
    daemons: list[subprocess.Popen[bytes]],
) -> None:
    box, port = mailbox
    add_due_alerts(url, 0, 6)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    for log in logs:
        daemons.append(start(tmp_path, port, log, TRACKER_DATABASE_URL=url))

    assert wait_for(lambda: email_deliveries(url) == (6, 6), 60)
    assert all(wait_for(settled(log), 20) for log in logs)
    for daemon in daemons:  # stopped, they send nothing more: the mailbox is final
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(20) == 0
    texts = [log.read_text() for log in logs]
    assert sorted("active: holding" in t for t in texts) == [False, True], texts
    assert sorted("standing by" in t for t in texts) == [False, True], texts
    assert sorted(Counter(str(m["Subject"]) for m in box.received).values()) == [1] * 6
