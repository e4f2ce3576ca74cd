"""`tracker export --csv|--json|--ics` (#16 part 3): everything, or what the listing
filters keep, to standard output or a file. The real command on the shipped seeds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..process import tracker

PAST = "abm-us-withdrawal-effective"  # a seeded deadline of 2002


def run(home: Path, *args: str) -> str:
    done = tracker(home, "--as-of", "2026-12-03", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def slugs(home: Path, *args: str) -> list[str]:
    return [row["slug"] for row in csv.DictReader(io.StringIO(run(home, "export", *args)))]


def test_everything_is_exported_unless_a_filter_keeps_less(home: Path) -> None:
    everything = slugs(home, "--csv")
    listed = json.loads(run(home, "deadline", "list", "--all", "--json"))
    listed += json.loads(run(home, "meeting", "list", "--all", "--json"))
    # Listings stop at a horizon (400 days ahead); the export does not.
    assert {item["slug"] for item in listed} <= set(everything)
    assert len(everything) == len(set(everything))  # a series once, not per occurrence
    upcoming, past = slugs(home, "--csv", "--upcoming"), slugs(home, "--csv", "--past")
    assert PAST in past and PAST not in upcoming
    assert set(upcoming) | set(past) <= set(everything)
    soon = slugs(home, "--csv", "--upcoming", "--within", "90d")
    assert set(soon) < set(upcoming)


def test_filters_by_treaty_and_kind_as_listings_do(home: Path) -> None:
    text = run(home, "export", "--csv", "--treaty", "npt", "--kind", "review-conference")
    found = list(csv.DictReader(io.StringIO(text)))
    assert found
    assert {(row["treaty"], row["kind"]) for row in found} == {("npt", "review-conference")}
    as_json = json.loads(run(home, "export", "--json", "--treaty", "npt"))
    assert as_json["format"] == "tracker-records" and as_json["version"] == 1
    assert {record["treaty"] for record in as_json["records"]} == {"npt"}
    assert all("due" not in r for r in as_json["records"] if r["type"] == "meeting")


def test_the_calendar_export_holds_an_event_per_dated_item(home: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run(home, "export", "--csv", "--treaty", "npt"))))
    dated = [r for r in rows if (r["due"] or r["starts"]) != "TBA"]
    calendar = run(home, "export", "--ics", "--treaty", "npt")
    assert calendar.startswith("BEGIN:VCALENDAR") and calendar.rstrip().endswith("END:VCALENDAR")
    assert calendar.count("BEGIN:VEVENT") == len(dated) > 0


def test_an_export_goes_to_the_file_given(home: Path) -> None:
    target = home / "out" / "all.csv"
    target.parent.mkdir()
    assert run(home, "export", "--csv", "-o", str(target)) == ""
    assert target.read_text() == run(home, "export", "--csv")


def test_an_export_needs_a_format_and_a_known_treaty(home: Path) -> None:
    no_format = tracker(home, "export")
    assert no_format.returncode == 2 and "--csv, --json or --ics" in no_format.stderr
    unknown = tracker(home, "export", "--csv", "--treaty", "nptt")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "closest: 'npt'" in unknown.stderr
