"""The daemon's service ends on a stop or a lost lock, whenever either comes: in-process,
``Daemon.run`` on a thread (no signal handlers there) with a lock that says when it is
taken."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import FixedClock
from tracker.daemon.runner import Daemon
from tracker.settings import Settings

from ..conftest import CURRENT_TIME


class Lock:
    description = "the test's lock"

    def __init__(self) -> None:
        self.taken = threading.Event()
        self.held = False
        self.well = True
        self.releases = 0
        self.on_acquire = lambda: None

    def acquire(self) -> bool:
        self.held, self.well = True, True
        self.on_acquire()
        self.taken.set()
        return True

    def healthy(self) -> bool:
        return self.well

    def release(self) -> None:
        self.held = False
        self.releases += 1


def daemon_on(tmp_path: Path, sessions: sessionmaker[Session], lock: Lock) -> Daemon:
    settings = Settings(data_dir=tmp_path)
    return Daemon(
        load_settings=lambda: settings,
        sessions=sessions,
        clock=FixedClock(CURRENT_TIME),
        lock=lock,  # type: ignore[arg-type]  # the DaemonLock protocol's methods
        load_notifiers=lambda _settings: {},
        load_publishers=lambda _settings: [],
    )


def running(daemon: Daemon) -> threading.Thread:
    thread = threading.Thread(target=daemon.run, name="test-daemon")
    thread.start()
    return thread


def test_a_stop_while_the_service_starts_ends_the_daemon(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    lock = Lock()
    daemon = daemon_on(tmp_path, session_factory, lock)
    lock.on_acquire = daemon.stop  # before the worker, the sender and the scheduler exist
    thread = running(daemon)
    thread.join(10)
    assert not thread.is_alive()
    assert (lock.held, lock.releases) == (False, 1)


def test_a_lost_lock_ends_the_service_and_the_daemon_takes_the_lock_again(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    lock = Lock()
    daemon = daemon_on(tmp_path, session_factory, lock)
    thread = running(daemon)
    try:
        assert lock.taken.wait(10)
        lock.taken.clear()
        lock.well = False
        daemon.heartbeat()  # as the scheduler's heartbeat job would
        assert lock.taken.wait(10)
        assert lock.releases == 1
    finally:
        daemon.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert (lock.held, lock.releases) == (False, 2)


def test_a_round_says_when_it_ran_at_most_every_ten_seconds(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    from tracker.catalog import revision

    daemon = daemon_on(tmp_path, session_factory, Lock())
    clock = daemon.clock
    assert isinstance(clock, FixedClock)
    daemon.worker = daemon._make_worker(daemon.load_settings())

    def last_round() -> revision.Stamp:
        with session_factory() as session:
            return revision.stamp(session.connection(), revision.DAEMON_TICK)

    daemon.poll()
    assert last_round() == revision.Stamp(1, CURRENT_TIME)
    clock.advance(timedelta(seconds=5))
    daemon.poll()
    assert last_round().value == 1  # not written again within ten seconds
    clock.advance(timedelta(seconds=5))
    daemon.poll()
    assert last_round() == revision.Stamp(2, CURRENT_TIME + timedelta(seconds=10))
