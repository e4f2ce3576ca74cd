"""Which deadlines the countdown board shows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tracker.dates import LONGEST_WINDOW, parse
from tracker.errors import NotFound
from tracker.views.board import RECENTLY_PASSED, select_countdowns

from .factories import make_deadline, make_treaty

TODAY = date(2026, 11, 22)


def board(session: Session, *slugs: str, limit: int | None = None) -> list[str]:
    chosen = select_countdowns(session, slugs, today=TODAY, recent=RECENTLY_PASSED, limit=limit)
    return [d.slug for d in chosen]


def test_the_board_lists_coming_and_recently_passed_deadlines_in_date_order(session):
    make_deadline(session, "Next year", due="2027-03-01", slug="next-year")
    make_deadline(session, "Next week", due="2026-11-29", slug="next-week")
    make_deadline(session, "Last week", due="2026-11-15", slug="last-week")
    make_deadline(session, "Two months ago", due="2026-09-22", slug="two-months-ago")
    session.commit()
    assert board(session) == ["last-week", "next-week", "next-year"]


def test_a_long_window_still_open_is_on_the_board(session):
    make_deadline(session, "Some time this year", due="2026", slug="this-year")
    make_deadline(session, "Tomorrow", due="2026-11-23", slug="tomorrow")
    session.commit()
    assert board(session) == ["this-year", "tomorrow"]


def board_on(session: Session, today: date) -> list[str]:
    return [d.slug for d in select_countdowns(session, (), today=today, recent=RECENTLY_PASSED)]


def test_the_longest_window_is_on_the_board_until_30_days_after_it_closed(session):
    make_deadline(session, "A leap year", due="2024", slug="leap-year")
    session.commit()
    assert board_on(session, date(2025, 1, 30)) == ["leap-year"]
    assert board_on(session, date(2025, 1, 31)) == []


def test_pending_deadlines_long_past_are_left_off_the_board(session):
    make_deadline(session, "Forgotten", due="2020-01-01", slug="forgotten", status="pending")
    make_deadline(session, "Coming", due="2026-12-01", slug="coming")
    session.commit()
    assert board(session) == ["coming"]


@pytest.mark.parametrize("status", ["cancelled", "superseded"])
def test_cancelled_and_superseded_deadlines_are_left_off_the_board(session, status):
    make_deadline(session, "Dropped", due="2026-12-01", slug="dropped", status=status)
    session.commit()
    assert board(session) == []


def test_the_limit_keeps_the_nearest_deadlines(session):
    for day in (5, 1, 3, 2, 4):
        make_deadline(session, f"On {day}", due=f"2026-12-0{day}", slug=f"on-{day}")
    session.commit()
    assert board(session, limit=3) == ["on-1", "on-2", "on-3"]


def test_a_named_deadline_beyond_the_limit_is_not_reported_missing(session):
    make_treaty(session, "new-start")
    make_deadline(session, "First", due="2026-12-01", slug="first", treaty="new-start")
    make_deadline(session, "Second", due="2026-12-02", slug="second", treaty="new-start")
    session.commit()
    assert board(session, "new-start", "second", limit=1) == ["first"]
    with pytest.raises(NotFound, match="no-such"):
        board(session, "new-start", "no-such", limit=1)


def test_named_deadlines_are_shown_whatever_their_date_or_status(session):
    make_deadline(session, "Forgotten", due="2020-01-01", slug="forgotten", status="cancelled")
    session.commit()
    assert board(session, "forgotten") == ["forgotten"]


@pytest.mark.parametrize(
    "expression", ["2028", "late 2028", "Q4 2028", "mid-2028", "December 2028", "2028-12-31"]
)
def test_no_date_expression_spans_more_than_the_longest_window(expression):
    window = parse(expression)
    assert window.latest - window.earliest <= LONGEST_WINDOW


def test_a_ten_year_range_is_the_longest_window():
    window = parse("2027-01-01/2036-12-31")
    assert window.latest - window.earliest == LONGEST_WINDOW
