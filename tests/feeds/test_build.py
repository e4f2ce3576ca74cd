"""``tracker feed build`` and the rss/ics notifiers, which deliver by rebuilding."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from tracker.cli.main import cli
from tracker.notifiers.ics import IcsNotifier
from tracker.notifiers.registry import load_notifiers
from tracker.notifiers.rss import RssNotifier
from tracker.publish.state import STATE_FILE
from tracker.publish.writer import write_if_changed

from ..notifiers.messages import alert, digest
from .conftest import Schedule


def test_feed_build_writes_every_feed_into_the_chosen_directory(
    schedule: Schedule, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    args = [
        "--database-url",
        database_url,
        "--as-of",
        "2026-11-22",
        "feed",
        "build",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, args, env={"TRACKER_DATA_DIR": str(tmp_path / "var")})
    assert result.exit_code == 0, result.output
    assert f"{out}: 8 written, 0 unchanged" in result.output
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        STATE_FILE,
        "atom.xml",
        "calendar.ics",
        "feed.xml",
        "index.html",
        "treaties/inf.ics",
        "treaties/inf.xml",
        "treaties/new-start.ics",
        "treaties/new-start.xml",
    ]

    again = CliRunner().invoke(cli, args, env={"TRACKER_DATA_DIR": str(tmp_path / "var")})
    assert "0 written, 8 unchanged" in again.output


def test_the_feed_notifiers_rebuild_their_own_files(
    schedule: Schedule, session_factory: sessionmaker[Session]
) -> None:
    settings = schedule.settings
    rss, ics = RssNotifier(settings, session_factory), IcsNotifier(settings, session_factory)
    rss.deliver(alert())
    assert (settings.feed_dir / "feed.xml").exists()
    assert not (settings.feed_dir / "calendar.ics").exists()
    ics.deliver(alert())
    assert (settings.feed_dir / "calendar.ics").exists()

    before = (settings.feed_dir / "feed.xml").stat().st_mtime_ns
    rss.deliver(digest())  # a personal digest does not touch the public feeds
    assert (settings.feed_dir / "feed.xml").stat().st_mtime_ns == before
    assert feedparser.parse(str(settings.feed_dir / "feed.xml")).bozo == 0


def test_the_feed_notifiers_load_from_settings_with_their_own_engine(
    schedule: Schedule, database_url: str
) -> None:
    settings = schedule.settings.model_copy(update={"database_url": database_url})
    loaded = load_notifiers(settings, ["rss", "ics"])
    for notifier in loaded.notifiers:
        notifier.deliver(alert())
    loaded.close()
    assert sorted(p.name for p in settings.feed_dir.iterdir()) == [
        STATE_FILE,
        "atom.xml",
        "calendar.ics",
        "feed.xml",
        "index.html",
        "treaties",
    ]


def test_a_file_is_replaced_only_when_its_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "feed.xml"
    assert write_if_changed(path, b"one") is True
    inode = path.stat().st_ino
    assert write_if_changed(path, b"one") is False
    assert path.stat().st_ino == inode
    assert write_if_changed(path, b"two") is True
    assert path.read_bytes() == b"two" and path.stat().st_ino != inode
    assert [p.name for p in path.parent.iterdir()] == ["feed.xml"]


def test_a_batch_of_deliveries_rebuilds_once_until_something_changes(
    schedule: Schedule, session_factory: sessionmaker[Session]
) -> None:
    from tracker.catalog import editing

    from .conftest import later

    rss = RssNotifier(schedule.settings, session_factory)
    assert rss.rebuild() is not None
    assert rss.rebuild() is None
    fields = editing.DeadlineFields.parse(due="2026-02-06")
    schedule.edit(lambda s: editing.edit_deadline(s, "new-start-expiry", fields, now=later(1)))
    report = rss.rebuild()
    assert report is not None and schedule.settings.feed_dir / "feed.xml" in report.written


def test_a_new_day_rebuilds_the_board_even_when_no_row_changed(
    schedule: Schedule, session_factory: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    from tracker.clock import FixedClock

    from ..conftest import CURRENT_TIME

    clock = FixedClock(CURRENT_TIME)
    rss = RssNotifier(schedule.settings, session_factory, clock)
    board = schedule.settings.feed_dir / "index.html"
    assert rss.rebuild() is not None
    first = board.read_bytes()
    clock.advance(timedelta(hours=3))
    assert rss.rebuild() is None  # same day, same rows: nothing to do
    clock.advance(timedelta(days=1))
    report = rss.rebuild()
    assert report is not None and board in report.written
    assert board.read_bytes() != first


def test_a_failure_midway_through_a_build_replaces_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.publish import writer

    files = {tmp_path / name: b"old " + name.encode() for name in ("a.xml", "b.xml", "c.xml")}
    for path, content in files.items():
        write_if_changed(path, content)
    real_fdopen = os.fdopen
    opened: list[int] = []

    def third_fails(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        if len(opened) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(*args, **kwargs)

    monkeypatch.setattr(writer.os, "fdopen", third_fails)
    with pytest.raises(OSError):
        writer.write_changed({path: b"new" for path in files})
    assert {path: path.read_bytes() for path in files} == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xml", "b.xml", "c.xml"]
