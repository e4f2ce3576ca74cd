"""calendar.ics: parsed back by icalendar, stored UIDs, SEQUENCE, status, zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone
from sqlalchemy.orm import Session

from tracker.catalog import editing, queries
from tracker.dates import parse
from tracker.notifiers.feeds import FeedTreaty, Publication
from tracker.notifiers.ics import IcsPublisher
from tracker.publish.build import build_feeds
from tracker.views.items import Item
from tracker.views.wording import one_line

from ..conftest import CURRENT_TIME
from ..factories import make_deadline
from .conftest import HOSTILE, Schedule, later


def events(path: Path) -> dict[str, Event]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(e["URL"]).rsplit("/", 1)[1]: e for e in calendar.walk("VEVENT")}


def test_the_calendar_parses_with_the_stored_uids_and_names(schedule: Schedule) -> None:
    schedule.build()
    calendar = Calendar.from_ical((schedule.out / "calendar.ics").read_bytes())
    found = events(schedule.out / "calendar.ics")

    assert str(calendar["X-WR-CALNAME"]) == "Arms control treaty tracker"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert set(found) == {"new-start-expiry", "data-exchange", "ssd-plenary", "hostile"}
    with schedule.sessions() as session:
        assert str(found["ssd-plenary"]["UID"]) == queries.meeting(session, "ssd-plenary").uid
        assert (
            str(found["new-start-expiry"]["UID"])
            == queries.deadline(session, "new-start-expiry").uid
        )


def test_uids_are_stable_and_sequence_grows_when_an_item_changes(schedule: Schedule) -> None:
    schedule.build()
    before = events(schedule.out / "calendar.ics")
    fields = editing.MeetingFields.parse(starts="2021-09-30T09:00", ends="2021-09-30T17:00")
    schedule.edit(lambda s: editing.edit(s, "ssd-plenary", fields, now=later(1)))
    schedule.build()
    after = events(schedule.out / "calendar.ics")

    assert {k: str(e["UID"]) for k, e in after.items()} == {
        k: str(e["UID"]) for k, e in before.items()
    }
    assert before["ssd-plenary"]["SEQUENCE"] == 0 and after["ssd-plenary"]["SEQUENCE"] == 1
    assert after["ssd-plenary"]["DTSTAMP"].dt == later(1)
    assert after["new-start-expiry"].to_ical() == before["new-start-expiry"].to_ical()


def test_a_cancelled_meeting_shows_status_cancelled(schedule: Schedule) -> None:
    fields = editing.MeetingFields.parse(status="cancelled")
    schedule.edit(lambda s: editing.edit(s, "hostile", fields, now=later(0)))
    schedule.build()
    hostile = events(schedule.out / "calendar.ics")["hostile"]
    assert str(hostile["STATUS"]) == "CANCELLED"
    assert b"STATUS:CANCELLED" in (schedule.out / "calendar.ics").read_bytes()


def test_a_day_deadline_is_an_all_day_event(schedule: Schedule) -> None:
    schedule.build()
    expiry = events(schedule.out / "calendar.ics")["new-start-expiry"]
    assert expiry["DTSTART"].dt == date(2026, 2, 5) and expiry["DTEND"].dt == date(2026, 2, 6)
    assert expiry["DTSTART"].params["VALUE"] == "DATE"
    assert str(expiry["STATUS"]) == "CONFIRMED"
    assert str(expiry["SUMMARY"]) == "New START expires"


def test_a_month_deadline_is_a_one_day_marker_that_says_its_month(schedule: Schedule) -> None:
    schedule.build()
    exchange = events(schedule.out / "calendar.ics")["data-exchange"]
    assert exchange["DTSTART"].dt == date(2027, 2, 1)
    assert exchange["DTEND"].dt == date(2027, 2, 2)
    assert str(exchange["STATUS"]) == "TENTATIVE" and str(exchange["TRANSP"]) == "TRANSPARENT"
    assert str(exchange["SUMMARY"]) == "Data exchange — date not fixed: February 2027"


def test_a_timed_meeting_keeps_its_zone_with_a_vtimezone(schedule: Schedule) -> None:
    schedule.build()
    raw = (schedule.out / "calendar.ics").read_bytes()
    plenary = events(schedule.out / "calendar.ics")["ssd-plenary"]
    geneva = ZoneInfo("Europe/Zurich")
    assert plenary["DTSTART"].dt == datetime(2021, 7, 28, 9, 0, tzinfo=geneva)
    assert plenary["DTEND"].dt == datetime(2021, 7, 28, 17, 0, tzinfo=geneva)
    assert b"BEGIN:VTIMEZONE" in raw and b"TZID:Europe/Zurich" in raw
    assert str(plenary["LOCATION"]) == "Geneva"


def test_hostile_titles_are_escaped_and_intact_in_the_calendar(schedule: Schedule) -> None:
    schedule.build()
    hostile = events(schedule.out / "calendar.ics")["hostile"]
    assert str(hostile["SUMMARY"]) == HOSTILE
    assert str(hostile["LOCATION"]) == "Москва & <Geneva>"
    raw = (schedule.out / "calendar.ics").read_bytes()
    assert b"\r\nBEGIN:VEVENT" in raw and raw.count(b"\r\nEND:VEVENT") == 4


def test_line_breaks_in_a_title_cannot_inject_properties(schedule: Schedule) -> None:
    def inject(session: Session) -> None:
        queries.meeting(session, "hostile").title = "Talks\r\nSTATUS:CANCELLED\r\nX: y"

    schedule.edit(inject)
    schedule.build()
    hostile = events(schedule.out / "calendar.ics")["hostile"]
    assert str(hostile["SUMMARY"]) == "Talks STATUS:CANCELLED X: y"
    assert str(hostile["STATUS"]) == "CONFIRMED"


def test_each_treaty_has_a_calendar_and_alarms_are_optional(schedule: Schedule) -> None:
    with schedule.sessions() as session:
        build_feeds(
            session,
            schedule.settings,
            schedule.out,
            alarm_leads=[timedelta(days=7), timedelta(days=1)],
            as_of=CURRENT_TIME,
        )
    inf = events(schedule.out / "treaties" / "inf.ics")
    new_start = events(schedule.out / "treaties" / "new-start.ics")
    assert set(inf) == {"hostile"}
    assert set(new_start) == {"new-start-expiry", "data-exchange", "ssd-plenary"}
    triggers = [a["TRIGGER"].dt for a in inf["hostile"].walk("VALARM")]
    assert triggers == [-timedelta(days=7), -timedelta(days=1)]


def test_the_calendar_is_exactly_what_icalendar_writes_back(schedule: Schedule) -> None:
    def long_lines(session: Session) -> None:
        plenary = queries.meeting(session, "ssd-plenary")
        plenary.outcome = "Ни шагу назад; \\ backslashes, commas; " * 6 + "é" * 80
        plenary.recurrence = "FREQ=YEARLY;BYMONTH=7"

    schedule.edit(long_lines)
    with schedule.sessions() as session:
        build_feeds(
            session,
            schedule.settings,
            schedule.out,
            alarm_leads=[timedelta(days=7), timedelta(hours=3)],
            as_of=CURRENT_TIME,
        )
    for path in [schedule.out / "calendar.ics", *(schedule.out / "treaties").glob("*.ics")]:
        raw = path.read_bytes()
        assert Calendar.from_ical(raw).to_ical() == raw, path.name
        assert max(len(line) for line in raw.split(b"\r\n")) <= 75
    plenary = events(schedule.out / "calendar.ics")["ssd-plenary"]
    assert str(plenary["RRULE"].to_ical(), "ascii") == "FREQ=YEARLY;BYMONTH=7"
    assert "Ни шагу назад; \\ backslashes" in str(plenary["DESCRIPTION"])


def test_a_large_schedule_keeps_the_nearest_items_ahead_and_the_latest_passed(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.publish import calendar_items

    monkeypatch.setattr(calendar_items, "AHEAD_CAP", 3)
    monkeypatch.setattr(calendar_items, "PAST_CAP", 2)

    def many(session: Session) -> None:
        for n in range(1, 6):
            make_deadline(session, f"Ahead {n}", due=f"2027-0{n}-01", slug=f"ahead-{n}")
            make_deadline(session, f"Passed {n}", due=f"2025-0{n}-01", slug=f"passed-{n}")

    schedule.edit(many)
    schedule.build()
    found = set(events(schedule.out / "calendar.ics"))
    # Deadlines ahead: the three nearest (February 2027 ends after 2027-02-01); passed:
    # the latest two. Meetings: one of each, under the caps.
    deadlines = {"ahead-1", "ahead-2", "data-exchange", "new-start-expiry", "passed-5"}
    assert found == deadlines | {"hostile", "ssd-plenary"}
    assert set(events(schedule.out / "treaties" / "new-start.ics")) == {
        "data-exchange",
        "new-start-expiry",
        "ssd-plenary",
    }


def published_items() -> list[Item]:
    """Items with every property the writer handles, the hostile texts in all of them."""
    long = "Ни шагу назад; \\ backslashes, commas; " * 6 + "é" * 80 + "\r\nSTATUS:CANCELLED"
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=ZoneInfo("Europe/Vienna"))
    common = {
        "sequence": 3,
        "updated_at": at,
        "tz": "Europe/Zurich",
        "treaty_name": HOSTILE,
        "as_of": CURRENT_TIME,
    }
    return [
        Item(
            "meeting", "talks", uid="m-1;x,y@tracker", title=HOSTILE + long, kind="plenary",
            recorded_status="scheduled", treaty="new-start", when=parse("2031-07-28T09:00"),
            ends=parse("2031-07-28T17:30"), location="Москва & <Geneva>", series=long,
            recurrence="RRULE:FREQ=YEARLY;BYMONTH=7", outcome=long,
            delegations=({"head": "A; B"}, {"name": long}),
            sources=({"title": HOSTILE, "publisher": None, "url": "https://x.org/a?b=c;d"},),
            **common,
        ),
        Item(
            "deadline", "exchange", uid="d-2@tracker", title="Data, exchange", kind="report",
            recorded_status="pending", treaty=None, when=parse("Q3 2030"), notes=long, **common,
        ),
        Item(
            "deadline", "expiry", uid="d-3@tracker", title="Expiry", kind="expiry",
            recorded_status="cancelled", treaty="inf", when=parse("2026-02-05"), **common,
        ),
    ]  # fmt: skip


def test_icalendar_reads_each_written_event_back_to_its_values() -> None:
    items = published_items()
    leads = (timedelta(days=7), timedelta(hours=3))
    publication = Publication(
        "Tracker test", "https://t.example/", [FeedTreaty("inf", "INF")], items=items,
        alarm_leads=leads, refresh=timedelta(minutes=90),
    )  # fmt: skip
    files = IcsPublisher().publish(publication)
    raw = files["calendar.ics"]
    calendar = Calendar.from_ical(raw)
    found = {str(e["UID"]): e for e in calendar.walk("VEVENT")}

    assert calendar.to_ical() == raw and str(calendar["X-WR-CALNAME"]) == "Tracker test"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(minutes=90)
    talks, exchange, expiry = (found[item.uid] for item in items)
    assert str(talks["SUMMARY"]) == one_line(items[0].title)
    assert talks["DTSTART"].dt == datetime(2031, 7, 28, 9, tzinfo=ZoneInfo("Europe/Zurich"))
    assert talks["DTEND"].dt == datetime(2031, 7, 28, 17, 30, tzinfo=ZoneInfo("Europe/Zurich"))
    assert talks["DTSTAMP"].dt == talks["LAST-MODIFIED"].dt == items[0].updated_at
    assert talks["SEQUENCE"] == 3 and str(talks["STATUS"]) == "CONFIRMED"
    assert talks["RRULE"].to_ical() == b"FREQ=YEARLY;BYMONTH=7"
    assert talks["CATEGORIES"].cats == ["plenary", "new-start"]
    assert str(talks["LOCATION"]) == "Москва & <Geneva>"
    assert str(talks["URL"]) == "https://t.example/meetings/talks"
    assert "Delegations: A; B; Ни шагу назад" in str(talks["DESCRIPTION"])
    assert "https://x.org/a?b=c;d" in str(talks["DESCRIPTION"])
    assert [a["TRIGGER"].dt for a in talks.walk("VALARM")] == [-lead for lead in leads]
    assert {str(a["DESCRIPTION"]) for a in talks.walk("VALARM")} == {one_line(items[0].title)}
    assert exchange["DTSTART"].dt == date(2030, 7, 1) and exchange["DTEND"].dt == date(2030, 7, 2)
    assert str(exchange["SUMMARY"]) == "Data, exchange — date not fixed: Q3 2030"
    assert str(exchange["STATUS"]) == "TENTATIVE" and exchange["CATEGORIES"].cats == ["report"]
    assert str(exchange["DESCRIPTION"]).startswith(f"Deadline (report) of {HOSTILE}\n\nDue: Q3")
    assert str(expiry["STATUS"]) == "CANCELLED" and not expiry.walk("VALARM")
    inf = Calendar.from_ical(files["treaties/inf.ics"]).walk("VEVENT")
    assert [str(e["UID"]) for e in inf] == [items[2].uid]
    assert raw.count(b"BEGIN:VTIMEZONE") == 1 and b"TZID:Europe/Zurich" in raw


@pytest.mark.parametrize(
    ("tzid", "first", "last"),
    [
        ("Asia/Tokyo", 2014, 2043),  # never changes: made without icalendar's search
        ("Asia/Kolkata", 1990, 2043),
        ("Etc/GMT+3", 2000, 2030),
        ("America/Sao_Paulo", 2020, 2043),  # no summer time since 2019
        ("America/Sao_Paulo", 2015, 2043),
        ("Europe/Zurich", 2014, 2043),
        ("Asia/Kathmandu", 1980, 2030),  # +0530, then +0545 from 1986
    ],
)
def test_each_vtimezone_is_the_one_icalendar_makes(tzid: str, first: int, last: int) -> None:
    from tracker.notifiers.ics import _vtimezone

    expected = Timezone.from_tzid(tzid, first_date=date(first, 1, 1), last_date=date(last, 1, 1))
    assert _vtimezone.__wrapped__(tzid, first, last) == expected.to_ical()
