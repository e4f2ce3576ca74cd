"""Database faults in-process: a SQLite database held by another writer, and a PostgreSQL
server that cannot be reached when the daemon asks for its lock."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.daemon.lock import AdvisoryLock
from tracker.db import transaction

from ..alerts.helpers import RecordingNotifier, add_subscriber, make_worker
from ..factories import make_deadline
from ..notifiers.conftest import free_port

HELD = 0.5


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_tick_waits_out_another_sqlite_writer_and_then_does_its_work(
    session_factory: sessionmaker[Session], database_url: str, now: datetime
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Review", due="2026-12-22", slug="review", now=now, alert="30d")
        add_subscriber(session, now=now)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    other.execute("UPDATE subscribers SET name = 'held' WHERE 1 = 0")
    letting_go = threading.Event()

    def let_go() -> None:
        letting_go.set()  # before the commit: the tick may write the instant it lands
        other.commit()

    releaser = threading.Timer(HELD, let_go)
    releaser.start()
    email = RecordingNotifier()
    sent_after_the_other_writer: list[bool] = []
    email.before = lambda message: sent_after_the_other_writer.append(letting_go.is_set())
    try:
        make_worker(session_factory, now, email).tick()
    finally:
        releaser.join()
        other.close()

    assert sent_after_the_other_writer == [True]
    assert email.identities() == ["alert:deadline:review:30d:2026-12-22"]


def test_an_unreachable_postgresql_is_not_a_lock_nor_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = AdvisoryLock(f"postgresql+psycopg://tracker@127.0.0.1:{free_port()}/tracker")
    try:
        assert lock.acquire() is False
        assert lock.healthy() is False
    finally:
        lock.release()
    assert "cannot reach the database for the daemon lock" in caplog.text
