"""A treaty's parties beyond two states: `treaty show --parties`, the ratifications its
entry into force still needs, its count of states parties, and the states `treaty list`
summarises (configurable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.catalog import seeding
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.settings import Settings
from tracker.web.app import create_app

from .conftest import CURRENT_TIME
from .process import tracker

# A test-ban treaty of six required states, made up for the test (not the CTBT's facts).
SEED = """
[[source]]
key = "fx-status"
title = "Status of signature and ratification"
url = "https://example.org/status"
grade = "primary"

[[source]]
key = "fx-press"
title = "A report"
url = "https://example.org/report"
grade = "established"

[[treaty]]
slug = "ctbt"
name = "Fixture Test-Ban Treaty"
short_name = "FXT"
kind = "multilateral"
status = "not-in-force"
sources = ["fx-status"]
parties_count = 178
parties_count_on = 2026-11-01
parties_count_source = "fx-status"
required_states = ["US", "RU", "CN", "FR", "GB", "KP"]

[[participation]]
treaty = "ctbt"
state = "US"
event = "signed"
date = 1996-09-24
sources = ["fx-status"]

[[participation]]
treaty = "ctbt"
state = "RU"
event = "ratified"
date = 2000-06-30
sources = ["fx-status"]

[[participation]]
treaty = "ctbt"
state = "RU"
event = "de-ratified"
date = 2023-11-02
sources = ["fx-press"]

[[participation]]
treaty = "ctbt"
state = "FR"
event = "ratified"
date = 1998-04-06
sources = ["fx-status"]

[[participation]]
treaty = "ctbt"
state = "GB"
event = "ratified"
date = 1998-04-06
sources = ["fx-status"]

[[participation]]
treaty = "ctbt"
state = "NZ"
event = "ratified"
date = 1999-03-19
sources = ["fx-status"]
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding only the fixture treaty (read by every test here)."""
    root = tmp_path_factory.mktemp("parties")
    assert tracker(root, "db", "upgrade").returncode == 0
    (root / "fixture.toml").write_text(SEED)
    seeded = tracker(root, "seed", "fixture.toml")
    assert seeded.returncode == 0, seeded.stderr
    return root


def shown(home: Path, *args: str, as_of: str = "2026-12-03", **env: str) -> str:
    done = tracker(home, "--as-of", as_of, "treaty", *args, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def as_json(home: Path, *args: str, as_of: str = "2026-12-03") -> Any:
    return json.loads(shown(home, *args, "--json", as_of=as_of))


def test_parties_lists_every_required_state_marked_and_none_where_it_never_acted(home):
    found = as_json(home, "show", "ctbt", "--parties")["parties"]
    assert [(p["state"], p["standing"], p["required"]) for p in found] == [
        ("CN", "none", True),
        ("FR", "party", True),
        ("NZ", "party", False),
        ("KP", "none", True),
        ("RU", "signatory", True),
        ("GB", "party", True),
        ("US", "signatory", True),
    ]
    names = {p["state"]: p["name"] for p in found}
    assert (names["KP"], names["US"], names["GB"]) == (
        "North Korea",
        "United States",
        "United Kingdom",
    )
    russia = next(p for p in found if p["state"] == "RU")
    assert [(e["event"], e["date"]) for e in russia["events"]] == [
        ("ratified", "2000-06-30"),
        ("de-ratified", "2023-11-02"),
    ]
    cited = russia["events"][1]["sources"][0]
    assert (cited["key"], cited["url"], cited["grade"]) == (
        "fx-press",
        "https://example.org/report",
        "established",
    )


def test_parties_as_text_mark_required_states_and_cite_key_url_and_grade(home):
    text = shown(home, "show", "ctbt", "--parties")
    assert "* CN  China: none" in text
    assert "  NZ  New Zealand: party" in text
    assert "source: fx-press [established] https://example.org/report" in text


def test_show_says_how_many_annex_2_ratifications_are_still_needed_as_of_the_day(home):
    assert "Annex 2 ratifications still needed: 4 (of 6: CN, KP, RU, US)" in shown(
        home, "show", "ctbt"
    )
    # Before Russia de-ratified it was a party.
    before = as_json(home, "show", "ctbt", as_of="2020-01-01")["ratifications_needed"]
    assert (before["count"], before["states"]) == (3, ["CN", "KP", "US"])
    # Before anyone ratified, all six were needed.
    assert as_json(home, "show", "ctbt", as_of="1997-01-01")["ratifications_needed"] == {
        "label": "Annex 2",
        "of": 6,
        "count": 6,
        "states": ["CN", "FR", "GB", "KP", "RU", "US"],
    }


def test_show_gives_the_count_of_states_parties_with_its_day_and_source(home):
    counted = "States parties: 178 (as of 2026-11-01, source fx-status https://example.org/status)"
    assert counted in shown(home, "show", "ctbt").splitlines()
    data = as_json(home, "show", "ctbt")
    assert (data["parties_count"], data["parties_count_on"]) == (178, "2026-11-01")
    assert data["parties_count_source"]["key"] == "fx-status"


def test_list_summarises_the_us_and_russia_by_default_keeping_its_json_keys(home):
    text = shown(home, "list")
    assert text.splitlines()[0].split()[-2:] == ["US", "RU"]
    row = as_json(home, "list")[0]
    old_keys = {"slug", "name", "short_name", "kind", "status", "signed"}
    old_keys |= {"entered_into_force", "expires", "depositary", "standing", "sources"}
    assert old_keys <= set(row)
    assert row["standing"] == {"US": "signatory", "RU": "signatory"}


def test_list_summarises_the_states_the_settings_name(home):
    states = json.dumps(["FR", "CN", "NZ"])
    text = shown(home, "list", TRACKER_TREATIES__SUMMARY_STATES=states)
    header, row = text.splitlines()[:2]
    assert header.split()[-3:] == ["FR", "CN", "NZ"]
    assert row.split()[-3:] == ["party", "none", "party"]


def test_a_summary_state_that_is_no_alpha_2_code_is_refused_in_one_line(home):
    done = tracker(home, "treaty", "list", TRACKER_TREATIES__SUMMARY_STATES='["Russia"]')
    assert done.returncode == 2
    assert "treaties.summary_states" in done.stderr and "Traceback" not in done.stderr


def test_the_treaty_page_shows_states_parties_and_ratifications_still_needed(
    session_factory: sessionmaker[Session], tmp_path: Path, database_url: str
):
    (tmp_path / "fixture.toml").write_text(SEED)
    with transaction(session_factory) as session:
        seeding.load(session, [tmp_path / "fixture.toml"], now=CURRENT_TIME)
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    with TestClient(create_app(settings, session_factory, FixedClock(CURRENT_TIME))) as client:
        page = client.get("/treaties/ctbt")
        api = client.get("/api/treaties/ctbt").json()
    assert page.status_code == 200
    assert "<dt>States parties</dt>" in page.text and "178 (as of 2026-11-01)" in page.text
    assert "<dt>Annex 2 ratifications still needed</dt>" in page.text
    assert "4 of 6 (CN, KP, RU, US)" in page.text
    assert api["ratifications_needed"]["count"] == 4
