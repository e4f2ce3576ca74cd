"""Forecasts, resolved (issue 17, item 4): `tracker forecast add|resolve|list`, scored by the
Brier score on range midpoints normalised to add up to 1, annulled when the event did not
take place; the seed document's three scenarios for the October 2023 Geneva talks; the
source's page and the item's page. Runs the real command (in-process, and as a process on a
fresh `tracker init` for the shipped seeds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from tracker.catalog import forecasting
from tracker.cli.main import cli, describe
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.errors import InvalidInput, TrackerError
from tracker.settings import Settings
from tracker.web.app import create_app

from .process import tracker

AS_OF = "2026-11-22T09:00Z"
HELD = "biden-putin-geneva-summit-2021"  # held on 16 June 2021 (shipped seeds)
GENEVA_2023 = "us-russia-geneva-talks-2023"  # unconfirmed: no source shows it took place
ANALYST = "fixture-analyst"
FIXTURE_SOURCE = f"""
[[source]]
key = "{ANALYST}"
title = "A fixture analyst's forecasts"
url = "https://example.org/forecasts"
grade = "unverified"
"""
# Midpoints 15%, 55% and 25% add up to 95%; normalised: 3/19, 11/19 and 5/19.
RANGES = ("Agreement=10-20%", "Working groups=50-60%", "No result=20-30%")


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


def listed(home: Path, *args: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ok(invoke(home, "forecast", "list", "--json", *args)))
    return found


@pytest.fixture
def analyst(home: Path) -> Path:
    """The seeded home with a fixture source to make forecasts."""
    seed = home / "analyst.toml"
    seed.write_text(FIXTURE_SOURCE, encoding="utf-8")
    ok(invoke(home, "seed", str(seed)))
    return home


def add(home: Path, slug: str, *outcomes: str, made: str = "2021-06-01") -> Result:
    options = [part for outcome in outcomes for part in ("--outcome", outcome)]
    return invoke(home, "forecast", "add", slug, "--by", ANALYST, "--made", made, *options)


# Reading outcomes


@pytest.mark.parametrize(
    ("given", "low", "high"),
    [
        ("50%", 0.5, 0.5),
        ("0.5", 0.5, 0.5),
        ("12.5%", 0.125, 0.125),
        ("15-20%", 0.15, 0.2),
        ("15%-20%", 0.15, 0.2),
        ("15–20%", 0.15, 0.2),
        ("0.15-0.2", 0.15, 0.2),
        ("0%", 0.0, 0.0),
        ("100%", 1.0, 1.0),
    ],
    ids=lambda value: str(value),
)
def test_a_probability_is_read_as_a_point_or_a_range(given: str, low: float, high: float) -> None:
    assert forecasting.parse_probability(given) == pytest.approx((low, high))


def test_ranges_are_kept_and_their_midpoints_normalised_to_add_up_to_one() -> None:
    outcomes = forecasting.parse_outcomes(RANGES)
    assert [o.written for o in outcomes] == ["10-20%", "50-60%", "20-30%"]
    # 0.15 / 0.95 = 3/19, 0.55 / 0.95 = 11/19, 0.25 / 0.95 = 5/19
    assert forecasting.probabilities(outcomes) == pytest.approx([3 / 19, 11 / 19, 5 / 19])
    assert sum(forecasting.probabilities(outcomes)) == pytest.approx(1)


def test_the_brier_score_sums_the_squared_errors_over_every_outcome() -> None:
    points = forecasting.parse_outcomes(["Yes=70%", "No=30%"])
    # Yes happened: (0.7 - 1)² + (0.3 - 0)² = 0.09 + 0.09
    assert forecasting.brier(points, "Yes") == pytest.approx(0.18)
    # No happened: (0.7 - 0)² + (0.3 - 1)² = 0.49 + 0.49
    assert forecasting.brier(points, "No") == pytest.approx(0.98)


# Recording and resolving, through the command


def test_a_forecast_resolved_is_scored_by_hand(analyst: Path) -> None:
    said = ok(add(analyst, HELD, *RANGES))
    assert "Agreement=10-20%; Working groups=50-60%; No result=20-30%" in said
    resolved = ok(
        invoke(analyst, "forecast", "resolve", HELD, "--outcome", "working groups", "--by", ANALYST)
    )
    # p = (3/19, 11/19, 5/19), "Working groups" happened:
    # (3/19 - 0)² + (11/19 - 1)² + (5/19 - 0)² = (9 + 64 + 25) / 361 = 98/361 ≈ 0.2715
    assert "Brier 0.2715" in resolved
    shown = listed(analyst, "--slug", HELD)
    (one,) = shown["forecasts"]
    assert one["brier"] == pytest.approx(98 / 361, abs=1e-6)
    assert (one["resolution"], one["resolved_outcome"]) == ("scored", "Working groups")
    assert [o["probability"] for o in one["outcomes"]] == ["10-20%", "50-60%", "20-30%"]
    assert [o["normalised"] for o in one["outcomes"]] == pytest.approx(
        [3 / 19, 11 / 19, 5 / 19], abs=1e-6
    )
    assert (one["source"]["key"], one["resolved_by"], one["made_at"][:10]) == (
        ANALYST,
        ANALYST,
        "2021-06-01",
    )
    (record,) = shown["records"]
    assert (record["made"], record["scored"], record["annulled"]) == (1, 1, 0)
    assert record["mean_brier"] == pytest.approx(98 / 361, abs=1e-6)


def test_an_annulled_forecast_scores_nothing_and_leaves_the_record_mean_alone(
    analyst: Path,
) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))
    ok(invoke(analyst, "forecast", "resolve", HELD, "--outcome", "Yes", "--by", ANALYST))
    ok(add(analyst, GENEVA_2023, "Held=60%", "Not held=40%", made="2023-08-01"))
    reason = "no source shows the talks took place"
    said = ok(invoke(analyst, "forecast", "resolve", GENEVA_2023, "--annul", reason))
    assert f"annulled ({reason})" in said
    shown = listed(analyst, "--by", ANALYST)
    annulled = next(f for f in shown["forecasts"] if f["slug"] == GENEVA_2023)
    assert (annulled["resolution"], annulled["resolution_reason"]) == ("annulled", reason)
    assert (annulled["brier"], annulled["resolved_outcome"]) == (None, None)
    (record,) = shown["records"]
    assert (record["made"], record["scored"], record["annulled"], record["open"]) == (2, 1, 1, 0)
    # only the scored one counts: (0.7 - 1)² + (0.3 - 0)² = 0.18
    assert record["mean_brier"] == pytest.approx(0.18)


def test_resolving_again_is_refused_in_one_line_unless_forced(analyst: Path) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))
    ok(invoke(analyst, "forecast", "resolve", HELD, "--outcome", "Yes", "--by", ANALYST))
    before = listed(analyst)
    again = invoke(analyst, "forecast", "resolve", HELD, "--outcome", "No", "--by", ANALYST)
    refused(again, "already resolved", "--force")
    assert listed(analyst) == before
    forced = ("forecast", "resolve", HELD, "--outcome", "No", "--by", ANALYST, "--force")
    assert "Brier 0.9800" in ok(invoke(analyst, *forced))


def test_a_meeting_no_source_shows_took_place_is_annulled_never_scored(analyst: Path) -> None:
    ok(add(analyst, GENEVA_2023, "Held=60%", "Not held=40%", made="2023-08-01"))
    scoring = ("forecast", "resolve", GENEVA_2023, "--outcome", "Held", "--by", ANALYST)
    refused(invoke(analyst, *scoring), "unconfirmed", "--annul")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("no-such-meeting", "--by", ANALYST, "--outcome", "A=50%", "--outcome", "B=50%"),
         "no deadline or meeting"),
        ((HELD, "--by", "no-such-source", "--outcome", "A=50%", "--outcome", "B=50%"),
         "no source"),
        ((HELD, "--by", ANALYST, "--outcome", "Breakthrough", "--outcome", "B=50%"),
         "NAME=PROBABILITY"),
        ((HELD, "--by", ANALYST, "--outcome", "A=likely", "--outcome", "B=50%"), "A=likely"),
        ((HELD, "--by", ANALYST, "--outcome", "A=30-20%", "--outcome", "B=75%"), "low end"),
        ((HELD, "--by", ANALYST, "--outcome", "A=120%", "--outcome", "B=0%"), "over 100%"),
        ((HELD, "--by", ANALYST, "--outcome", "A=50", "--outcome", "B=50%"), "takes %"),
        ((HELD, "--by", ANALYST, "--outcome", "A=50%", "--outcome", "a=50%"), "given twice"),
        ((HELD, "--by", ANALYST, "--outcome", "A=100%"), "2 to 50"),
        ((HELD, "--by", ANALYST, "--outcome", "A=60-70%", "--outcome", "B=50%"), "at least 110%"),
        ((HELD, "--by", ANALYST, "--outcome", "A=20%", "--outcome", "B=30%"), "at most 50%"),
        ((HELD, "--by", ANALYST, "--made", "2027-01-01", "--outcome", "A=50%",
          "--outcome", "B=50%"), "after now"),
        ((HELD, "--by", ANALYST, "--made", "2021", "--outcome", "A=50%", "--outcome", "B=50%"),
         "the day it was made"),
    ],
    ids=[
        "unknown-slug", "unknown-source", "no-equals", "no-number", "low-above-high",
        "over-100", "percent-without-sign", "duplicate-name", "one-outcome", "lows-over-one",
        "highs-under-one", "made-in-the-future", "made-not-a-day",
    ],
)  # fmt: skip
def test_a_bad_forecast_is_refused_in_one_line_and_nothing_changes(
    analyst: Path, args: tuple[str, ...], named: str
) -> None:
    before = listed(analyst)
    refused(invoke(analyst, "forecast", "add", *args), named)
    assert listed(analyst) == before


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((HELD, "--outcome", "Maybe", "--by", ANALYST), "no outcome 'Maybe'"),
        ((HELD, "--outcome", "Yes"), "--by SOURCE_KEY"),
        ((HELD, "--annul", "  "), "say why"),
        ((HELD,), "--outcome NAME) or --annul"),
        (("ssd-2021-informal-consultations", "--annul", "x"), "no forecast on meeting"),
    ],
    ids=["unknown-outcome", "scored-without-source", "empty-reason", "neither", "no-forecast"],
)
def test_a_bad_resolution_is_refused_in_one_line_and_nothing_changes(
    analyst: Path, args: tuple[str, ...], named: str
) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))
    before = listed(analyst)
    refused(invoke(analyst, "forecast", "resolve", *args), named)
    assert listed(analyst) == before


def test_one_outcome_a_forecast_lacks_refuses_the_whole_resolution(analyst: Path) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))
    ok(add(analyst, HELD, "Yes=50%", "Partly=20%", "No=30%", made="2021-06-02"))
    before = listed(analyst)
    partly = ("forecast", "resolve", HELD, "--outcome", "Partly", "--by", ANALYST)
    refused(invoke(analyst, *partly), "no outcome 'Partly'", "nothing changed")
    assert listed(analyst) == before


# Seeds


def test_a_seeded_forecast_is_scored_once_and_a_second_load_changes_nothing(
    analyst: Path,
) -> None:
    seed = analyst / "forecast.toml"
    seed.write_text(
        f"""
[[forecast]]
slug = "{HELD}"
source = "{ANALYST}"
made = 2021-06-01
outcomes = ["Yes=70%", "No=30%"]
resolution = "scored"
outcome = "yes"
resolved_by = "{ANALYST}"
""",
        encoding="utf-8",
    )
    assert "1 forecasts created" in ok(invoke(analyst, "seed", str(seed)))
    assert "nothing changed" in ok(invoke(analyst, "seed", str(seed)))
    (one,) = listed(analyst, "--slug", HELD)["forecasts"]
    assert (one["resolved_outcome"], one["brier"]) == ("Yes", pytest.approx(0.18))


def test_a_seeded_forecast_naming_no_outcome_of_its_own_is_refused(analyst: Path) -> None:
    seed = analyst / "forecast.toml"
    seed.write_text(
        f"""
[[forecast]]
slug = "{HELD}"
source = "{ANALYST}"
made = 2021-06-01
outcomes = ["Yes=70%", "No=30%"]
resolution = "scored"
outcome = "Partly"
resolved_by = "{ANALYST}"
""",
        encoding="utf-8",
    )
    refused(invoke(analyst, "seed", str(seed)), "forecast.toml [[forecast]] #1", "Partly")
    assert listed(analyst, "--by", ANALYST)["forecasts"] == []


def test_the_seed_documents_three_geneva_scenarios_are_listed_annulled(seeded: Path) -> None:
    """A fresh `tracker init`, the real command as a process."""
    result = tracker(seeded, "forecast", "list", "--json", "--slug", GENEVA_2023)
    assert result.returncode == 0, result.stderr
    (one,) = json.loads(result.stdout)["forecasts"]
    assert [(o["name"], o["probability"]) for o in one["outcomes"]] == [
        ("Breakthrough", "15-20%"),
        ("Procedural Progress", "40-50%"),
        ("Complete Impasse", "30-35%"),
    ]
    assert one["source"]["key"] == "bbcexpress-russia-us-diplomacy-2023"
    assert one["source"]["grade"] == "unverified"
    assert one["made_at"].startswith("2023-07-01")
    assert one["resolution"] == "annulled" and "unconfirmed" in one["resolution_reason"]
    assert one["brier"] is None and one["resolved_outcome"] is None
    # midpoints 17.5%, 45%, 32.5% add up to 95%
    assert [o["normalised"] for o in one["outcomes"]] == pytest.approx(
        [0.175 / 0.95, 0.45 / 0.95, 0.325 / 0.95], abs=1e-6
    )


# Pages


def client(home: Path) -> TestClient:
    settings = Settings(data_dir=home / "var")
    sessions = make_session_factory(make_engine(settings.effective_database_url))
    return TestClient(
        create_app(settings, sessions, FixedClock(datetime(2026, 11, 22, tzinfo=UTC)))
    )


def test_the_sources_page_shows_its_forecasts_and_record(analyst: Path) -> None:
    ok(add(analyst, HELD, *RANGES))
    ok(invoke(analyst, "forecast", "resolve", HELD, "--outcome", "Working groups", "--by", ANALYST))
    with client(analyst) as web:
        page = web.get(f"/sources/{ANALYST}")
        data = web.get(f"/sources/{ANALYST}.json").json()
        assert web.get("/sources/no-such-source").status_code == 404
    assert page.status_code == 200
    assert "10-20%" in page.text and "Brier score 0.2715" in page.text
    assert f"/meetings/{HELD}" in page.text
    assert data["record"]["mean_brier"] == pytest.approx(98 / 361, abs=1e-6)


def test_the_items_page_shows_its_forecasts_with_ranges_and_resolution(seeded: Path) -> None:
    with client(seeded) as web:
        page = web.get(f"/meetings/{GENEVA_2023}")
    assert page.status_code == 200
    assert 'id="forecasts"' in page.text
    assert "15-20%" in page.text and "Annulled, scores nothing" in page.text
    assert "/sources/bbcexpress-russia-us-diplomacy-2023" in page.text


def test_an_outcome_without_a_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="NAME=PROBABILITY"):
        forecasting.parse_outcome("=50%")


def test_a_local_resolution_is_kept_over_the_seeds_until_taken(analyst: Path) -> None:
    def seed(reason: str) -> str:
        path = analyst / "forecast.toml"
        path.write_text(
            f"""
[[forecast]]
slug = "{GENEVA_2023}"
source = "{ANALYST}"
made = 2023-08-01
outcomes = ["Held=60%", "Not held=40%"]
resolution = "annulled"
reason = "{reason}"
""",
            encoding="utf-8",
        )
        return ok(invoke(analyst, "seed", str(path)))

    def reason() -> str:
        (one,) = listed(analyst, "--by", ANALYST)["forecasts"]
        found: str = one["resolution_reason"]
        return found

    seed("no source shows it")
    local = ("forecast", "resolve", GENEVA_2023, "--annul", "local reason", "--force")
    ok(invoke(analyst, *local))
    assert "nothing changed" in seed("no source shows it")
    assert reason() == "local reason"
    said = seed("a new seed reason")
    assert "conflict: forecast" in said and ":resolution" in said
    assert reason() == "local reason"
    take = f"forecast:{GENEVA_2023}:{ANALYST}:2023-08-01:resolution"
    path = str(analyst / "forecast.toml")
    ok(invoke(analyst, "seed", path, "--take", take))
    assert reason() == "a new seed reason"


def test_a_sources_forecast_on_an_item_is_recorded_once_a_day(analyst: Path) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))
    refused(add(analyst, HELD, "Yes=60%", "No=40%"), "already recorded")
    ok(add(analyst, HELD, "Yes=60%", "No=40%", made="2021-06-02"))
    assert len(listed(analyst, "--by", ANALYST)["forecasts"]) == 2


def test_as_known_at_a_moment_a_forecast_is_there_once_made_and_resolved_once_resolved(
    analyst: Path,
) -> None:
    ok(add(analyst, HELD, "Yes=70%", "No=30%"))  # made 2021-06-01
    ok(invoke(analyst, "forecast", "resolve", HELD, "--outcome", "Yes", "--by", ANALYST))

    def known(moment: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            ok(invoke(analyst, "--known-at", moment, "forecast", "list", "--json", "--by", ANALYST))
        )
        return found

    assert known("2021-05-01") == {"forecasts": [], "records": []}
    (then,) = known("2021-07-01")["forecasts"]
    assert (then["resolution"], then["brier"], then["outcomes"][0]["probability"]) == (
        None,
        None,
        "70%",
    )
    assert known("2021-07-01")["records"][0]["open"] == 1
    (now,) = known("2026-11-22T10:00Z")["forecasts"]
    assert (now["resolution"], now["brier"]) == ("scored", pytest.approx(0.18))
