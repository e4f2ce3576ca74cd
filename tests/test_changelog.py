"""`tracker history` and the page of what changed since a moment, through the real command
on a catalogue of treaties (no seeded meetings: every change listed is one a test made, at
a moment the test gives with --as-of), and the link to that page in every digest."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.notifiers.base import Message, Recipient
from tracker.notifiers.compose import render
from tracker.settings import FeedSettings, Settings
from tracker.views.changelog import since_link
from tracker.web.app import create_app

from .conftest import REPO
from .process import tracker

pytestmark = pytest.mark.slow  # each test starts the real command

BASE = "https://tracker.example.org/"
BEFORE = ("--as-of", "2026-11-20T09:00Z")  # the items are added before the --since below
EDITED = ("--as-of", "2026-12-02T10:00Z")
NOW = datetime(2026, 12, 2, 7, tzinfo=UTC)


def run(home: Path, *args: str) -> str:
    result = tracker(home, *args, TRACKER_FEEDS__BASE_URL=BASE)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def history(home: Path, *args: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(run(home, "history", *args, "--json"))
    return found


@pytest.fixture(scope="module")
def treaties(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose catalogue holds the shipped sources and treaties, loaded on 1 November."""
    home = tmp_path_factory.mktemp("treaties")
    run(home, "db", "upgrade")
    seeds = [str(REPO / "seeds" / name) for name in ("10-sources.toml", "20-treaties.toml")]
    run(home, "--as-of", "2026-11-01", "seed", *seeds)
    return home


@pytest.fixture
def home(treaties: Path, tmp_path: Path) -> Path:
    """A private copy, with a BWC meeting and a CWC deadline added on 20 November and
    edited on 2 December through the CLI."""
    shutil.copytree(treaties / "var", tmp_path / "var")
    add = (*BEFORE, "meeting", "add", "BWC talks", "--slug", "bwc-talks", "--kind", "plenary")
    run(tmp_path, *add, "--starts", "March 2027", "--treaty", "bwc")
    add = (*BEFORE, "deadline", "add", "CWC report", "--slug", "cwc-report", "--kind", "other")
    run(tmp_path, *add, "--due", "Q2 2027", "--treaty", "cwc")
    source = ("--source", "https://example.org/bwc-notice", "--source-grade", "primary")
    run(tmp_path, *EDITED, "meeting", "edit", "bwc-talks", "--starts", "2027-03-08", *source)
    run(tmp_path, "--as-of", "2026-12-02T11:00Z", "deadline", "edit", "cwc-report", "--due", "TBA")
    return tmp_path


def test_history_since_lists_a_cli_edit_with_its_old_and_new_values_and_origin_cli(
    home: Path,
) -> None:
    found = history(home, "--since", "2026-12-01")
    assert [(e["slug"], e["field"]) for e in found] == [
        ("cwc-report", "due"),  # newest first
        ("bwc-talks", "starts"),
    ]
    edit = found[1]
    assert edit == {
        "type": "meeting",
        "slug": "bwc-talks",
        "title": "BWC talks",
        "field": "starts",
        "old": "March 2027",
        "new": "2027-03-08",
        "changed_at": "2026-12-02T10:00:00+00:00",
        "recorded_at": "2026-12-02T10:00:00+00:00",
        "origin": "cli",
        "source": edit["source"],
        "note": None,
        "link": f"{BASE}meetings/bwc-talks",
    }
    assert (edit["source"]["url"], edit["source"]["grade"]) == (
        "https://example.org/bwc-notice",
        "primary",
    )
    assert (found[0]["old"], found[0]["new"]) == ("Q2 2027", "TBA")


def test_without_since_every_change_is_listed_newest_first_creations_too(home: Path) -> None:
    found = history(home)
    mine = [(e["slug"], e["field"]) for e in found if e["slug"] in ("bwc-talks", "cwc-report")]
    assert mine == [
        ("cwc-report", "due"),
        ("bwc-talks", "starts"),
        ("cwc-report", "created"),
        ("bwc-talks", "created"),
    ]
    instants = [(e["changed_at"]) for e in found]
    assert instants == sorted(instants, reverse=True)
    assert {e["origin"] for e in found if e["slug"] == "bwc-talks"} == {"cli"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--treaty", "bwc"), [("bwc-talks", "starts")]),
        (("--treaty", "cwc"), [("cwc-report", "due")]),
        (("--kind", "plenary"), [("bwc-talks", "starts")]),
        (("--type", "deadline"), [("cwc-report", "due")]),
        (("--type", "meeting", "--treaty", "cwc"), []),
        (("--limit", "1"), [("cwc-report", "due")]),
        (("--since", "2026-12-02T10:30Z"), [("cwc-report", "due")]),
        (("--known-at", "2026-12-02T10:30Z"), [("bwc-talks", "starts")]),
    ],
    ids=[
        "treaty-bwc",
        "treaty-cwc",
        "kind",
        "type",
        "type-and-treaty",
        "limit",
        "since-instant",
        "known-at",
    ],
)
def test_history_filters(home: Path, options: tuple[str, ...], expected: list[Any]) -> None:
    found = history(home, "--since", "2026-12-01", *options)
    assert [(e["slug"], e["field"]) for e in found] == expected


def test_history_since_a_duration_counts_back_from_as_of(home: Path) -> None:
    said = run(home, "--as-of", "2026-12-02T12:30Z", "history", "--since", "2h", "--json")
    found = json.loads(said)
    assert [(e["slug"], e["field"]) for e in found] == [("cwc-report", "due")]


def test_history_as_text_is_one_readable_line_per_change(home: Path) -> None:
    lines = run(home, "history", "--since", "2026-12-01").splitlines()
    assert lines == [
        '2026-12-02 11:00Z deadline cwc-report "CWC report": date Q2 2027 → TBA [cli]',
        '2026-12-02 10:00Z meeting bwc-talks "BWC talks": start March 2027 → 2027-03-08 [cli] '
        "source example-org-bwc-notice (primary) https://example.org/bwc-notice",
    ]
    assert (
        run(home, "history", "--since", "2027-01-01")
        == "No change recorded since 2027-01-01 00:00 UTC.\n"
    )


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("--treaty", "no-such-treaty"), "no treaty 'no-such-treaty'"),
        (("--kind", "plenery"), "unknown kind 'plenery'"),
        (("--type", "deadline", "--kind", "plenary"), "unknown deadline kind 'plenary'"),
        (("--since", "the day before"), "cannot read date 'the day before'"),
    ],
    ids=["treaty", "kind", "kind-of-type", "since"],
)
def test_bad_input_is_one_line_and_no_traceback(
    treaties: Path, options: tuple[str, ...], said: str
) -> None:
    result = tracker(treaties, "history", *options)
    assert result.returncode != 0 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert said in line and "Traceback" not in result.stderr


def client(home: Path, now: datetime) -> Iterator[TestClient]:
    settings = Settings(data_dir=home / "var", feeds=FeedSettings(base_url=BASE))
    engine = make_engine(settings.effective_database_url)
    app = create_app(settings, make_session_factory(engine), FixedClock(now))
    with TestClient(app) as served:
        yield served
    engine.dispose()


def listed(page: str) -> list[tuple[str, str]]:
    """The changes a page lists: each one's field and the path of its item's page."""
    return re.findall(r'<li class="change change-(\w+)">.*?href="[^"]*/(\w+s/[\w-]+)"', page, re.S)


def test_the_changes_page_lists_what_changed_since_the_moment_given(home: Path) -> None:
    for served in client(home, datetime(2026, 12, 3, 9, tzinfo=UTC)):
        page = served.get("/changes", params={"since": "2026-12-02T10:30:00Z"})
        assert page.status_code == 200
        assert listed(page.text) == [("due", "deadlines/cwc-report")]
        assert "Changed since 2 December 2026, 10:30 UTC" in page.text
        everything = served.get("/changes", params={"since": "2026-12-01"}).text
        assert listed(everything) == [
            ("due", "deadlines/cwc-report"),
            ("starts", "meetings/bwc-talks"),
        ]
        assert "March 2027 → 2027-03-08" in everything and "[cli]" in everything
        only = served.get("/changes", params={"since": "2026-12-01", "treaty": "bwc"}).text
        assert listed(only) == [("starts", "meetings/bwc-talks")]
        known = {"since": "2026-12-01", "known_at": "2026-12-02T10:30:00Z"}
        assert listed(served.get("/changes", params=known).text) == [
            ("starts", "meetings/bwc-talks")
        ]
        refused = served.get("/changes", params={"since": "whenever"})
        assert refused.status_code == 400 and "cannot read date" in refused.text
        assert served.get("/changes", params={"treaty": "nope"}).status_code == 400


def test_a_digest_links_the_page_of_changes_since_its_period_began(home: Path) -> None:
    subscriber = ("subscriber", "add", "analyst@example.org", "--digest", "daily")
    run(home, "--as-of", "2026-12-01T08:00+01:00", *subscriber, "--tz", "Europe/Geneva")
    text = run(home, "--as-of", "2026-12-03T08:00+01:00", "digest", "--preview")
    # The first digest covers everything since the subscriber signed up.
    assert "Since 2026-12-01 08:00 Europe/Geneva." in text
    link = since_link(BASE, datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert link == f"{BASE}changes?since=2026-12-01T07:00:00Z"
    assert f"Every change since then: {link}" in text
    for served in client(home, datetime(2026, 12, 3, 9, tzinfo=UTC)):
        page = served.get(link.removeprefix(BASE.rstrip("/")))
        assert listed(page.text) == [
            ("due", "deadlines/cwc-report"),
            ("starts", "meetings/bwc-talks"),
        ]


def test_both_parts_of_a_digest_email_link_the_page_of_changes_since_its_period() -> None:
    link = since_link(BASE, datetime(2026, 12, 1, 7, tzinfo=UTC))
    payload = {
        "period": "2026-12-02",
        "since": "2026-12-01T07:00:00+00:00",
        "changes_link": link,
        "changes": [{"title": "BWC talks: start moved", "link": f"{BASE}meetings/bwc-talks"}],
    }
    recipient = Recipient("ana@example.org", tz="Europe/Geneva")
    digest = Message("digest", "digest:1", "Digest", "Body.", NOW, recipient, payload=payload)
    text, html = render(digest)
    assert f"Every change since then: {link}" in text
    assert f'<a href="{link}"' in html
    del payload["changes_link"]
    without = Message("digest", "digest:2", "Digest", "Body.", NOW, recipient, payload=payload)
    assert "Every change since then" not in "".join(render(without))
