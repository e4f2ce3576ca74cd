"""The VEVENT text writer gives what icalendar's own writer gives for the same value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Event

from tracker.notifiers.ical_text import moment, text

TRICKY = [
    "",
    "plain",
    "a;b,c\\d",
    "line\r\nbreak\nand\rreturn \\N literal",
    "x" * 73 + "\\" + "y" * 10,  # an escape straddles the fold
    "x" * 72 + ";" + "y" * 200,
    "Договор СНВ-III — " * 12,
    "é" * 40 + "x" + "😀" * 30,  # a fold falls inside a multi-byte character's room
    "<script>alert('x')</script> & \"quoted\"",
]


def by_icalendar(name: str, value: object) -> str:
    event = Event()
    event.add(name, value)
    raw: bytes = event.to_ical()
    return raw.decode().removeprefix("BEGIN:VEVENT\r\n").removesuffix("END:VEVENT\r\n")


@pytest.mark.parametrize("value", TRICKY)
def test_text_is_escaped_and_folded_as_icalendar_does_it(value: str) -> None:
    written = text("DESCRIPTION", value)
    assert written == by_icalendar("description", value)
    assert all(len(line.encode()) <= 75 for line in written.split("\r\n"))


@pytest.mark.parametrize(
    "value",
    [
        date(2026, 2, 5),
        datetime(2026, 2, 5, 9, 30, tzinfo=UTC),
        datetime(2026, 2, 5, 9, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 7, 28, 9, 0, tzinfo=ZoneInfo("Europe/Zurich")),
        datetime(2031, 1, 1, 23, 59, 59, tzinfo=ZoneInfo("America/Argentina/Buenos_Aires")),
    ],
)
def test_a_day_or_an_instant_is_written_as_icalendar_writes_it(value: date) -> None:
    assert moment("DTSTART", value) == by_icalendar("dtstart", value)
