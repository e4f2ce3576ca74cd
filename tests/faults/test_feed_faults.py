"""Feed files under faults: a full disk leaves the previous feed whole, and a reader
polling while feeds are rebuilt never sees half a file."""

from __future__ import annotations

import errno
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker import files as writer
from tracker.clock import FixedClock
from tracker.daemon.lock import lock_for
from tracker.daemon.runner import Daemon
from tracker.files import write_if_changed
from tracker.outbox.worker import Worker

from ..conftest import CURRENT_TIME
from ..factories import make_deadline
from ..feeds.conftest import Schedule


class FullDisk:
    """A file object that takes half of what it is given, then says the disk is full."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def write(self, data: bytes) -> int:
        self.real.write(data[: len(data) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(writer.os, "fdopen", lambda *a, **k: FullDisk(real_fdopen(*a, **k)))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_full_disk_leaves_every_previous_feed_whole_and_no_temporary_file(
    schedule: Schedule, request: pytest.FixtureRequest
) -> None:
    schedule.build()
    before = snapshot(schedule.out)
    schedule.edit(lambda s: make_deadline(s, "Added after", due="2027-01-10", now=CURRENT_TIME))
    request.getfixturevalue("full_disk")

    with pytest.raises(OSError) as full:
        schedule.build()

    assert full.value.errno == errno.ENOSPC
    assert snapshot(schedule.out) == before  # the same files, byte for byte, no .tmp left


def test_the_daemon_logs_a_full_disk_and_keeps_going(
    schedule: Schedule,
    session_factory: sessionmaker[Session],
    full_disk: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = schedule.settings.model_copy(
        update={"feeds": schedule.settings.feeds.model_copy(update={"directory": schedule.out})}
    )
    clock = FixedClock(CURRENT_TIME + timedelta(days=1))
    lock = lock_for(settings.effective_database_url, settings.data_dir)  # never taken here
    daemon = Daemon(lambda: settings, session_factory, clock, lock)
    daemon.worker = Worker(session_factory, settings, clock, {})
    daemon.tick()  # its first tick publishes the feeds

    assert "rebuilding the feeds failed" in caplog.text
    assert "No space left on device" in caplog.text
    assert not list(schedule.out.glob(".*.tmp"))


def test_a_reader_polling_during_rebuilds_sees_only_whole_files(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    versions = [b"<rss>" + bytes([65 + n]) * (400_000 + n * 50_000) + b"</rss>" for n in range(4)]
    write_if_changed(feed, versions[0])
    done = threading.Event()

    def rebuild() -> None:
        for round_ in range(60):
            write_if_changed(feed, versions[round_ % len(versions)])
        done.set()

    writer_thread = threading.Thread(target=rebuild)
    writer_thread.start()
    seen = set()
    reads = 0
    while not done.is_set() or reads < 10:
        content = feed.read_bytes()
        assert content in versions, f"partial file of {len(content)} bytes"
        seen.add(content)
        reads += 1
    writer_thread.join()
    assert len(seen) > 1, "the reader never saw a rebuild"
