from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from tracker import migrations
from tracker.daemon.lock import AdvisoryLock, FileLock, lock_for
from tracker.db import make_engine

from ..conftest import POSTGRES_URL
from ..faults.daemons import start, wait_for
from ..process import free_port


def test_a_second_file_lock_waits_until_the_first_is_released(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "db.lock"), FileLock(tmp_path / "db.lock")
    assert first.acquire() and first.healthy()
    assert not second.acquire()
    assert second.description.endswith(f"held by pid {os.getpid()}")
    first.release()
    assert second.acquire()
    assert "held by" not in second.description
    second.release()


def test_sqlite_locks_beside_the_database_file(tmp_path: Path) -> None:
    lock = lock_for(f"sqlite:///{tmp_path}/tracker.db", tmp_path)
    assert isinstance(lock, FileLock) and lock.path == tmp_path / "tracker.db.daemon.lock"


def test_every_spelling_of_one_sqlite_file_meets_the_same_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "data"
    real.mkdir()
    (real / "tracker.db").touch()
    (tmp_path / "linked-dir").symlink_to(real)
    (tmp_path / "linked.db").symlink_to(real / "tracker.db")
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(real)
    spellings = [
        f"sqlite:///{real}/tracker.db",
        "sqlite:///tracker.db",
        f"sqlite:///{tmp_path}/other/../data/./tracker.db",
        f"sqlite:///{tmp_path}/linked-dir/tracker.db",
        f"sqlite:///{tmp_path}/linked.db",
    ]
    locks = [lock_for(url, tmp_path) for url in spellings]
    assert {lock.path for lock in locks if isinstance(lock, FileLock)} == {
        Path(os.path.realpath(real)) / "tracker.db.daemon.lock"
    }
    first, *others = locks
    assert first.acquire()
    try:
        assert not any(other.acquire() for other in others)
    finally:
        first.release()


@pytest.mark.slow
def test_two_daemons_on_one_sqlite_file_through_a_symlink_one_is_active(
    tmp_path: Path, daemons: list[subprocess.Popen[bytes]]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(f"sqlite:///{data / 'tracker.db'}")
    migrations.upgrade(engine)
    engine.dispose()
    (tmp_path / "linked.db").symlink_to(data / "tracker.db")
    port = free_port()  # nothing is due: no mail is sent
    logs = [tmp_path / "direct.log", tmp_path / "symlinked.log"]
    urls = ["sqlite:///tracker.db", f"sqlite:///{tmp_path / 'linked.db'}"]
    for log, url in zip(logs, urls, strict=True):
        daemons.append(start(data, port, log, TRACKER_DATABASE_URL=url))
        assert wait_for(lambda log=log: _settled(log.read_text()), 30), log.read_text()

    direct, symlinked = (log.read_text() for log in logs)
    assert "active: holding" in direct and "standing by" not in direct, direct
    assert "active: holding" not in symlinked, symlinked
    assert "standing by" in symlinked and f"held by pid {daemons[0].pid}" in symlinked
    for process in daemons:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0


def _settled(log: str) -> bool:
    return "channels:" in log or "standing by" in log


@pytest.mark.postgres
def test_one_advisory_lock_per_postgres_database() -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    first, second = AdvisoryLock(POSTGRES_URL), AdvisoryLock(POSTGRES_URL)
    try:
        assert first.acquire() and first.healthy()
        assert not second.acquire()
        assert f"tracker daemon pid {os.getpid()}" in second.description
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
def test_two_databases_on_one_postgres_server_do_not_block_each_other() -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    url = make_url(POSTGRES_URL)
    other = url.set(database=f"{url.database}_other_tracker")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": other.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{other.database}"'))
    server.dispose()
    first = AdvisoryLock(POSTGRES_URL)
    second = AdvisoryLock(other.render_as_string(hide_password=False))
    try:
        assert first.acquire() and second.acquire()
    finally:
        first.release()
        second.release()
