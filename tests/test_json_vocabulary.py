"""One JSON vocabulary for every command, dates to be announced listed, and show commands
that say states, confidence, graded sources, claims and a series' end: through the real
command on a seeded home."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tracker.catalog.models import Claim, Deadline
from tracker.catalog.sources import Source
from tracker.db import make_engine, make_session_factory

from .process import tracker

pytestmark = pytest.mark.slow  # each test starts the real command

ITEM_KEYS = [
    "type",
    "slug",
    "title",
    "kind",
    "treaty",
    "treaty_name",
    "body",
    "when",
    "earliest",
    "latest",
    "precision",
    "tz",
    "days_min",
    "days_max",
    "days_remaining",
    "human",
    "status",
    "countdown_status",
    "confidence",
    "sources",
    "confirm_lead_days",
    "confirmation_due",
]
MEETING_KEYS = [*ITEM_KEYS, "ends", "location", "series"]
SOURCE_KEYS = {"key", "title", "publisher", "url", "published", "grade", "caveat"}


def run(home: Path, *args: str) -> str:
    result = tracker(home, *args)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def as_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json"))


def test_a_review_conference_in_session_is_in_session_not_passed(seeded: Path) -> None:
    items = as_json(seeded, "--as-of", "2026-12-02T12:00Z", "upcoming")
    [conference] = [i for i in items if i["slug"] == "tpnw-revcon-1-2026"]
    assert (conference["status"], conference["countdown_status"]) == ("in-session", "today")
    assert conference["ends"] == {
        "when": "2026-12-04",
        "earliest": "2026-12-04",
        "latest": "2026-12-04",
        "precision": "day",
    }
    assert (conference["days_min"], conference["days_max"]) == (-2, 2)


def test_a_meeting_that_ended_unrecorded_is_awaiting_its_outcome(home: Path) -> None:
    run(
        home,
        "--as-of",
        "2027-01-10",
        "meeting",
        "add",
        "Experts",
        "--slug",
        "experts",
        "--starts",
        "2027-02-01",
        "--ends",
        "2027-02-05",
    )
    shown = as_json(home, "--as-of", "2027-02-06T12:00Z", "meeting", "show", "experts")
    assert (shown["status"], shown["countdown_status"]) == ("awaiting-outcome", "passed")
    during = as_json(home, "--as-of", "2027-02-03T12:00Z", "meeting", "show", "experts")
    assert during["status"] == "in-session"


def test_every_listing_speaks_one_vocabulary(home: Path) -> None:
    run(home, "deadline", "add", "Undated", "--due", "TBA", "--treaty", "bwc")
    run(home, "meeting", "add", "Talks", "--slug", "talks", "--starts", "TBA")
    listings = [
        as_json(home, "--as-of", "2026-11-22", "upcoming"),
        as_json(home, "upcoming", "--undated"),
        as_json(home, "countdown"),
        as_json(home, "countdown", "undated"),
        as_json(home, "deadline", "list", "--all"),
        as_json(home, "meeting", "list", "--all"),
    ]
    for items in listings:
        assert items
        for item in items:
            keys = MEETING_KEYS if item["type"] == "meeting" else ITEM_KEYS
            assert list(item) == [*keys, "link"]
            assert item["link"].endswith(f"/{item['type']}s/{item['slug']}")
            assert item["countdown_status"] in ("upcoming", "today", "passed")
            assert item["confidence"] in ("confirmed", "announced", "expected", "reported")
            for source in item["sources"]:
                assert set(source) == SOURCE_KEYS
    shown = as_json(home, "deadline", "show", "bwc-revcon-10")
    assert list(shown)[: len(ITEM_KEYS) + 1] == [*ITEM_KEYS, "link"]
    assert shown["days_remaining"] is None and shown["precision"] == "year"
    assert {"claims", "conflicting", "history"} <= set(shown)


def test_dates_to_be_announced_are_listed_last_never_hidden(home: Path) -> None:
    run(home, "deadline", "add", "Undated", "--due", "TBA")
    run(home, "meeting", "add", "Talks", "--slug", "talks", "--starts", "TBA")
    for listing, slug in (("deadline", "undated"), ("meeting", "talks")):
        items = as_json(home, listing, "list")
        undated = [i for i in items if i["precision"] == "tba"]
        assert items[-len(undated) :] == undated  # last, after every dated one
        [added] = [i for i in undated if i["slug"] == slug]
        assert (added["earliest"], added["human"]) == (None, "date to be announced")
    assert "undated" not in [d["slug"] for d in as_json(home, "deadline", "list", "--past")]
    undated = {i["slug"] for i in as_json(home, "upcoming", "--undated")}
    assert {"undated", "talks"} <= undated
    human = run(home, "upcoming", "--undated")
    assert "date to be announced" in human and "Talks" in human and "Undated" in human
    assert "with a date to be announced: tracker upcoming --undated" in run(home, "upcoming")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("countdown", "nope"), "no deadline or treaty 'nope'; closest: "),
        (("countdown", "new-start-expir"), "closest: 'new-start-expiry'"),
        (("deadline", "list", "--kind", "plenary"), "unknown deadline kind 'plenary'"),
        (("meeting", "list", "--kind", "expiry"), "unknown meeting kind 'expiry'"),
        (("meeting", "list", "--kind", "plenar"), "closest: 'plenary'"),
    ],
)
def test_an_unknown_slug_or_kind_is_one_line_naming_the_closest(
    seeded: Path, args: tuple[str, ...], said: str
) -> None:
    result = tracker(seeded, *args)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and said in result.stderr


def test_a_recurring_meeting_shows_its_end_next_and_remaining_occurrences(home: Path) -> None:
    run(
        home,
        "meeting",
        "add",
        "Monthly",
        "--slug",
        "monthly",
        "--treaty",
        "npt",
        "--starts",
        "2026-01-06",
        "--repeat",
        "FREQ=MONTHLY;COUNT=24",
    )
    run(
        home,
        "meeting",
        "add",
        "Weekly",
        "--slug",
        "weekly",
        "--starts",
        "2026-01-05",
        "--repeat",
        "FREQ=WEEKLY",
    )
    shown = as_json(home, "--as-of", "2026-11-22", "meeting", "show", "monthly")
    assert shown["treaty_name"] == "Treaty on the Non-Proliferation of Nuclear Weapons"
    assert shown["recurrence_end"] == {"until": None, "count": 24, "last": "2027-12-06"}
    assert shown["next_occurrence"]["earliest"] == "2026-12-06"
    assert shown["earliest"] == "2026-12-06" and shown["recurrence_starts"] == "2026-01-06"
    assert shown["remaining_count"] == 13 and len(shown["remaining_occurrences"]) == 13
    human = run(home, "--as-of", "2026-11-22", "meeting", "show", "monthly")
    assert "series ends  after 24 occurrences (last: 2027-12-06)" in human
    assert re.search(r"next +2026-12-06 \(in 14 days\)", human)
    assert "Treaty on the Non-Proliferation of Nuclear Weapons (npt)" in human
    weekly = as_json(home, "--as-of", "2026-11-22", "meeting", "show", "weekly")
    assert (weekly["recurrence_end"], weekly["remaining_count"]) == (None, None)
    assert len(weekly["remaining_occurrences"]) == 20
    assert weekly["next_occurrence"]["earliest"] == "2026-11-23"
    assert "series ends  no end" in run(home, "--as-of", "2026-11-22", "meeting", "show", "weekly")


def _claim(home: Path, slug: str, values: dict[str, str]) -> None:
    """Sources saying different things of a deadline's date (no command records claims
    yet: seeds do)."""
    engine = make_engine(f"sqlite:///{home / 'var' / 'tracker.db'}")
    with make_session_factory(engine)() as session:
        deadline = session.scalars(select(Deadline).where(Deadline.slug == slug)).one()
        for key, value in values.items():
            source = session.scalars(select(Source).where(Source.key == key)).one()
            session.add(
                Claim(
                    subject_type="deadline",
                    subject_id=deadline.id,
                    field="due",
                    value=value,
                    source_id=source.id,
                    recorded_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
        session.commit()
    engine.dispose()


def _two_source_keys(home: Path) -> list[str]:
    return [s["key"] for s in as_json(home, "source", "list")][:2]


def test_show_puts_disagreeing_sources_side_by_side_with_grades_and_caveats(home: Path) -> None:
    first, second = _two_source_keys(home)
    run(home, "source", "edit", first, "--grade", "unverified", "--caveat", "not the broadcaster")
    _claim(home, "bwc-revcon-10", {first: "2027", second: "late 2027"})
    shown = as_json(home, "deadline", "show", "bwc-revcon-10")
    assert shown["conflicting"] is True
    [due] = shown["claims"]
    assert [c["value"] for c in due["claims"]] == ["2027", "late 2027"]
    assert due["claims"][0]["source"]["caveat"] == "not the broadcaster"
    human = run(home, "deadline", "show", "bwc-revcon-10")
    assert "claims: (sources disagree)" in human
    assert "due: tracker has 2027 — sources disagree" in human
    assert "[unverified] — caveat: not the broadcaster" in human
    assert "confidence" in human and "status      pending" in human


def test_no_human_output_prints_none(home: Path) -> None:
    first, second = _two_source_keys(home)
    run(home, "source", "edit", first, "--caveat", "styled like a broadcaster; is not one")
    _claim(home, "bwc-revcon-10", {first: "2027", second: "H2 2027"})
    run(home, "deadline", "add", "Undated", "--due", "TBA", "--source", "https://example.org/a")
    run(home, "meeting", "add", "Talks", "--slug", "talks", "--starts", "TBA")
    run(
        home,
        "meeting",
        "add",
        "Monthly",
        "--slug",
        "monthly",
        "--starts",
        "2026-01-06",
        "--repeat",
        "FREQ=MONTHLY;COUNT=24",
    )
    commands = [
        ("upcoming",),
        ("upcoming", "--within", "3650d"),
        ("upcoming", "--undated"),
        ("countdown",),
        ("countdown", "--all"),
        ("countdown", "undated", "bwc"),
        ("deadline", "list", "--all"),
        ("meeting", "list", "--all"),
        ("treaty", "list"),
        ("deadline", "show", "bwc-revcon-10"),
        ("deadline", "show", "undated"),
        ("meeting", "show", "talks"),
        ("meeting", "show", "monthly"),
        ("meeting", "show", "tpnw-revcon-1-2026"),
        ("meeting", "show", "ssd-plenary-3"),
    ]
    for command in commands:
        out = run(home, "--as-of", "2026-11-22", *command)
        assert out.count("None") == 0, (command, out)
    assert "caveat: styled like a broadcaster" in run(home, "deadline", "show", "bwc-revcon-10")
