"""The calendar the tracker ships: researched, sourced and graded, well beyond two items ahead.

Read through the real command on a fresh `tracker init`, as an analyst would on the day
this calendar was researched (3 December 2026)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tracker.catalog.seed_records import read_records, seed_files
from tracker.resources import path as resource_path

from .process import tracker

pytestmark = pytest.mark.slow  # the real command, on the shipped seeds

RESEARCHED_ON = "2026-12-03"
GRADES = {"primary", "established", "secondary", "unverified"}
CONFIDENCES = {"confirmed", "announced", "expected", "reported"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("shipped")
    done = tracker(home, "init")
    assert done.returncode == 0, done.stderr
    return home


def listing(home: Path, *args: str) -> list[dict[str, Any]]:
    done = tracker(home, "--as-of", RESEARCHED_ON, *args, "--json")
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def forum(item: dict[str, Any]) -> str:
    return str(item["body"] or item["treaty"])


def test_the_next_400_days_hold_at_least_60_items_from_at_least_10_bodies(home: Path) -> None:
    ahead = listing(home, "upcoming", "--within", "400d")
    assert len(ahead) >= 60, len(ahead)
    forums = Counter(forum(item) for item in ahead)
    assert len(forums) >= 10, forums


def test_every_item_ahead_cites_a_graded_source_with_an_address_and_has_a_confidence(
    home: Path,
) -> None:
    for item in listing(home, "upcoming", "--within", "400d"):
        assert item["confidence"] in CONFIDENCES, item["slug"]
        cited = [s for s in item["sources"] if s["url"] and s["grade"] in GRADES]
        assert cited, f"{item['slug']} cites no graded source with an address"


def test_every_deadline_and_meeting_names_its_body_or_treaty(home: Path) -> None:
    everything = [
        *listing(home, "deadline", "list", "--all"),
        *listing(home, "meeting", "list", "--all"),
    ]
    assert len(everything) >= 120, len(everything)
    nameless = [item["slug"] for item in everything if not (item["body"] or item["treaty"])]
    assert nameless == []


def test_nothing_in_the_past_stays_silently_scheduled(home: Path) -> None:
    meetings = listing(home, "meeting", "list", "--all")
    # A past meeting whose outcome was never recorded reads "awaiting-outcome".
    silent = [m["slug"] for m in meetings if m["status"] == "awaiting-outcome"]
    assert silent == []
    deadlines = listing(home, "deadline", "list", "--all")
    overdue = [
        d["slug"]
        for d in deadlines
        if d["status"] == "pending" and d["latest"] is not None and d["latest"] < RESEARCHED_ON
    ]
    assert overdue == []


def test_an_expected_date_says_which_pattern_it_follows() -> None:
    records = read_records(seed_files([resource_path("seeds")]))
    unexplained = [
        record.slug  # type: ignore[attr-defined]
        for _where, section, record in records
        if section in ("deadline", "meeting")
        and getattr(record, "confidence", None) == "expected"
        and not (getattr(record, "notes", None) or getattr(record, "outcome", None))
    ]
    assert unexplained == []
