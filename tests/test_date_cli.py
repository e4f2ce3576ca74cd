"""The date grammar through the real command: each form given to `deadline add --due` and
`meeting add --starts/--ends` comes back with its window; bad dates and zones are refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from .process import tracker

pytestmark = pytest.mark.slow  # each test starts the real command

AS_OF = "2026-12-03T12:00Z"

FORMS = [
    ("2026-12-09T18:59:29Z", "2026-12-09", "2026-12-09", "time"),
    ("2026-12-09T18:59:29+01:00", "2026-12-09", "2026-12-09", "time"),
    ("8–12 March 2027", "2027-03-08", "2027-03-12", "range"),
    ("8-12 March 2027", "2027-03-08", "2027-03-12", "range"),
    ("30 March – 3 April 2027", "2027-03-30", "2027-04-03", "range"),
    ("28 Dec 2026 – 3 Jan 2027", "2026-12-28", "2027-01-03", "range"),
    ("2027-03-08/2027-03-12", "2027-03-08", "2027-03-12", "range"),
    ("2027-W10", "2027-03-08", "2027-03-14", "week"),
    ("H1 2027", "2027-01-01", "2027-06-30", "half"),
    ("second half of 2027", "2027-07-01", "2027-12-31", "half"),
    ("spring 2027", "2027-03-01", "2027-05-31", "season"),
    ("winter 2026/27", "2026-12-01", "2027-02-28", "season"),
    ("late March 2027", "2027-03-21", "2027-03-31", "range"),
    ("2027-03~", "2027-02-01", "2027-04-30", "month"),
    ("2027?", "2027-01-01", "2027-12-31", "year"),
    ("2027-21", "2027-03-01", "2027-05-31", "season"),
]


def _json(home: Path, *args: str) -> object:
    result = tracker(home, "--as-of", AS_OF, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Forms that list the days a meeting lasts: given to --starts alone, its span.
SPANS = {"8–12 March 2027", "8-12 March 2027", "30 March – 3 April 2027"}
SPANS |= {"28 Dec 2026 – 3 Jan 2027", "2027-03-08/2027-03-12"}
TODAY = date(2026, 12, 3)


def _days(earliest: str, latest: str) -> tuple[int, int]:
    return (date.fromisoformat(earliest) - TODAY).days, (date.fromisoformat(latest) - TODAY).days


def test_each_form_comes_back_from_countdown_and_meeting_show(home):
    for number, (expression, earliest, latest, precision) in enumerate(FORMS):
        added = tracker(home, "deadline", "add", f"Deadline {number}", "--due", expression)
        assert added.returncode == 0, (expression, added.stderr)
        [item] = _json(home, "countdown", f"deadline-{number}", "--json")
        days_min, days_max = _days(earliest, latest)
        exact = precision in ("day", "time")
        assert (item["earliest"], item["latest"], item["precision"]) == (
            earliest,
            latest,
            precision,
        ), expression
        assert (item["days_min"], item["days_max"], item["days_remaining"]) == (
            days_min,
            days_max,
            days_min if exact else None,
        ), expression
        added = tracker(
            home, "meeting", "add", f"M {number}", "--slug", f"m{number}", "--starts", expression
        )
        assert added.returncode == 0, (expression, added.stderr)
        shown = _json(home, "meeting", "show", f"m{number}", "--json")
        if expression in SPANS:  # it starts on the first day and ends on the last
            assert (shown["earliest"], shown["latest"], shown["precision"]) == (
                earliest,
                earliest,
                "day",
            ), expression
            ends = {"when": latest, "earliest": latest, "latest": latest, "precision": "day"}
            assert shown["ends"] == ends, expression
            assert (shown["days_min"], shown["days_max"]) == (days_min, days_max), expression
            continue
        assert (shown["earliest"], shown["latest"], shown["precision"]) == (
            earliest,
            latest,
            precision,
        ), expression
        assert (shown["ends"], shown["days_min"], shown["days_max"]) == (
            None,
            days_min,
            days_max,
        ), expression


def test_a_date_to_be_announced_comes_back_without_days(home):
    assert tracker(home, "deadline", "add", "Undated", "--due", "TBA").returncode == 0
    assert (
        tracker(home, "meeting", "add", "Talks", "--slug", "t", "--starts", "TBA").returncode == 0
    )
    [item] = _json(home, "countdown", "undated", "--json")
    shown = _json(home, "meeting", "show", "t", "--json")
    for found in (item, shown, _json(home, "deadline", "show", "undated", "--json")):
        assert (found["earliest"], found["latest"], found["precision"]) == (None, None, "tba")
        assert (found["days_min"], found["days_max"], found["days_remaining"]) == (
            None,
            None,
            None,
        )
        assert (found["human"], found["countdown_status"]) == ("date to be announced", "upcoming")


def test_a_meeting_given_a_start_and_an_end_keeps_both(home):
    added = tracker(
        home,
        "meeting",
        "add",
        "Talks",
        "--slug",
        "talks",
        "--starts",
        "30 March – 3 April 2027",
        "--ends",
        "early April 2027",
    )
    assert added.returncode == 0, added.stderr
    shown = _json(home, "meeting", "show", "talks", "--json")
    assert (shown["earliest"], shown["precision"]) == ("2027-03-30", "range")
    assert shown["ends"] == {
        "when": "early April 2027",
        "earliest": "2027-04-01",
        "latest": "2027-04-10",
        "precision": "range",
    }


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--due", "2027-03-28T02:30 Europe/Berlin"), "does not exist in Europe/Berlin"),
        (("--due", "2026-10-25T02:30 Europe/Berlin"), "happens twice"),
        (("--due", "2027-03-01", "--tz", "localtime"), "unknown time zone 'localtime'"),
        (("--due", "winter 2027"), "ambiguous"),
        (("--due", "sometime soon"), "expected one of"),
    ],
)
def test_a_bad_date_or_zone_is_refused_with_one_line_and_adds_nothing(home, args, reason):
    before = tracker(home, "deadline", "list", "--all", "--json").stdout
    result = tracker(home, "deadline", "add", "X", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and reason in result.stderr
    assert tracker(home, "deadline", "list", "--all", "--json").stdout == before


def test_a_by_deadline_opens_on_the_day_it_is_added(home):
    added = tracker(home, "--as-of", AS_OF, "deadline", "add", "By", "--due", "by end of 2026")
    assert added.returncode == 0, added.stderr
    [item] = _json(home, "countdown", "by", "--json")
    assert (item["earliest"], item["latest"], item["precision"]) == (
        "2026-12-03",
        "2026-12-31",
        "range",
    )
