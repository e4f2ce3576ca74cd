"""Hostile and broken input: refused by a clear rule before anything changes, or stored and
escaped on every output. Date expressions and the countdown are fuzzed in
tests/test_dates.py and tests/test_countdown.py; this file covers the rest of issue 7."""

from __future__ import annotations

import io
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import icalendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker import recurrence, text
from tracker.catalog.models import Deadline
from tracker.catalog.seeding import load
from tracker.catalog.treaties import Treaty
from tracker.errors import InvalidInput
from tracker.notifiers.base import Message, Recipient
from tracker.notifiers.mime import compose

from ..conftest import CURRENT_TIME
from ..factories import make_deadline
from ..feeds.conftest import Schedule

RLM = "\u200f"
HOSTILE = f"<script>alert(1)</script> ]]> & \"q\" 'a' {RLM}معاهدة{RLM}"


@pytest.mark.parametrize(
    ("title", "stored"),
    [
        ("<script>alert(1)</script>", True),
        ("]]> end of CDATA", True),
        (f"{RLM}right-to-left mark{RLM}", True),
        ("two\r\nlines", False),
        ("Subject\nBcc: evil@example.org", False),
        ("nul\x00byte", False),
        ("bell\x07", False),
        ("next line\x85NEL", False),
        ("csi\x9b31m", False),
        ("line\u2028separator", False),
        ("override\u202egnp.exe", False),
        ("isolate\u2067x\u2069", False),
        ("x" * 100_000, False),
    ],
    ids=lambda v: repr(v)[:24] if isinstance(v, str) else str(v),
)
def test_a_title_is_stored_as_typed_or_refused_by_the_rule(
    session: Session, title: str, stored: bool
) -> None:
    if stored:
        assert make_deadline(session, title, due="2027").title == title
        return
    with pytest.raises(InvalidInput) as refused:
        make_deadline(session, title, due="2027")
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200
    assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_a_note_keeps_line_breaks_but_refuses_control_characters() -> None:
    note = "first line\r\nsecond <b>line</b> ]]>"
    assert text.note(note) == note.replace("\r", "")
    for bad in ("nul\x00", "csi\x9b", "override\u202e", "x" * 20_001):
        with pytest.raises(InvalidInput):
            text.note(bad)


def test_hostile_titles_are_escaped_in_every_feed_and_the_board(schedule: Schedule) -> None:
    schedule.edit(lambda s: make_deadline(s, HOSTILE, due="2026-12-20", slug="hostile"))
    schedule.build()
    out = schedule.out

    for name in ("feed.xml", "atom.xml"):
        raw = (out / name).read_bytes()
        assert b"<script>" not in raw
        ElementTree.fromstring(raw)  # well-formed despite ]]>
        titles = [entry.title for entry in feedparser.parse(raw).entries]
        assert any(HOSTILE in t for t in titles), titles
    calendar = icalendar.Calendar.from_ical((out / "calendar.ics").read_bytes())
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert any(HOSTILE in s for s in summaries)
    board = (out / "index.html").read_text()
    assert "<script>alert(1)</script>" not in board
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board


def test_a_hostile_subject_stays_one_header_and_injects_nothing() -> None:
    for subject in (HOSTILE, "x\r\nBcc: evil@example.org", "x\u2028Bcc: evil@example.org"):
        message = Message(
            kind="alert",
            identity="alert:hostile",
            subject=subject,
            text="body",
            created_at=CURRENT_TIME,
            recipient=Recipient("ana@example.org", f"Ana\r\nBcc: evil@example.org{RLM}"),
        )
        raw = compose(message, sender="Tracker <tracker@localhost>").as_bytes()
        mail = message_from_bytes(raw, policy=policy.default)
        assert mail["Bcc"] is None and mail.get_all("To") is not None
        assert len(mail.get_all("Subject") or []) == 1
        assert b"\nBcc:" not in raw


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=SECONDLY", "more often than daily"),
        ("FREQ=MINUTELY;COUNT=3", "more often than daily"),
        ("FREQ=HOURLY;INTERVAL=24", "more often than daily"),
        ("FREQ=DAILY;COUNT=10001", "COUNT is over 10000"),
        ("FREQ=FORTNIGHTLY", "cannot read"),
        ("FREQ=DAILY\nRRULE:FREQ=WEEKLY", None),
        ("FREQ=DAILY;" + "BYDAY=MO;" * 60, "longer than 400"),
    ],
)
def test_a_rule_that_recurs_too_often_or_too_long_is_refused(
    rule: str, message: str | None
) -> None:
    with pytest.raises(InvalidInput, match=message):
        recurrence.validate_rule(rule)


def test_a_rule_without_an_end_is_expanded_only_inside_the_window() -> None:
    days = recurrence.occurrences(
        "FREQ=DAILY", date(1800, 1, 1), date(2026, 11, 1), date(2027, 12, 1)
    )
    assert days[0] == date(2026, 11, 1) and days[-1] <= date(2027, 12, 1)
    assert len(days) <= recurrence.MAX_OCCURRENCES


def seed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def load_files(factory: sessionmaker[Session], paths: list[Path]) -> None:
    with factory() as session, session.begin():
        load(session, paths, now=CURRENT_TIME)


GOOD = (
    '[[treaty]]\nslug = "good"\nname = "Good Treaty"\nshort_name = "Good"\n'
    'kind = "bilateral"\nstatus = "in-force"\n'
)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[[deadline]]\nslug = "d"\ntitle = "D"\ndue = 2027\n', "due"),
        ('[[deadline]]\nslug = "d"\ntitle = ["D"]\ndue = "2027"\n', "title"),
        ('[[deadline]]\nslug = "d"\ntitle = "D"\ndue = "2027"\nowner = "x"\n', "owner"),
        ('[[deadline]]\nslug = "d"\ntitle = "D"\ndue = "31 February 2027"\n', "31 February"),
        ('[[deadline]]\nslug = "d"\ntitle = "D\\u202e"\ndue = "2027"\n', "control character"),
        (
            '[[deadline]]\nslug = "d"\ntitle = "D"\ndue = "2027"\n'
            '[[deadline]]\nslug = "d"\ntitle = "E"\ndue = "2028"\n',
            "duplicate deadline 'd'",
        ),
        (b'[[deadline]]\nslug = "d"\ntitle = "Trait\xe9"\ndue = "2027"\n', "not UTF-8"),
        (b"\xff\xfe[\x00[\x00", "not UTF-8"),
    ],
    ids=[
        "wrong-type",
        "list-for-string",
        "unknown-key",
        "impossible-date",
        "bidi-override",
        "duplicate-slug",
        "latin-1",
        "utf-16",
    ],
)
def test_a_bad_seed_names_the_file_and_loads_nothing_at_all(
    session_factory: sessionmaker[Session], tmp_path: Path, content: str | bytes, named: str
) -> None:
    good = seed(tmp_path, "a-good.toml", GOOD)
    bad = seed(tmp_path, "b-bad.toml", content)

    with pytest.raises(InvalidInput) as refused:
        load_files(session_factory, [good, bad])

    message = str(refused.value)
    assert "b-bad.toml" in message and named in message and "\n" not in message
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Treaty)) == 0
        assert session.scalar(select(func.count()).select_from(Deadline)) == 0


def test_a_50_mb_seed_is_refused_at_once_without_being_read(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as handle:
        handle.write(GOOD.encode())
        handle.truncate(50 * 1024 * 1024)
    opened: list[str] = []
    real_open = io.open

    def spying_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", spying_open)

    with pytest.raises(InvalidInput, match=r"huge\.toml: larger than 20 MB"):
        load_files(session_factory, [huge])

    assert str(huge) not in opened


def test_years_outside_1800_to_2200_are_refused() -> None:
    from tracker.dates import parse

    for bad in ("0000-01-01", "10000-01-01", "0001-01-01", "9999-12-31", "2200-12-32"):
        with pytest.raises(InvalidInput, match=r"outside 1800–2200|invalid|cannot read"):
            parse(bad)
    assert parse("2200-12-31").latest == date(2200, 12, 31)
