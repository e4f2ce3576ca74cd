from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracker.daemon.lock import AdvisoryLock, FileLock, lock_for


def test_a_second_file_lock_waits_until_the_first_is_released(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "db.lock"), FileLock(tmp_path / "db.lock")
    assert first.acquire() and first.healthy()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_sqlite_locks_beside_the_database_file(tmp_path: Path) -> None:
    lock = lock_for(f"sqlite:///{tmp_path}/tracker.db", tmp_path)
    assert isinstance(lock, FileLock) and lock.path == tmp_path / "tracker.db.daemon.lock"


@pytest.mark.postgres
def test_one_advisory_lock_per_postgres_database() -> None:
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    first, second = AdvisoryLock(url), AdvisoryLock(url)
    try:
        assert first.acquire() and first.healthy()
        assert not second.acquire()
        first.release()
        assert second.acquire()
    finally:
        first.release()
        second.release()
