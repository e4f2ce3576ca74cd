"""The body or forum a deadline or meeting belongs to ("IAEA Board of Governors"): given
with --body, shown by show, in the listings, on the board and on the item's page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.settings import Settings
from tracker.web.app import create_app

from .process import tracker

AS_OF = "2026-12-03"
BOARD = "IAEA Board of Governors"


def run(home: Path, *args: str) -> str:
    result = tracker(home, "--as-of", AS_OF, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_meeting_added_with_its_body_shows_it_and_lists_it(home: Path):
    run(
        home,
        "meeting",
        "add",
        "Board March 2027",
        "--starts",
        "2027-03-02/2027-03-06",
        "--body",
        BOARD,
        "--slug",
        "board-march-2027",
    )

    shown = json.loads(run(home, "meeting", "show", "board-march-2027", "--json"))
    assert shown["body"] == BOARD
    assert f"body        {BOARD}" in run(home, "meeting", "show", "board-march-2027")
    listed = run(home, "meeting", "list")
    assert listed.splitlines()[0].split()[:3] == ["slug", "starts", "body"]
    assert BOARD in next(line for line in listed.splitlines() if "board-march-2027" in line)
    listed = json.loads(run(home, "meeting", "list", "--json"))
    [item] = [i for i in listed if i["slug"] == "board-march-2027"]
    assert item["body"] == BOARD


def test_a_deadlines_body_is_set_changed_and_cleared_by_edit(home: Path):
    run(home, "deadline", "add", "Report to the Board", "--due", "2027-05-01", "--slug", "report")
    assert json.loads(run(home, "deadline", "show", "report", "--json"))["body"] is None

    assert "body — -> Conference on Disarmament" in run(
        home, "deadline", "edit", "report", "--body", "Conference on Disarmament"
    )
    assert "Conference on Disarmament" in run(home, "deadline", "list")
    history = json.loads(run(home, "deadline", "show", "report", "--json"))["history"]
    assert [(c["field"], c["new"]) for c in history if c["field"] == "body"] == [
        ("body", "Conference on Disarmament")
    ]

    run(home, "deadline", "edit", "report", "--body", "")
    assert json.loads(run(home, "deadline", "show", "report", "--json"))["body"] is None


def test_a_body_over_200_characters_is_refused_in_one_line_and_nothing_is_added(home: Path):
    result = tracker(
        home,
        "--as-of",
        AS_OF,
        "deadline",
        "add",
        "Too long",
        "--due",
        "2027-05-01",
        "--body",
        "x" * 201,
    )

    assert result.returncode != 0
    assert result.stderr.strip() == "error: --body is longer than 200 characters (201)"
    assert "too-long" not in run(home, "deadline", "list", "--all")


def test_a_body_with_a_line_break_is_refused(home: Path):
    result = tracker(home, "meeting", "add", "Split", "--body", "IAEA\nBoard")

    assert result.returncode != 0
    assert "line break" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_board_and_the_item_page_name_the_body(
    session_factory: sessionmaker[Session], tmp_path: Path
):
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)
    with session_factory() as session, session.begin():
        fields = editing.MeetingFields.parse(
            title="Board of Governors, March", starts="2027-03-02", body=BOARD
        )
        editing.add(session, fields, now=now, slug="board-march")
        fields = editing.DeadlineFields.parse(title="No forum", due="2027-02-01")
        editing.add(session, fields, now=now, slug="no-forum")
    settings = Settings(data_dir=tmp_path / "var", database_url="sqlite://")
    with TestClient(create_app(settings, session_factory, FixedClock(now))) as client:
        board = client.get("/").text
        page = client.get("/meetings/board-march").text
        bare = client.get("/deadlines/no-forum").text

    card = board[board.index('data-slug="board-march"') :]
    card = card[: card.index("</li>")]
    assert f'<dt>Body</dt><dd class="body">{BOARD}</dd>' in card
    other = board[board.index('data-slug="no-forum"') :]
    assert "<dt>Body</dt>" not in other[: other.index("</li>")]
    assert f'<dt>Body</dt><dd class="body">{BOARD}</dd>' in page
    assert "<dt>Body</dt>" not in bare


def test_the_board_and_its_feed_narrow_to_one_body(
    session_factory: sessionmaker[Session], tmp_path: Path
):
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)
    with session_factory() as session, session.begin():
        for slug, starts, body in [
            ("board-march", "2027-03-02", BOARD),
            ("board-june", "2027-06-07", BOARD),
            ("cd-part-one", "2027-01-19", "Conference on Disarmament"),
        ]:
            fields = editing.MeetingFields.parse(title=slug, starts=starts, body=body)
            editing.add(session, fields, now=now, slug=slug)
        editing.add(
            session, editing.DeadlineFields.parse(title="No forum", due="2027-02-01"), now=now
        )
    settings = Settings(data_dir=tmp_path / "var", database_url="sqlite://")
    with TestClient(create_app(settings, session_factory, FixedClock(now))) as client:
        everything = client.get("/").text
        narrowed = client.get("/", params={"body": BOARD}).text
        feed = client.get("/feed.xml", params={"body": BOARD}).text
        too_long = client.get("/", params={"body": "x" * 201})

    def cards(page: str) -> set[str]:
        return set(re.findall(r'data-slug="([^"]+)"', page))

    assert {"board-march", "board-june", "cd-part-one", "no-forum"} <= cards(everything)
    assert cards(narrowed) == {"board-march", "board-june"}
    assert f'<option value="{BOARD}" selected>' in narrowed
    assert '<option value="Conference on Disarmament">' in narrowed
    assert "board-march" in feed and "cd-part-one" not in feed
    assert too_long.status_code == 400
