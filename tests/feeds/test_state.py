"""Skipping an unchanged build: nothing rendered, nothing written; every kind of edit, a
new alert, other settings or a new day rebuilds what shows it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tracker.catalog import editing, queries
from tracker.catalog import treaty_editing as service
from tracker.catalog.sources import Source
from tracker.catalog.treaties import ParticipationEvent
from tracker.notifiers.ics import IcsPublisher
from tracker.notifiers.rss import RssPublisher
from tracker.outbox.notices import Channels, NewNotice, record
from tracker.publish.build import BuildReport, build_feeds
from tracker.publish.state import STATE_FILE
from tracker.views import page

from ..conftest import CURRENT_TIME
from .conftest import Schedule, later

EVERY_PART = ["ics", "rss", "board"]  # the publishers by name, then the board


def build_at(schedule: Schedule, days: float = 0, **settings: object) -> BuildReport:
    chosen = schedule.settings
    if settings:
        feeds = chosen.feeds.model_copy(update=settings)
        chosen = chosen.model_copy(update={"feeds": feeds})
    with schedule.sessions() as session:
        return build_feeds(session, chosen, schedule.out, as_of=CURRENT_TIME + timedelta(days))


def test_an_unchanged_build_renders_nothing_and_writes_nothing(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_at(schedule)
    assert first.rendered == EVERY_PART
    mtimes = {p: p.stat().st_mtime_ns for p in schedule.out.rglob("*") if p.is_file()}

    def refuse(*args: object) -> None:
        raise AssertionError("rendered although nothing changed")

    for publisher in (RssPublisher, IcsPublisher):
        monkeypatch.setattr(publisher, "publish", refuse)
    monkeypatch.setattr(page, "board_page", refuse)
    again = build_at(schedule, days=0.2)  # later the same day

    assert again.rendered == [] and again.written == []
    assert sorted(again.unchanged) == sorted(first.written)
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def _edit_deadline(session: Session) -> None:
    fields = editing.DeadlineFields.parse(due="2026-02-06")
    editing.edit(session, "new-start-expiry", fields, now=later(1))


def _edit_meeting_back_in_time(session: Session) -> None:
    # An edit "as of" an earlier instant: updated_at does not grow, the history does.
    fields = editing.MeetingFields.parse(location="Vienna")
    editing.edit(session, "hostile", fields, now=CURRENT_TIME - timedelta(days=400))


def _remove_meeting(session: Session) -> None:
    editing.remove(session, queries.meeting(session, "hostile"), now=later(1))


def _edit_treaty(session: Session) -> None:
    service.edit_treaty(session, "inf", {"name": "Renamed"}, now=CURRENT_TIME - timedelta(days=99))


def _add_participation(session: Session) -> None:
    treaty = queries.treaty(session, "inf")
    treaty.events.append(ParticipationEvent(state="US", event="withdrew", on=date(2019, 8, 2)))


def _cite_source(session: Session) -> None:
    fields = editing.DeadlineFields.parse()
    editing.edit(
        session, "data-exchange", fields, now=later(1), source="https://example.org/exchange"
    )


def _record_alert(session: Session) -> None:
    alert = NewNotice(
        identity="alert:test",
        kind="alert",
        title="New START data exchange in 7 days",
        body="Soon.",
        due_at=later(1),
        treaty_slug="new-start",
    )
    record(session, alert, [], Channels(), now=later(1), public=True)


@pytest.mark.parametrize(
    ("edit", "parts"),
    [
        pytest.param(_edit_deadline, EVERY_PART, id="deadline edited"),
        pytest.param(_edit_meeting_back_in_time, EVERY_PART, id="meeting edited as of the past"),
        pytest.param(_remove_meeting, EVERY_PART, id="meeting removed"),
        pytest.param(_edit_treaty, EVERY_PART, id="treaty renamed"),
        pytest.param(_add_participation, ["board"], id="participation event added"),
        pytest.param(_cite_source, ["ics", "board"], id="source cited, nothing else"),
        pytest.param(_record_alert, ["rss"], id="public alert recorded"),
    ],
)
def test_each_kind_of_change_rebuilds_the_parts_that_show_it(
    schedule: Schedule, edit: Callable[[Session], None], parts: list[str]
) -> None:
    build_at(schedule)
    schedule.edit(edit)
    assert build_at(schedule).rendered == parts
    assert build_at(schedule).rendered == []


def test_an_edited_source_and_participation_note_are_seen(schedule: Schedule) -> None:
    schedule.edit(_cite_source)
    schedule.edit(_add_participation)
    build_at(schedule)

    def retitle(session: Session) -> None:
        source = session.query(Source).one()
        source.title = "Retitled"

    schedule.edit(retitle)
    assert build_at(schedule).rendered == ["ics", "board"]
    assert b"Retitled" in (schedule.out / "calendar.ics").read_bytes()

    def annotate(session: Session) -> None:
        queries.treaty(session, "inf").events[0].note = "Six months after notice"

    schedule.edit(annotate)
    assert build_at(schedule).rendered == ["board"]


def test_other_settings_rebuild_everything(schedule: Schedule) -> None:
    build_at(schedule)
    report = build_at(schedule, title="Another tracker")
    assert report.rendered == EVERY_PART
    assert b"Another tracker" in (schedule.out / "feed.xml").read_bytes()
    assert build_at(schedule, title="Another tracker").rendered == []
    assert build_at(schedule, max_entries=1).rendered == EVERY_PART


def test_a_new_day_rebuilds_the_calendars_and_the_board_but_not_the_feeds(
    schedule: Schedule,
) -> None:
    build_at(schedule)
    assert build_at(schedule, days=0.5).rendered == []
    report = build_at(schedule, days=1)
    assert report.rendered == ["ics", "board"]
    assert schedule.out / "index.html" in report.written


def test_going_back_in_time_rebuilds(schedule: Schedule) -> None:
    build_at(schedule, days=1)
    assert build_at(schedule, days=0.9).rendered == ["ics", "board"]


def test_a_deleted_or_altered_file_is_written_again(schedule: Schedule) -> None:
    build_at(schedule)
    (schedule.out / "treaties" / "inf.ics").unlink()
    report = build_at(schedule)
    assert report.rendered == ["ics"]
    assert report.written == [schedule.out / "treaties" / "inf.ics"]

    (schedule.out / "index.html").write_text("defaced")
    assert build_at(schedule).written == [schedule.out / "index.html"]


def test_a_damaged_state_file_means_a_full_build(schedule: Schedule) -> None:
    build_at(schedule)
    (schedule.out / STATE_FILE).write_text("{not json")
    report = build_at(schedule)
    assert report.rendered == EVERY_PART and report.written == []  # same bytes as before


def test_the_state_is_written_only_after_every_file(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(page, "board_page", broken)
    with pytest.raises(OSError):
        build_at(schedule)
    assert not (schedule.out / STATE_FILE).exists()
