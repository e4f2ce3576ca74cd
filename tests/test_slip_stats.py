"""Slip statistics (issue 17, item 3): how well a series' or a body's announced dates hold,
read back from the history every edit leaves; shown by `tracker stats`, on treaty pages and
beside an item's confidence."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker import dates
from tracker.catalog import editing, history
from tracker.clock import FixedClock
from tracker.errors import InvalidInput, NotFound
from tracker.settings import Settings
from tracker.views import service, slip_stats
from tracker.views.slip_records import Revision, compare
from tracker.views.slip_stats import Scope
from tracker.web.app import create_app

from .conftest import CURRENT_TIME
from .factories import make_deadline, make_meeting, make_treaty
from .process import tracker

SERIES = "Geneva talks"


def window(text: str) -> dates.DateWindow:
    return dates.parse(text)


@pytest.mark.parametrize(
    ("old", "new", "revision", "slip"),
    [
        pytest.param(None, "2027-03-01", Revision.FIXED, None, id="a-first-date-is-fixed"),
        pytest.param("end of September 2027", "2027-09-30", Revision.REFINED, None,
                     id="narrowed-inside-is-a-refinement"),
        pytest.param("2027-09-30", "2027-09-30T10:00", Revision.REFINED, None,
                     id="an-hour-given-is-a-refinement"),
        pytest.param("2027-09-30", "September 2027", Revision.WIDENED, None,
                     id="widened-around-is-no-move"),
        pytest.param("end of September 2027", "2027-10-01", Revision.MOVED, 10,
                     id="outside-is-a-move-start-to-start"),
        pytest.param("end of September 2027", "2027-09-25/2027-10-03", Revision.MOVED, 4,
                     id="partly-outside-is-a-move"),
        pytest.param("2027-09-06", "2027-09-01", Revision.MOVED, -5,
                     id="brought-forward-is-negative"),
    ],
)  # fmt: skip
def test_a_new_date_is_compared_with_the_last_one_announced(old, new, revision, slip):
    assert compare(window(old) if old else None, window(new)) == (revision, slip)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


def edit_meeting(session: Session, slug: str, day: str, **values: str) -> None:
    fields = editing.MeetingFields.parse(recorded_on=at(day).date(), **values)
    editing.edit(session, slug, fields, now=at(day))


def add_round(session: Session, slug: str, starts: str, **values: str) -> None:
    make_meeting(session, slug, starts=starts, slug=slug, series=SERIES, now=at("2027-01-04"),
                 **values)  # fmt: skip


def postponed_three_times(session: Session) -> None:
    """A series of four rounds; by hand: slips +14, +21 (round 1, postponed twice), +28
    (round 2, postponed to TBA, then dated), -5 (round 4, brought forward); round 3 is only
    refined. Final dates announced 35, 35, 52 and 184 days ahead."""
    add_round(session, "round-1", "2027-03-01")
    edit_meeting(session, "round-1", "2027-02-01", status="postponed", starts="2027-03-15")
    edit_meeting(session, "round-1", "2027-03-01", status="postponed", starts="2027-04-05")
    add_round(session, "round-2", "2027-05-10")
    edit_meeting(session, "round-2", "2027-04-20", status="postponed", starts="TBA")
    edit_meeting(session, "round-2", "2027-05-03", starts="2027-06-07")
    add_round(session, "round-3", "end of June 2027")
    edit_meeting(session, "round-3", "2027-05-03", starts="2027-06-24")
    add_round(session, "round-4", "2027-09-06")
    edit_meeting(session, "round-4", "2027-03-01", starts="2027-09-01")
    session.flush()


def test_a_series_postponed_three_times_reports_them_and_its_median_slip(session):
    postponed_three_times(session)
    found = slip_stats.report(session)
    (series,) = found["series"]
    assert series["name"] == SERIES
    assert series["postponed"] == 3
    assert series["median_slip_days"] == 17.5  # the middle of -5, 14, 21, 28
    assert series["worst_slip_days"] == 28
    assert (series["items"], series["dated"], series["moved"], series["moves"]) == (4, 4, 3, 4)
    assert series["refinements"] == 1
    assert series["median_lead_days"] == 43.5  # the middle of 35, 35, 52, 184
    assert series["poor"] is True
    assert series["note"] == (
        "dates of this series moved for 3 of 4 items, 3 postponements; median slip 17.5 days"
    )
    assert found["overall"]["postponed"] == 3  # nothing else in the catalogue


def test_narrowing_a_date_is_a_refinement_and_moving_it_out_a_slip(session):
    make_meeting(session, "Plenary", starts="end of September 2027", slug="plenary",
                 series="Dialogue", now=at("2027-07-28"))  # fmt: skip
    edit_meeting(session, "plenary", "2027-09-01", starts="2027-09-30")
    refined = slip_stats.report(session, Scope(series="Dialogue"))["overall"]
    assert (refined["moved"], refined["refinements"], refined["median_slip_days"]) == (0, 1, None)
    assert refined["median_lead_days"] == 29  # 30 September, announced on 1 September

    edit_meeting(session, "plenary", "2027-09-20", starts="2027-10-05")
    slipped = slip_stats.report(session, Scope(series="Dialogue"))["overall"]
    assert (slipped["moved"], slipped["refinements"]) == (1, 1)
    assert slipped["median_slip_days"] == slipped["worst_slip_days"] == 5  # 30 Sep -> 5 Oct
    assert slipped["postponed"] == 0  # moved, but nobody recorded it postponed


def test_an_empty_catalogue_reports_nothing_moved(session):
    found = slip_stats.report(session)
    assert found["series"] == [] and found["bodies"] == []
    overall = found["overall"]
    assert (overall["items"], overall["moved"], overall["postponed"]) == (0, 0, 0)
    assert overall["median_slip_days"] is None and overall["worst_slip_days"] is None
    assert overall["median_lead_days"] is None and overall["poor"] is False


def test_deadlines_count_for_their_body_and_cancellations_are_counted(session):
    make_deadline(session, "Report", due="2027-05-15", slug="report", body="Board",
                  now=at("2027-01-04"))  # fmt: skip
    editing.edit(
        session, "report", editing.DeadlineFields.parse(due="2027-06-15"), now=at("2027-05-01")
    )
    make_deadline(session, "Notice", due="2027-07-01", slug="notice", body="Board")
    editing.edit(session, "notice", editing.DeadlineFields.parse(status="cancelled"),
                 now=CURRENT_TIME)  # fmt: skip
    (board,) = slip_stats.report(session, Scope(body="Board"))["bodies"]
    assert (board["items"], board["moved"], board["cancelled"]) == (2, 1, 1)
    assert board["worst_slip_days"] == 31  # 15 May -> 15 June


def test_an_expiry_moved_later_is_an_extension_not_a_slip(session):
    make_deadline(session, "Treaty expires", due="2021-02-05", slug="expiry", body="Pair",
                  kind="expiry", now=at("2011-02-05"))  # fmt: skip
    make_deadline(session, "Data due", due="2021-03-01", slug="data", body="Pair",
                  kind="data-exchange", now=at("2020-01-06"))  # fmt: skip
    for slug, due in (("expiry", "2026-02-05"), ("data", "2021-04-01")):
        editing.edit(session, slug, editing.DeadlineFields.parse(due=due), now=at("2021-02-03"))
    (pair,) = slip_stats.report(session, Scope(body="Pair"))["bodies"]
    assert pair["extended"] == 1  # the five years the parties agreed
    assert (pair["moved"], pair["moves"]) == (1, 1)  # the data exchange only
    assert pair["median_slip_days"] == pair["worst_slip_days"] == 31

    # An expiry brought forward (a term cut short) is a move like any other.
    editing.edit(session, "expiry", editing.DeadlineFields.parse(due="2025-02-05"),
                 now=at("2024-01-02"))  # fmt: skip
    (pair,) = slip_stats.report(session, Scope(body="Pair"))["bodies"]
    assert (pair["extended"], pair["moved"], pair["moves"]) == (1, 2, 2)
    assert pair["worst_slip_days"] == 31


def test_new_starts_extension_in_the_shipped_seeds_is_no_slip(seeded: Path) -> None:
    found = json.loads(run(seeded, "stats", "--treaty", "new-start", "--json"))
    assert found["overall"]["extended"] == 1
    assert (found["overall"]["worst_slip_days"] or 0) < 365
    assert "extended" in run(seeded, "stats", "--treaty", "new-start").splitlines()[1]


def test_a_series_or_body_no_item_has_is_refused_in_one_line(session):
    with pytest.raises(InvalidInput, match="no item of series 'Nope'"):
        slip_stats.report(session, Scope(series="Nope"))
    with pytest.raises(NotFound):
        slip_stats.report(session, Scope(treaty="nope"))


def test_an_item_of_a_poor_series_says_so_beside_its_confidence(session):
    postponed_three_times(session)
    add_round(session, "round-5", "2027-11-01")
    data = service.item(session, "meeting", "round-5", at("2027-06-01"))
    (record,) = data["track_record"]  # no body: the series' only
    assert record["of"] == "series" and record["poor"] is True
    assert record["note"].startswith("dates of this series moved for 3 of 5 items")


def test_an_item_of_a_series_whose_dates_held_carries_no_note(session):
    make_meeting(session, "A", starts="2027-03-01", slug="a", series="Steady", body="Board")
    make_meeting(session, "B", starts="2027-04-01", slug="b", series="Steady", body="Board")
    make_meeting(session, "C", starts="2027-05-01", slug="c", series="Steady", body="Board")
    records = service.item(session, "meeting", "a", CURRENT_TIME)["track_record"]
    assert [(r["of"], r["poor"], r["note"]) for r in records] == [
        ("series", False, None),
        ("body", False, None),
    ]


def test_a_treaty_page_shows_how_its_dates_held(
    session, session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
):
    make_treaty(session)
    make_meeting(session, "Plenary", starts="2027-03-01", slug="plenary", treaty="new-start",
                 series="Dialogue", now=at("2027-01-04"))  # fmt: skip
    edit_meeting(session, "plenary", "2027-02-01", status="postponed", starts="2027-03-20")
    session.commit()
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    app = create_app(settings, session_factory, FixedClock(at("2027-02-02")))
    with TestClient(app) as client:
        page = client.get("/treaties/new-start").text
        item = client.get("/meetings/plenary").text
    assert "How its dates held" in page
    assert '<tr class="slip-stats-row"><th scope="row">Dialogue' in page
    assert "<td>+19 d</td>" in page  # 1 -> 20 March
    assert "How the dates of its series held" in item


# The real command


def run(home: Path, *args: str) -> str:
    result = tracker(home, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_tracker_stats_json_counts_three_postponements_and_the_median_slip(tmp_path):
    run(tmp_path, "db", "upgrade")
    steps = [
        ("2027-01-04", "meeting", "add", "Round 1", "--slug", "round-1", "--series", SERIES,
         "--starts", "2027-03-01"),
        ("2027-01-04", "meeting", "add", "Round 2", "--slug", "round-2", "--series", SERIES,
         "--starts", "2027-05-10"),
        ("2027-01-04", "meeting", "add", "Round 3", "--slug", "round-3", "--series", SERIES,
         "--starts", "2027-07-05"),
        ("2027-02-01", "meeting", "edit", "round-1", "--status", "postponed",
         "--starts", "2027-03-15"),
        ("2027-03-01", "meeting", "edit", "round-1", "--status", "postponed",
         "--starts", "2027-04-05"),
        ("2027-04-20", "meeting", "cancel", "round-2", "--postpone", "--starts", "2027-06-07"),
    ]  # fmt: skip
    for day, *args in steps:
        run(tmp_path, "--as-of", f"{day}T12:00Z", *args)
    found = json.loads(run(tmp_path, "stats", "--json"))
    (series,) = found["series"]
    assert series["name"] == SERIES
    assert series["postponed"] == 3
    assert series["median_slip_days"] == 21  # by hand: +14, +21, +28
    assert series["worst_slip_days"] == 28
    assert (series["dated"], series["moved"]) == (3, 2)
    assert series["poor"] is True

    # As known on 15 February 2027: round 1 postponed once, 1 -> 15 March.
    then = json.loads(run(tmp_path, "--known-at", "2027-02-15", "stats", "--json"))
    (series,) = then["series"]
    assert (series["postponed"], series["median_slip_days"], series["poor"]) == (1, 14, False)
    assert json.loads(run(tmp_path, "--known-at", "2027-01-01", "stats", "--json"))["series"] == []

    shown = json.loads(run(tmp_path, "meeting", "show", "round-3", "--json"))
    assert shown["track_record"][0]["note"] == (
        "dates of this series moved for 2 of 3 items, 3 postponements; median slip 21 days"
    )
    assert "track record" in run(tmp_path, "meeting", "show", "round-3")
    table = run(tmp_path, "stats", "--series", SERIES)
    assert "poor record (series Geneva talks)" in table

    refused = tracker(tmp_path, "stats", "--body", "Nobody")
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        "error: no item of body 'Nobody': `tracker stats` names them all"
    ]


def test_tracker_stats_on_an_empty_catalogue(tmp_path):
    run(tmp_path, "db", "upgrade")
    found = json.loads(run(tmp_path, "stats", "--json"))
    assert found["overall"]["items"] == 0 and found["series"] == []
    assert "Slip statistics" in run(tmp_path, "stats")


def test_a_creation_loaded_from_a_seed_without_its_announcement_has_no_lead_time(session):
    meeting = make_meeting(session, "Old", starts="2027-03-01", slug="old", series="Seeded")
    (record,) = slip_stats.records(session, Scope(series="Seeded"))
    assert record.lead_days == (date(2027, 3, 1) - CURRENT_TIME.date()).days  # added by hand
    for change in history.history(session, meeting):
        change.news = False  # as a seed loads it: the past, dated by the load
    (record,) = slip_stats.records(session, Scope(series="Seeded"))
    assert record.lead_days is None
