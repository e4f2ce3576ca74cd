"""Graded sources on input (issue 13, item 4): `tracker source` lists, shows, regrades and
caveats sources; --source-grade grades a new --source; `claim` keeps what each source says
of a field, a date by its canonical text. Runs the real command in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker.cli.main import cli, describe
from tracker.errors import TrackerError

AS_OF = "2026-11-22T09:00Z"


def invoke(home: Path, *args: str) -> Result:
    env = {"TRACKER_DATA_DIR": str(home / "var"), "TRACKER_DATABASE_URL": ""}
    return CliRunner().invoke(cli, ["--as-of", AS_OF, *args], env=env)


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def refused(result: Result, *named: str) -> str:
    assert isinstance(result.exception, TrackerError), result.output
    code, line = describe(result.exception)
    assert code != 0 and "\n" not in line and all(name in line for name in named), line
    return line


def sources(home: Path) -> dict[str, dict[str, str | None]]:
    return {row["key"]: row for row in json.loads(ok(invoke(home, "source", "list", "--json")))}


def test_sources_list_with_grade_and_caveat_and_never_none(home: Path) -> None:
    listed = ok(invoke(home, "source", "list"))
    assert listed.splitlines()[0].split() == ["key", "title", "publisher", "grade", "caveat", "url"]
    assert "None" not in listed
    row = sources(home)["aca-abm-treaty"]
    assert set(row) >= {"key", "title", "publisher", "grade", "caveat", "url"}
    shown = ok(invoke(home, "source", "show", "aca-abm-treaty"))
    assert "grade" in shown and "cited by:" in shown and "None" not in shown


def test_a_source_is_regraded_and_caveated_and_a_caveat_removed(home: Path) -> None:
    caveat = "styled like a broadcaster; it is not one"
    was = sources(home)["aca-abm-treaty"]["grade"]
    edit = ("source", "edit", "aca-abm-treaty", "--grade", "unverified", "--caveat", caveat)
    assert ok(invoke(home, *edit)).startswith(f"aca-abm-treaty: grade {was} -> unverified")
    row = sources(home)["aca-abm-treaty"]
    assert (row["grade"], row["caveat"]) == ("unverified", caveat)
    ok(invoke(home, "source", "edit", "aca-abm-treaty", "--caveat", ""))
    assert sources(home)["aca-abm-treaty"]["caveat"] is None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--grade", "official"), "'official'"),
        (("--caveat", "two\nlines"), "caveat"),
        (("--caveat", "hidden \u202e text"), "caveat"),
        ((), "nothing to change"),
    ],
    ids=["grade", "line break", "bidi override", "nothing"],
)
def test_a_bad_grade_or_caveat_is_refused_and_nothing_changes(
    home: Path, args: tuple[str, ...], named: str
) -> None:
    before = sources(home)
    refused(invoke(home, "source", "edit", "aca-abm-treaty", *args), named)
    assert sources(home) == before


def test_an_unknown_source_names_the_closest(home: Path) -> None:
    refused(invoke(home, "source", "show", "aca-abm-treat"), "'aca-abm-treat'", "closest")


def test_a_new_source_takes_the_grade_given_and_a_known_one_keeps_its_own(home: Path) -> None:
    url = "https://example.org/notice"
    cited = ("--source", url, "--source-grade")
    ok(invoke(home, "deadline", "add", "Notice", "--due", "2027-01-01", *cited, "primary"))
    ok(invoke(home, "meeting", "add", "Talks", "--starts", "TBA", "--source", url))
    key = next(key for key, row in sources(home).items() if row["url"] == url)
    assert sources(home)[key]["grade"] == "primary"
    other = ("deadline", "add", "Other", "--due", "2027-01-01", *cited, "unverified")
    line = refused(invoke(home, *other), f"tracker source edit {key}")
    assert "graded primary" in line
    assert "Other" not in ok(invoke(home, "deadline", "list", "--all"))


def test_claims_compare_dates_by_their_canonical_text(home: Path) -> None:
    ok(invoke(home, "deadline", "add", "Report due", "--due", "2027-05-15", "--slug", "report"))
    claim = ("deadline", "claim", "report", "--field", "due", "--value")
    agreeing = ok(invoke(home, *claim, "15 May 2027", "--source", "aca-abm-treaty"))
    assert agreeing == "report: due 2027-05-15 according to aca-abm-treaty\n"
    other = ok(invoke(home, *claim, "2027-05-16", "--source", "https://example.org/b"))
    assert "sources disagree on due" in other
    claims = json.loads(ok(invoke(home, "deadline", "show", "report", "--json")))["claims"]
    assert [claim["value"] for claim in claims[0]["claims"]] == ["2027-05-15", "2027-05-16"]
    assert claims[0]["conflicting"] is True


def test_a_claim_replaces_the_sources_earlier_one(home: Path) -> None:
    ok(invoke(home, "meeting", "add", "Talks", "--starts", "2027-03-08", "--slug", "talks"))
    claim = ("meeting", "claim", "talks", "--field", "location", "--source", "aca-abm-treaty")
    for value in ("Vienna", "Geneva"):
        ok(invoke(home, *claim, "--value", value, "--note", f"moved to {value}"))
    claims = json.loads(ok(invoke(home, "meeting", "show", "talks", "--json")))["claims"]
    assert [claim["value"] for claim in claims[0]["claims"]] == ["Geneva"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--field", "title", "--value", "x", "--source", "aca-abm-treaty"), "'title'"),
        (("--field", "due", "--value", "soonish", "--source", "aca-abm-treaty"), "soonish"),
        (("--field", "due", "--value", "2027", "--source", "aca-abm-treat"), "closest"),
        (("--field", "due", "--value", "2027", "--source", "javascript:alert(1)"), "http"),
    ],
    ids=["field", "date", "source key", "source url"],
)
def test_a_bad_claim_is_refused_and_nothing_is_written(
    home: Path, args: tuple[str, ...], named: str
) -> None:
    refused(invoke(home, "deadline", "claim", "new-start-expiry", *args), named)
    shown = json.loads(ok(invoke(home, "deadline", "show", "new-start-expiry", "--json")))
    assert not any(claim["field"] == "due" for claim in shown.get("claims", []))


def test_a_date_to_be_announced_agrees_with_a_source_that_says_so(home: Path) -> None:
    ok(invoke(home, "deadline", "add", "Report", "--slug", "report", "--due", "TBA"))
    claim = ("deadline", "claim", "report", "--field", "due", "--source", "aca-abm-treaty")
    ok(invoke(home, *claim, "--value", "TBA"))
    shown = json.loads(ok(invoke(home, "deadline", "show", "report", "--json")))
    assert shown["conflicting"] is False
    ok(invoke(home, *claim, "--value", "2027"))
    shown = json.loads(ok(invoke(home, "deadline", "show", "report", "--json")))
    assert shown["conflicting"] is True
