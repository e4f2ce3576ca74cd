"""``tracker feed build``, and the rss/ics publishers it hands what the feeds show."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from tracker.cli.main import cli
from tracker.files import write_if_changed
from tracker.notifiers.feeds import FeedEntry, FeedTreaty, Publication
from tracker.notifiers.ics import IcsPublisher
from tracker.notifiers.registry import load_notifiers
from tracker.notifiers.rss import RssPublisher
from tracker.publish.build import build_feeds
from tracker.publish.state import STATE_FILE

from .conftest import Schedule, later


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


def test_rss_and_ics_are_publisher_plugins_given_what_they_write(
    schedule: Schedule, database_url: str
) -> None:
    settings = schedule.settings.model_copy(update={"database_url": database_url})
    loaded = load_notifiers(settings, ["rss", "ics"])
    assert loaded.notifiers == [] and loaded.problems == []
    assert sorted(type(p).__name__ for p in loaded.publishers) == ["IcsPublisher", "RssPublisher"]
    publication = Publication(
        title="Tracker",
        base_url="http://h/",
        treaties=[FeedTreaty("inf", "INF Treaty", "INF")],
        entries=[FeedEntry("urn:x", "alert", "INF expires", "Soon", "http://h/x", later(1), "inf")],
    )
    rss = RssPublisher().publish(publication)
    assert sorted(rss) == ["atom.xml", "feed.xml", "treaties/inf.xml"]
    assert feedparser.parse(rss["treaties/inf.xml"]).entries[0].title == "INF expires"
    assert sorted(IcsPublisher().publish(publication)) == ["calendar.ics", "treaties/inf.ics"]
    loaded.close()


def test_a_build_publishes_with_the_publishers_it_is_given(schedule: Schedule) -> None:
    with schedule.sessions() as session:
        report = build_feeds(
            session, schedule.settings, schedule.out, publishers=[RssPublisher()], as_of=later(0)
        )
    assert report.rendered == ["rss", "board"]
    assert sorted(p.name for p in schedule.out.iterdir()) == [
        STATE_FILE,
        "atom.xml",
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


def test_a_build_after_an_edit_renders_again_and_an_unchanged_one_does_not(
    schedule: Schedule,
) -> None:
    from tracker.catalog import editing

    assert schedule.build().rendered != []
    assert schedule.build().rendered == []
    fields = editing.DeadlineFields.parse(due="2026-02-06")
    schedule.edit(lambda s: editing.edit(s, "new-start-expiry", fields, now=later(1)))
    report = schedule.build()
    assert schedule.out / "feed.xml" in report.written


def test_a_failure_midway_through_a_build_replaces_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker import files as writer

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
