"""Importing iCalendar files (#16 part 3): VEVENTs with TZID'd weekly RRULEs, EXDATEs,
all-day spans and STATUS:CANCELLED become meetings known by UID; importing again updates
them, a local edit survives, and a dry run counts without writing. The acceptance runs the
real `tracker` command; the rest calls the importer as the calendar poller does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.catalog.models import Change, Meeting
from tracker.catalog.sources import Source
from tracker.errors import InvalidInput
from tracker.interchange.importing import import_calendar
from tracker.recurrence import occurrences, validate_rule, with_exdates

from ..process import tracker

FIXTURES = Path(__file__).parent / "fixtures"
FIRST = FIXTURES / "meetings.ics"
CHANGED = FIXTURES / "meetings-changed.ics"
WEEKLY = "weekly-informal-consultations"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def run(home: Path, *args: str) -> str:
    done = tracker(home, "--as-of", "2026-12-03", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def summary(output: str) -> str:
    return output.splitlines()[0]


def history(home: Path, slug: str) -> list[str]:
    shown = json.loads(run(home, "meeting", "show", slug, "--json"))
    return [change["field"] for change in shown["history"]]


# The acceptance, with the real command


def test_reimporting_a_changed_calendar_changes_only_what_changed_and_keeps_a_local_edit(
    home: Path,
) -> None:
    assert summary(run(home, "import", str(FIRST), "--dry-run")) == (
        "dry run (nothing written): 3 added, 0 changed, 0 unchanged, 0 in conflict"
    )
    assert "weekly" not in run(home, "meeting", "list", "--all")  # the dry run wrote nothing
    assert summary(run(home, "import", str(FIRST))).startswith("import: 3 added, 0 changed")
    assert summary(run(home, "import", str(FIRST), "--dry-run")).endswith(
        "0 added, 0 changed, 3 unchanged, 0 in conflict"
    )
    run(home, "meeting", "edit", WEEKLY, "--location", "Room XVIII (moved locally)")
    run(home, "meeting", "edit", "side-event-on-verification", "--outcome", "Called off.")

    dry = run(home, "import", str(CHANGED), "--dry-run")
    # A new event; the plenary's last day moved; the cancelled side event as it was (its
    # local outcome is no field of the calendar); the weekly series gained an EXDATE and
    # moved room, but its room was edited here: kept, a conflict.
    assert summary(dry) == (
        "dry run (nothing written): 1 added, 1 changed, 1 unchanged, 1 in conflict"
    )
    assert "added meeting closing-plenary: Closing plenary" in dry
    assert "changed meeting first-plenary-meeting: ends" in dry
    assert f"changed meeting {WEEKLY}: recurrence" in dry
    assert f"conflict: meeting {WEEKLY}, location: local 'Room XVIII (moved locally)'" in dry
    assert history(home, "first-plenary-meeting") == ["created"]  # still nothing written

    assert summary(run(home, "import", str(CHANGED))) == (
        "import: 1 added, 1 changed, 1 unchanged, 1 in conflict"
    )
    weekly = json.loads(run(home, "meeting", "show", WEEKLY, "--json"))
    assert weekly["location"] == "Room XVIII (moved locally)"
    assert weekly["recurrence"].endswith(";EXDATE=20270119,20270216,20270302")
    assert history(home, WEEKLY) == ["created", "location", "recurrence"]
    assert history(home, "first-plenary-meeting") == ["created", "ends"]
    assert history(home, "side-event-on-verification") == ["created", "outcome"]
    side = json.loads(run(home, "meeting", "show", "side-event-on-verification", "--json"))
    assert (side["status"], side["outcome"]) == ("cancelled", "Called off.")
    # Once more: nothing to do but the conflict, said again.
    assert summary(run(home, "import", str(CHANGED))).endswith(
        "0 added, 0 changed, 3 unchanged, 1 in conflict"
    )


def test_the_files_value_is_taken_over_a_local_edit_when_asked(home: Path) -> None:
    run(home, "import", str(FIRST))
    run(home, "meeting", "edit", WEEKLY, "--location", "Room XVIII")
    uid = "weekly-consultations-2027@meetings.example.org"
    said = run(home, "import", str(CHANGED), "--take", f"{uid}:location")
    assert f"changed meeting {WEEKLY}: location, recurrence" in said
    shown = json.loads(run(home, "meeting", "show", WEEKLY, "--json"))
    assert shown["location"] == "Palais des Nations, Room XIX"


def test_excluded_days_are_left_out_of_listings_and_written_to_the_calendar_feed(
    home: Path,
) -> None:
    run(home, "import", str(FIRST), "--treaty", "npt", "--body", "NPT informal meetings")
    listed = json.loads(run(home, "upcoming", "--within", "120d", "--treaty", "npt", "--json"))
    days = [i["earliest"] for i in listed if i["slug"] == WEEKLY]
    assert days[:3] == ["2027-01-05", "2027-01-12", "2027-01-26"]  # not the 19th
    assert "2027-02-16" not in days and "2027-02-09" in days
    assert {i["body"] for i in listed if i["slug"] == WEEKLY} == {"NPT informal meetings"}
    calendar = run(home, "export", "--ics", "--treaty", "npt")
    assert "EXDATE;TZID=Europe/Zurich:20270119T100000,20270216T100000\n" in calendar
    # UNTIL takes DTSTART's type: the last 10:00 in Zurich (summer time by then), in UTC
    assert "RRULE:FREQ=WEEKLY;UNTIL=20270330T080000Z;BYDAY=TU\n" in calendar


def test_a_calendar_is_imported_from_a_url_citing_it(home: Path) -> None:
    handler = partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/meetings.ics"
        said = run(home, "import", url, "--grade", "primary")
        missing = tracker(home, "import", url.replace("meetings", "nothing"))
    finally:
        server.shutdown()
        server.server_close()
    assert summary(said).startswith("import: 3 added")
    assert missing.returncode == 2 and "404" in missing.stderr
    assert missing.stderr.count("\n") == 1
    shown = json.loads(run(home, "meeting", "show", WEEKLY, "--json"))
    assert [(s["url"], s["grade"]) for s in shown["sources"]] == [(url, "primary")]


BROKEN = {
    "cut-short.ics": (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\n",
        "VEVENT 1 (line 3): no END",
    ),
    "no-start.ics": (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\nDTSTART:20270105T100000Z\r\n"
        b"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nSUMMARY:B\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "VEVENT 2 (UID b): no DTSTART",
    ),
    "bad-rule.ics": (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\nDTSTART:20270105T100000Z\r\n"
        b"RRULE:FREQ=WEEKLY;BYDAY=XX\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "VEVENT 1 (UID a): RRULE:",
    ),
    "bad-exdate.ics": (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:A\r\nDTSTART:20270105T100000Z\r\n"
        b"RRULE:FREQ=WEEKLY\r\nEXDATE:soon\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "VEVENT 1 (UID a): EXDATE:",
    ),
    "no-uid.ics": (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:A\r\nDTSTART:20270105\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
        "VEVENT 1: no UID",
    ),
    "junk.ics": (
        b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
        "calendar: not an iCalendar file",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_malformed_calendar_is_refused_in_one_line_naming_the_component(
    home: Path, name: str
) -> None:
    data, named = BROKEN[name]
    path = home / name
    path.write_bytes(data)
    done = tracker(home, "import", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}: ") and named in done.stderr
    assert "weekly" not in run(home, "meeting", "list", "--all")


# The importer as the calendar poller calls it


@pytest.fixture
def cited(session: Session) -> Iterator[Source]:
    source = Source(key="example-calendar", title="Example calendar", grade="primary")
    session.add(source)
    session.flush()
    yield source


def meetings(session: Session) -> dict[str, Meeting]:
    return {m.uid: m for m in session.scalars(select(Meeting))}


def test_events_become_meetings_with_their_zone_span_rule_and_status(
    session: Session, cited: Source
) -> None:
    report = import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW)
    assert report.counts == {"added": 3, "changed": 0, "unchanged": 0, "conflicts": 0}
    found = meetings(session)
    weekly = found["weekly-consultations-2027@meetings.example.org"]
    assert (weekly.starts_text, weekly.ends_text, weekly.tz) == (
        "2027-01-05T10:00 Europe/Zurich",
        "2027-01-05T12:00 Europe/Zurich",
        "Europe/Zurich",
    )
    # UNTIL 2027-03-30T22:59:59Z is 31 March 00:59 in Zurich: 30 March is the last day a
    # 10:00 occurrence starts before it.
    assert weekly.recurrence == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270330;EXDATE=20270119,20270216"
    assert weekly.location == "Palais des Nations, Room XVII"
    assert weekly.sources == [cited]
    plenary = found["plenary-2027-02@meetings.example.org"]
    assert (plenary.starts_text, plenary.ends_text, plenary.recurrence) == (
        "2027-02-08",
        "2027-02-12",  # DTEND is the day after the last
        None,
    )
    side = found["side-event-2027-02@meetings.example.org"]
    assert (side.status, side.starts_text) == ("cancelled", "2027-02-10T13:00 UTC")
    assert {m.status for m in (weekly, plenary)} == {"scheduled"}


def test_zones_as_outlook_indico_and_google_write_them(session: Session, cited: Source) -> None:
    data = (FIXTURES / "exporters.ics").read_bytes()
    import_calendar(session, data, source=cited, now=NOW)
    starts = {uid: (m.starts_text, m.tz) for uid, m in meetings(session).items()}
    assert starts == {
        # A Windows zone name, by its IANA zone (the Unicode CLDR mapping icalendar keeps)
        "040000008200E00074C5B7101A82E008": ("2027-03-10T09:00 Europe/Berlin", "Europe/Berlin"),
        # A zone known only by its VTIMEZONE (+05:30): the same instant, in UTC
        "custom-1": ("2027-03-10T03:30 UTC", "UTC"),
        "indico-event-1234@indico.example.org": ("2027-03-11T08:00 UTC", "UTC"),
        # A floating time is in the calendar's X-WR-TIMEZONE
        "floating-1@google.com": ("2027-04-01T09:00 America/New_York", "America/New_York"),
    }  # fmt: skip


def test_the_board_shows_a_series_next_occurrence_past_a_skipped_day(
    session: Session, cited: Source
) -> None:
    from tracker.views.board import board

    import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW)
    session.commit()
    monday = datetime(2027, 1, 18, 9, 0, tzinfo=UTC)  # the day before a skipped Tuesday
    shown = board(session, title="t", timezone="UTC", as_of=monday).sections.shown()
    weekly = [item.when.earliest for item in shown if item.slug == WEEKLY]
    assert weekly and weekly[0] == date(2027, 1, 26)


def test_a_change_imported_is_history_with_its_alerts_marked_as_for_an_edit(
    session: Session, cited: Source
) -> None:
    from tracker.plan import PlanEntry

    import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW)
    session.execute(delete(PlanEntry))
    import_calendar(session, CHANGED.read_bytes(), source=cited, now=NOW, dry_run=True)
    assert session.scalars(select(PlanEntry)).all() == []  # a dry run marks nothing
    import_calendar(session, CHANGED.read_bytes(), source=cited, now=NOW)
    changes = session.scalars(select(Change).where(Change.field != "created")).all()
    assert sorted((c.subject_slug, c.field) for c in changes) == [
        ("first-plenary-meeting", "ends"),
        (WEEKLY, "location"),
        (WEEKLY, "recurrence"),
    ]
    assert all(c.news and c.source == cited for c in changes)
    created = session.scalars(select(Change).where(Change.field == "created")).all()
    assert {c.source for c in created} == {cited}
    marks = {(p.kind, p.key) for p in session.scalars(select(PlanEntry))}
    assert {("change", str(c.id)) for c in changes} <= marks
    assert {("item", "meeting:first-plenary-meeting"), ("item", "meeting:closing-plenary")} <= marks


def test_a_dry_run_counts_as_the_import_would_and_writes_nothing(
    session: Session, cited: Source
) -> None:
    report = import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW, dry_run=True)
    assert report.counts["added"] == 3 and report.dry_run
    assert meetings(session) == {}
    assert session.scalar(select(func.count()).select_from(Change)) == 0


def test_reimporting_updates_by_uid_and_never_duplicates(session: Session, cited: Source) -> None:
    import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW)
    again = import_calendar(session, FIRST.read_bytes(), source=cited, now=NOW)
    assert again.counts == {"added": 0, "changed": 0, "unchanged": 3, "conflicts": 0}
    renamed = FIRST.read_bytes().replace(b"SUMMARY:First plenary", b"SUMMARY:Opening plenary")
    report = import_calendar(session, renamed, source=cited, now=NOW)
    assert [(r.slug, r.fields) for r in report.changed] == [("first-plenary-meeting", ["title"])]
    assert len(meetings(session)) == 3


def test_a_cancelled_or_moved_instance_is_skipped_by_its_series(
    session: Session, cited: Source
) -> None:
    instances = (
        b"BEGIN:VEVENT\r\nUID:weekly-consultations-2027@meetings.example.org\r\n"
        b"RECURRENCE-ID;TZID=Europe/Zurich:20270112T100000\r\nSUMMARY:Weekly (moved)\r\n"
        b"DTSTART;TZID=Europe/Zurich:20270113T140000\r\n"
        b"DTEND;TZID=Europe/Zurich:20270113T160000\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:weekly-consultations-2027@meetings.example.org\r\n"
        b"RECURRENCE-ID;TZID=Europe/Zurich:20270126T100000\r\nSUMMARY:Weekly\r\n"
        b"DTSTART;TZID=Europe/Zurich:20270126T100000\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"
    )
    data = FIRST.read_bytes().replace(b"END:VCALENDAR", instances + b"END:VCALENDAR")
    report = import_calendar(session, data, source=cited, now=NOW)
    assert report.counts["added"] == 4
    found = meetings(session)
    weekly = found["weekly-consultations-2027@meetings.example.org"]
    assert weekly.recurrence is not None and weekly.recurrence.endswith(
        "EXDATE=20270112,20270119,20270126,20270216"
    )
    moved = found["weekly-consultations-2027@meetings.example.org/20270112"]
    assert (moved.starts_text, moved.recurrence) == ("2027-01-13T14:00 Europe/Zurich", None)


def test_a_series_the_tracker_cannot_keep_is_skipped_and_said(
    session: Session, cited: Source
) -> None:
    data = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:hourly\r\nSUMMARY:Hourly\r\n"
        b"DTSTART:20270105T100000Z\r\nRRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:daily\r\nSUMMARY:Daily\r\nDTSTART:20270105T100000Z\r\n"
        b"RRULE:FREQ=DAILY;COUNT=3\r\nEXDATE:20270106T100000Z,20270301T100000Z\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    report = import_calendar(session, data, source=cited, now=NOW)
    assert report.counts["added"] == 1
    assert report.skipped == [
        "VEVENT 1 (UID hourly): RRULE: a meeting cannot recur more often than daily"
    ]
    # 1 March is no day of the series: it is not kept.
    assert meetings(session)["daily"].recurrence == "FREQ=DAILY;COUNT=3;EXDATE=20270106"


def test_a_calendar_over_the_size_limit_is_refused_unread(session: Session, cited: Source) -> None:
    data = FIRST.read_bytes() + b" " * (20 * 1024 * 1024)
    with pytest.raises(InvalidInput, match="larger than 20 MB"):
        import_calendar(session, data, source=cited, now=NOW)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_malformed_calendar_raises_one_line_and_adds_nothing(
    session: Session, cited: Source, name: str
) -> None:
    data, named = BROKEN[name]
    with pytest.raises(InvalidInput) as refused:
        import_calendar(session, data, source=cited, now=NOW)
    assert named in str(refused.value) and "\n" not in str(refused.value)
    assert meetings(session) == {}


# The days a series skips


def test_a_rule_keeps_its_skipped_days_sorted_and_the_expansion_leaves_them_out() -> None:
    rule = with_exdates("freq=weekly;byday=tu", [date(2027, 1, 19), date(2027, 1, 12)])
    assert rule == "FREQ=WEEKLY;BYDAY=TU;EXDATE=20270112,20270119"
    assert validate_rule(rule) == rule
    days = occurrences(rule, date(2027, 1, 5), date(2027, 1, 1), date(2027, 1, 31))
    assert days == [date(2027, 1, 5), date(2027, 1, 26)]


def test_a_count_counts_the_skipped_days_too() -> None:
    """RFC 5545: COUNT counts the rule's instances; EXDATE then removes some of them."""
    rule = "FREQ=WEEKLY;COUNT=3;EXDATE=20270112"
    days = occurrences(rule, date(2027, 1, 5), date(2027, 1, 1), date(2027, 12, 31))
    assert days == [date(2027, 1, 5), date(2027, 1, 19)]


@pytest.mark.parametrize("bad", ["FREQ=WEEKLY;EXDATE=2027-01-12", "FREQ=WEEKLY;EXDATE=20271345"])
def test_a_skipped_day_not_written_yyyymmdd_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="EXDATE"):
        validate_rule(bad)
