"""The date grammar through the real command: each form given to `deadline add --due` and
`meeting add --starts/--ends` comes back with its window; bad dates and zones are refused."""

from __future__ import annotations

import json
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


def test_each_form_comes_back_from_countdown_and_meeting_show(home):
    for number, (expression, earliest, latest, precision) in enumerate(FORMS):
        added = tracker(home, "deadline", "add", f"Deadline {number}", "--due", expression)
        assert added.returncode == 0, (expression, added.stderr)
        [item] = _json(home, "countdown", f"deadline-{number}", "--json")
        assert (item["earliest"], item["latest"], item["precision"]) == (
            earliest,
            latest,
            precision,
        ), expression
        added = tracker(
            home, "meeting", "add", f"M {number}", "--slug", f"m{number}", "--starts", expression
        )
        assert added.returncode == 0, (expression, added.stderr)
        shown = _json(home, "meeting", "show", f"m{number}", "--json")
        assert (shown["earliest"], shown["latest"], shown["precision"]) == (
            earliest,
            latest,
            precision,
        ), expression


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
