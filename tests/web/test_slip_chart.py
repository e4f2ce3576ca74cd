"""The slip chart on an item's page: an inline SVG with a row per revision of the date
window, oldest first, each bar on one shared time axis. Read back with a real XML parser
from the page the app serves for items edited as the CLI edits them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.catalog import editing
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.settings import Settings
from tracker.views import slip_chart
from tracker.web.app import create_app

from ..factories import make_deadline, make_meeting

SVG = "{http://www.w3.org/2000/svg}"
JULY_28 = datetime(2021, 7, 28, 12, tzinfo=UTC)
SEPTEMBER_27 = datetime(2021, 9, 27, 12, tzinfo=UTC)
OCTOBER_1 = datetime(2021, 10, 1, 9, tzinfo=UTC)


def edit_meeting(session: Session, slug: str, at: datetime, **values: Any) -> None:
    editing.edit(session, slug, editing.MeetingFields.parse(**values), now=at, origin="cli")


def edit_deadline(session: Session, slug: str, at: datetime, **values: Any) -> None:
    editing.edit(session, slug, editing.DeadlineFields.parse(**values), now=at, origin="cli")


def page(sessions: sessionmaker[Session], tmp_path: Path, path: str) -> str:
    settings = Settings(data_dir=tmp_path / "var")
    app = create_app(settings, sessions, FixedClock(OCTOBER_1))
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 200
    return response.text


def chart_of(html: str) -> ET.Element:
    [svg] = re.findall(r'<svg class="slip-chart".*?</svg>', html, re.S)
    return ET.fromstring(svg)


def rows(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if "revision" in g.get("class", "").split()]


def label(row: ET.Element) -> str:
    text = row.find(f"{SVG}text")
    assert text is not None and text.text is not None
    return text.text


def bar(row: ET.Element) -> tuple[float, float]:
    rect = row.find(f"{SVG}rect")
    assert rect is not None
    return float(rect.get("x", "nan")), float(rect.get("width", "nan"))


def test_a_plenary_announced_for_end_of_september_then_dated_has_two_rows(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "Second plenary", starts="end of September 2021", slug="plenary",
                     now=JULY_28)  # fmt: skip
        edit_meeting(session, "plenary", SEPTEMBER_27, starts="2021-09-30")
    svg = chart_of(page(session_factory, tmp_path, "/meetings/plenary"))
    first, current = rows(svg)
    assert label(first) == "2021-07-28: end of September 2021"
    assert label(current) == "2021-09-27: 2021-09-30"
    assert "current" in current.get("class", "") and "current" not in first.get("class", "")
    assert (first.get("data-first"), first.get("data-last")) == ("2021-09-21", "2021-09-30")
    (x1, w1), (x2, w2) = bar(first), bar(current)
    # One axis, 21 September to 30 September: the day is the last tenth of the window.
    assert x1 < x2 and x2 + w2 == pytest.approx(x1 + w1, abs=0.2)
    assert w2 == pytest.approx(w1 / 10, abs=0.2)


def test_rows_follow_each_revision_oldest_first_and_bars_move_with_the_dates(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(session_factory) as session:
        make_deadline(session, "Report due", due="2027-03-01", slug="report", now=JULY_28)
        edit_deadline(session, "report", SEPTEMBER_27, due="2027-06-01")
        edit_deadline(session, "report", OCTOBER_1, due="TBA")
        edit_deadline(session, "report", OCTOBER_1.replace(hour=10), due="2027-01-15")
    svg = chart_of(page(session_factory, tmp_path, "/deadlines/report"))
    found = rows(svg)
    assert [label(row) for row in found] == [
        "2021-07-28: 2027-03-01",
        "2021-09-27: 2027-06-01",
        "2021-10-01: TBA",
        "2021-10-01: 2027-01-15",
    ]
    assert found[2].find(f"{SVG}rect") is None  # a date to be announced has no bar
    x = {label(row)[12:]: bar(row)[0] for row in found if row.find(f"{SVG}rect") is not None}
    assert x["2027-01-15"] < x["2027-03-01"] < x["2027-06-01"]
    # positions are proportional to the days between them
    per_day = (x["2027-06-01"] - x["2027-03-01"]) / (date(2027, 6, 1) - date(2027, 3, 1)).days
    days = (date(2027, 3, 1) - date(2027, 1, 15)).days
    assert x["2027-03-01"] - x["2027-01-15"] == pytest.approx(days * per_day, abs=0.2)
    # the axis runs from the earliest first day to the latest last day across the width
    width = float(svg.get("viewBox", "").split()[2])
    bars = [bar(row) for row in found if row.find(f"{SVG}rect") is not None]
    left, right = min(x for x, _ in bars), max(x + w for x, w in bars)
    assert 0 < left < 20 and width - 20 < right < width
    ys = [float(row.find(f"{SVG}text").get("y", "nan")) for row in found]  # type: ignore[union-attr]
    assert ys == sorted(ys)


def test_as_known_before_a_revision_the_chart_ends_at_the_window_then_believed(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "Second plenary", starts="end of September 2021", slug="plenary",
                     now=JULY_28)  # fmt: skip
        edit_meeting(session, "plenary", SEPTEMBER_27, starts="2021-09-30")
    august = page(session_factory, tmp_path, "/meetings/plenary?known_at=2021-08-01")
    [only] = rows(chart_of(august))
    assert label(only) == "2021-07-28: end of September 2021"
    assert (only.get("data-first"), only.get("data-last")) == ("2021-09-21", "2021-09-30")


def test_an_item_never_moved_has_one_row_and_text_is_escaped(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "Talks <b>&</b>", starts="8–12 March 2027", slug="talks", now=JULY_28)
    html = page(session_factory, tmp_path, "/meetings/talks")
    svg = chart_of(html)
    [only] = rows(svg)
    assert label(only) == "2021-07-28: 2027-03-08 to 2027-03-12"
    assert (only.get("data-first"), only.get("data-last")) == ("2027-03-08", "2027-03-12")
    assert "<script" not in html and "<b>&</b>" not in html


def test_an_item_whose_date_was_never_known_has_no_chart(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "Summit", starts="TBA", slug="summit", now=JULY_28)
    assert 'class="slip-chart"' not in page(session_factory, tmp_path, "/meetings/summit")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([], [("2021-07-28", {"starts": "2021-09-30", "ends": None})]),
        (
            [
                ("starts", "end of September 2021", "2021-09-30", SEPTEMBER_27),
                ("ends", None, "2021-10-01", SEPTEMBER_27),  # one edit: one revision
            ],
            [
                ("2021-07-28", {"starts": "end of September 2021", "ends": None}),
                ("2021-09-27", {"starts": "2021-09-30", "ends": "2021-10-01"}),
            ],
        ),
    ],
    ids=["unmoved", "one-edit-of-two-fields"],
)
def test_revisions_are_worked_back_from_the_current_window(
    changes: list[tuple[str, str | None, str | None, datetime]],
    expected: list[tuple[str, dict[str, str | None]]],
) -> None:
    current = {"starts": "2021-09-30", "ends": "2021-10-01" if changes else None}
    found = slip_chart.revisions(current, JULY_28, changes)
    assert [(r.made.isoformat(), dict(r.values)) for r in found] == expected


def test_a_chart_has_no_rows_when_no_revision_has_days() -> None:
    found = slip_chart.revisions({"due": "TBA"}, JULY_28, [])
    assert slip_chart.chart(found) is None
