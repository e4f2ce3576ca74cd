"""Validated input (issue 13, item 5): unknown slugs, text, source URLs, recurrence rules and
seed files are refused with one line before anything is written; human output never prints
None (item 7). Runs the real command in-process on a seeded database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker import recurrence
from tracker.cli.main import cli, describe
from tracker.errors import InvalidInput, TrackerError

AS_OF = "2026-12-03"


def invoke(home: Path, *args: str) -> Result:
    env = {"TRACKER_DATA_DIR": str(home / "var"), "TRACKER_DATABASE_URL": ""}
    return CliRunner().invoke(cli, ["--as-of", AS_OF, *args], env=env)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("seeded")
    result = invoke(home, "init")
    assert result.exit_code == 0, result.output
    invoke(home, "subscriber", "add", "a@example.org", "--treaty", "new-start")
    return home


def refused(result: Result, *named: str) -> str:
    """The one line `tracker` prints for a refusal (main() words the error), which names
    each of ``named``."""
    assert isinstance(result.exception, TrackerError), result.output
    code, line = describe(result.exception)
    assert code != 0 and "\n" not in line
    assert all(name in line for name in named), line
    return line


@pytest.mark.parametrize(
    "args",
    [
        ("upcoming", "--treaty", "new-strat"),
        ("deadline", "list", "--treaty", "new-strat"),
        ("meeting", "list", "--treaty", "new-strat"),
        ("deadline", "show", "new-start-expiri"),
    ],
    ids=" ".join,
)
def test_an_unknown_slug_in_a_command_or_filter_names_the_closest_one(
    seeded: Path, args: tuple[str, ...]
) -> None:
    line = refused(invoke(seeded, *args), repr(args[-1]))
    assert "closest: 'new-start" in line


@pytest.mark.parametrize(
    "args",
    [("upcoming", "--kind", "plenery"), ("deadline", "list", "--kind", "nope")],
    ids=" ".join,
)
def test_an_unknown_kind_in_a_filter_is_refused(seeded: Path, args: tuple[str, ...]) -> None:
    line = refused(invoke(seeded, *args), repr(args[-1]))
    if args[-1] == "plenery":
        assert "closest: 'plenary'" in line


def test_a_subscriber_filter_naming_an_unknown_treaty_writes_nothing(home: Path) -> None:
    refused(invoke(home, "subscriber", "add", "b@example.org", "--treaty", "nope"), "'nope'")
    refused(invoke(home, "subscriber", "edit", "a@example.org", "--treaty", "nope"), "'nope'")
    refused(invoke(home, "subscriber", "add", "b@example.org", "--kind", "nope"), "'nope'")
    listed = invoke(home, "subscriber", "list", "--json").output
    assert "b@example.org" not in listed and '"nope"' not in listed
    assert '"new-start"' in listed


def test_an_unknown_kind_when_adding_names_the_closest_one(home: Path) -> None:
    before = invoke(home, "deadline", "list", "--all", "--json").output
    line = refused(
        invoke(home, "deadline", "add", "R", "--due", "2027", "--kind", "expiri"), "'expiri'"
    )
    assert "closest: 'expiry'" in line
    assert invoke(home, "deadline", "list", "--all", "--json").output == before


@pytest.mark.parametrize("name", ["bidi\u202eeman", "two\nlines", "x" * 501])
def test_a_subscriber_name_is_held_to_the_title_rules(home: Path, name: str) -> None:
    refused(invoke(home, "subscriber", "add", "c@example.org", "--name", name), "name")
    refused(invoke(home, "subscriber", "edit", "a@example.org", "--name", name), "name")
    listed = invoke(home, "subscriber", "list", "--json").output
    assert "c@example.org" not in listed and "\\u202e" not in listed


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_a_source_url_that_is_not_http_is_refused(home: Path, url: str) -> None:
    before = invoke(home, "deadline", "list", "--all", "--json").output
    result = invoke(home, "deadline", "add", "Report", "--due", "2027", "--source", url)
    refused(result, "not an http(s) URL")
    assert invoke(home, "deadline", "list", "--all", "--json").output == before


@pytest.mark.parametrize(
    "title",
    ["over\u202eride", "iso\u2066late\u2069", "two\nlines", "cr\rhere", "bell\x07", "x" * 501],
)
def test_a_title_with_control_or_bidi_override_characters_is_refused(
    home: Path, title: str
) -> None:
    before = invoke(home, "deadline", "list", "--all", "--json").output
    refused(invoke(home, "deadline", "add", title, "--due", "2027"), "title")
    assert invoke(home, "deadline", "list", "--all", "--json").output == before


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", "no occurrence"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "no occurrence"),
        ("FREQ=YEARLY;UNTIL=20200101", "no occurrence"),
        ("FREQ=HOURLY", "more often than daily"),
        ("FREQ=MINUTELY", "more often than daily"),
        ("FREQ=DAILY;BYHOUR=9,15", "more often than daily"),
        ("FREQ=DAILY;BYMINUTE=0,30", "more often than daily"),
        ("FREQ=WEEKLY;BYSECOND=1,2", "more often than daily"),
    ],
)
def test_a_recurrence_rule_that_never_or_too_often_recurs_is_refused(
    home: Path, rule: str, why: str
) -> None:
    before = invoke(home, "meeting", "list", "--all", "--json").output
    result = invoke(home, "meeting", "add", "Talks", "--starts", "2027-01-04", "--repeat", rule)
    refused(result, why)
    assert invoke(home, "meeting", "list", "--all", "--json").output == before


def test_too_sparse_a_rule_is_refused_by_a_count_of_periods() -> None:
    # 29 February 2028 is a Tuesday, 2036's a Friday: each day checked to reach them.
    leap_day = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY="
    recurrence.check_series(leap_day + "TU", date(2026, 12, 3))
    with pytest.raises(InvalidInput, match="too sparse"):
        recurrence.check_series(leap_day + "FR", date(2026, 12, 3))
    # The same day reached by yearly steps is a handful of periods.
    recurrence.check_series("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=FR", date(2026, 12, 3))


def test_expansion_at_run_time_steps_through_a_bounded_number_of_periods() -> None:
    days = recurrence.occurrences(
        "FREQ=DAILY", date(2026, 1, 1), date(2026, 1, 1), date(2100, 1, 1)
    )
    assert len(days) == recurrence.MAX_OCCURRENCES
    none = recurrence.occurrences(
        "FREQ=DAILY;COUNT=5", date(2026, 1, 1), date(2090, 1, 1), date(2100, 1, 1)
    )
    assert none == []
    # A row stored before the input checks, never matching: no occurrence, at once.
    never = recurrence.occurrences(
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", date(2026, 1, 1), date(2026, 1, 1), date(2027, 1, 1)
    )
    assert never == []


SEED_SOURCE = """
[[source]]
key = "s"
title = "{title}"
url = "{url}"

[[deadline]]
slug = "bad-seed-deadline"
title = "{title}"
due = "2027"
sources = ["s"]

[[meeting]]
slug = "bad-seed-meeting"
title = "Talks"
kind = "consultation"
starts = "2027-01-04"
recurrence = "{rule}"
"""
GOOD = {"title": "Fine", "url": "https://example.org/a", "rule": "FREQ=YEARLY"}


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("url", "javascript:alert(1)", ("[[source]] #1 (s)", "url")),
        ("title", "over\u202eride", ("[[source]] #1 (s)", "title")),
        ("rule", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", ("(bad-seed-meeting)", "recurrence")),
    ],
)
def test_a_bad_seed_file_is_refused_as_a_whole_naming_file_record_and_field(
    home: Path, field: str, value: str, named: tuple[str, ...]
) -> None:
    seed = home / "bad.toml"
    seed.write_text(SEED_SOURCE.format(**(GOOD | {field: value})), encoding="utf-8")
    before = [
        invoke(home, *listing, "--all", "--json").output
        for listing in (("deadline", "list"), ("meeting", "list"))
    ]
    refused(invoke(home, "seed", str(seed)), "bad.toml", *named)
    after = [
        invoke(home, *listing, "--all", "--json").output
        for listing in (("deadline", "list"), ("meeting", "list"))
    ]
    assert after == before and "bad-seed" not in "".join(after)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ('[[meeting.delegation]]\nstate = "X"\nmembers = ["a\\u202eb"]\n', "delegation member"),
        (
            '[[meeting.history]]\nfield = "title"\nold = "Old\\u2067"\nnew = "Talks"\n'
            "at = 2026-01-01T00:00:00Z\n",
            "title",
        ),
    ],
)
def test_a_seed_file_holds_delegations_and_history_to_the_same_rules(
    home: Path, extra: str, named: str
) -> None:
    seed = home / "bad.toml"
    seed.write_text(SEED_SOURCE.format(**GOOD) + extra, encoding="utf-8")
    line = refused(invoke(home, "seed", str(seed)), "bad.toml", "(bad-seed-meeting)", named)
    assert "control character" in line
    assert "bad-seed" not in invoke(home, "meeting", "list", "--all", "--json").output


def test_a_good_seed_file_of_the_same_shape_loads(home: Path) -> None:
    seed = home / "good.toml"
    seed.write_text(SEED_SOURCE.format(**GOOD), encoding="utf-8")
    assert invoke(home, "seed", str(seed)).exit_code == 0
    assert "bad-seed-meeting" in invoke(home, "meeting", "list", "--all", "--json").output


LISTINGS = [
    ("treaty", "list"),
    ("treaty", "show", "new-start"),
    ("treaty", "show", "tpnw"),
    ("deadline", "list", "--all"),
    ("deadline", "show", "new-start-expiry"),
    ("meeting", "list", "--all"),
    ("countdown",),
    ("countdown", "--all"),
    ("upcoming", "--within", "3650d"),
    ("subscriber", "list"),
    ("subscriber", "show", "a@example.org"),
    ("alerts", "list"),
    ("notifiers",),
]


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_human_output_never_prints_none(seeded: Path, args: tuple[str, ...]) -> None:
    result = invoke(seeded, *args)
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    assert "None" not in result.output, result.output  # as `grep -c None` reads it


def test_every_seeded_treaty_meeting_and_deadline_shows_without_none(seeded: Path) -> None:
    for noun, listing in (("treaty", ()), ("meeting", ("--all",)), ("deadline", ("--all",))):
        rows = json.loads(invoke(seeded, noun, "list", *listing, "--json").output)
        assert rows
        for row in rows:
            shown = invoke(seeded, noun, "show", row["slug"])
            assert shown.exit_code == 0, shown.output
            assert "None" not in shown.output, (row["slug"], shown.output)
