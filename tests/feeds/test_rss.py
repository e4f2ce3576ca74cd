"""RSS 2.0 and Atom feeds: valid, stable GUIDs, byte-identical when nothing changed."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import feedparser

from tracker.catalog import editing
from tracker.outbox.notices import Channels, NewNotice, record
from tracker.publish.state import STATE_FILE

from .conftest import HOSTILE, Schedule, later


def parse(path: os.PathLike[str]) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(os.fspath(path))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def move_plenary(schedule: Schedule, to: str, days: int = 1) -> None:
    fields = editing.MeetingFields.parse(starts=f"{to}T09:00", ends=f"{to}T17:00")
    schedule.edit(lambda s: editing.edit(s, "ssd-plenary", fields, now=later(days)))


def test_rss_and_atom_parse_cleanly_newest_first(schedule: Schedule) -> None:
    schedule.build()
    rss, atom = parse(schedule.out / "feed.xml"), parse(schedule.out / "atom.xml")

    assert rss.version == "rss20" and atom.version == "atom10"
    titles = [e.title for e in rss.entries]
    assert titles[0] == f"New meeting: {HOSTILE} (2026-12-10)"
    assert titles[-1] == "New deadline: New START expires (2026-02-05)"
    assert [e.title for e in atom.entries] == titles
    for entry in rss.entries:
        assert entry.id.startswith("urn:uuid:") and entry.guidislink is False
        assert entry.link.startswith("http://127.0.0.1:8040/")
    assert b'isPermaLink="false"' in (schedule.out / "feed.xml").read_bytes()


def test_an_entry_keeps_its_guid_across_rebuilds_and_changes(schedule: Schedule) -> None:
    schedule.build()
    before = {e.title: e.id for e in parse(schedule.out / "feed.xml").entries}
    move_plenary(schedule, "2021-09-30")
    schedule.build()
    after = parse(schedule.out / "feed.xml").entries

    new = [e.title for e in after if e.id not in before.values()]
    assert sorted(new) == [
        "Strategic Stability Dialogue plenary: end moved from 2021-07-28T17:00 to 2021-09-30T17:00",
        "Strategic Stability Dialogue plenary: start moved from 2021-07-28T09:00 Europe/Geneva"
        " to 2021-09-30T09:00",
    ]
    assert {e.title: e.id for e in after if e.title not in new} == before


def test_an_unchanged_rebuild_leaves_bytes_and_mtime_alone(schedule: Schedule) -> None:
    first = schedule.build()
    assert first.unchanged == []
    old = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    for path in first.written:
        os.utime(path, (old, old))
    contents = {path: path.read_bytes() for path in first.written}

    second = schedule.build()

    assert second.written == [] and sorted(second.unchanged) == sorted(first.written)
    for path, content in contents.items():
        assert path.read_bytes() == content and path.stat().st_mtime == old
    temporary = [p for p in schedule.out.rglob(".*") if p.is_file() and p.name != STATE_FILE]
    assert not temporary


def test_the_feed_date_is_the_newest_entry_not_the_clock(schedule: Schedule) -> None:
    move_plenary(schedule, "2021-09-30", days=3)
    schedule.build()
    rss, atom = parse(schedule.out / "feed.xml"), parse(schedule.out / "atom.xml")

    newest = later(3)
    assert rss.feed.updated_parsed[:6] == newest.timetuple()[:6]
    assert atom.feed.updated_parsed[:6] == newest.timetuple()[:6]
    assert rss.entries[0].published_parsed[:6] == newest.timetuple()[:6]


def test_at_most_max_entries_are_kept(schedule: Schedule) -> None:
    schedule.settings.feeds.max_entries = 2
    schedule.build()
    assert len(parse(schedule.out / "feed.xml").entries) == 2
    assert len(parse(schedule.out / "atom.xml").entries) == 2


def test_each_treaty_has_a_feed_of_its_own(schedule: Schedule) -> None:
    schedule.build()
    new_start = parse(schedule.out / "treaties" / "new-start.xml")
    inf = parse(schedule.out / "treaties" / "inf.xml")

    assert {e.title.split(":")[0] for e in new_start.entries} == {"New deadline", "New meeting"}
    assert not any("Договор" in e.title for e in new_start.entries)
    assert [e.title for e in inf.entries] == [f"New meeting: {HOSTILE} (2026-12-10)"]


def test_hostile_titles_are_escaped_in_the_xml_and_intact_when_read(schedule: Schedule) -> None:
    schedule.build()
    raw = (schedule.out / "feed.xml").read_bytes()
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    assert "Договор СНВ-III".encode() in raw
    entries = parse(schedule.out / "feed.xml").entries
    assert entries[0].title == f"New meeting: {HOSTILE} (2026-12-10)"


def test_control_characters_and_line_breaks_cannot_break_the_feed(schedule: Schedule) -> None:
    from tracker.notifiers.feeds import FeedEntry
    from tracker.notifiers.rss import FeedMeta, render

    entry = FeedEntry("x", "alert", "Line one\r\nLine two\x00\x1b", "a\rb", "http://h/", later(0))
    meta = FeedMeta("T", "D", "http://h/", "http://h/feed.xml", "http://h/atom.xml")
    rss, atom = render(meta, [entry])
    for document in (rss, atom):
        parsed = feedparser.parse(document)
        assert parsed.bozo == 0
        assert parsed.entries[0].title == "Line one Line two"


def test_public_alerts_from_the_outbox_appear_in_the_feed(schedule: Schedule) -> None:
    alert = NewNotice(
        identity="alert:deadline:new-start-expiry:7d:2026-02-05",
        kind="alert",
        title="New START expires in 7 days",
        body="Due 2026-02-05.",
        due_at=later(4),
        subject_type="deadline",
        subject_slug="new-start-expiry",
        treaty_slug="new-start",
    )
    private = NewNotice(
        identity="alert:private", kind="alert", title="Only for Ana", body="x", due_at=later(5)
    )
    schedule.edit(lambda s: record(s, alert, [], Channels(), now=later(4), public=True))
    schedule.edit(lambda s: record(s, private, [], Channels(), now=later(5)))
    schedule.build()

    [first, *_] = parse(schedule.out / "feed.xml").entries
    assert first.title == "New START expires in 7 days"
    assert first.link == "http://127.0.0.1:8040/deadlines/new-start-expiry"
    titles = [e.title for e in parse(schedule.out / "treaties" / "new-start.xml").entries]
    assert "New START expires in 7 days" in titles and "Only for Ana" not in titles


def test_a_treaty_feed_is_its_share_of_the_newest_entries(schedule: Schedule) -> None:
    schedule.settings.feeds.max_entries = 2
    schedule.build()
    assert [e.title for e in parse(schedule.out / "treaties" / "inf.xml").entries] == [
        f"New meeting: {HOSTILE} (2026-12-10)"
    ]
    for n in (1, 2):
        alert = NewNotice(
            identity=f"alert:new-start:{n}",
            kind="alert",
            title=f"New START alert {n}",
            body="Soon.",
            due_at=later(n),
            treaty_slug="new-start",
        )
        schedule.edit(
            lambda s, alert=alert, n=n: record(s, alert, [], Channels(), now=later(n), public=True)
        )
    schedule.build()

    titles = [e.title for e in parse(schedule.out / "feed.xml").entries]
    assert titles == ["New START alert 2", "New START alert 1"]
    assert parse(schedule.out / "treaties" / "inf.xml").entries == []
