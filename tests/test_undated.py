"""Dates to be announced in listings and the read model: listed last, never hidden, with no
days; a meeting's end as an object (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from tracker.catalog import queries
from tracker.catalog.queries import Filter, Scope
from tracker.views import service

from .conftest import CURRENT_TIME
from .factories import make_deadline, make_meeting, make_treaty

TODAY = date(2026, 11, 22)
HORIZON = timedelta(days=365)


def _some(session: Session) -> None:
    make_treaty(session, "bwc", short_name="BWC")
    make_deadline(session, "Soon", due="2026-12-01", slug="soon")
    make_deadline(session, "Undated", due="TBA", slug="undated", treaty="bwc")
    make_meeting(session, "Plenary", starts="2026-12-02", ends="2026-12-04", slug="plenary")
    make_meeting(session, "Talks", starts="TBA", slug="talks", treaty="bwc")
    session.commit()


def test_a_listing_that_asks_for_them_lists_undated_items_last(session: Session) -> None:
    _some(session)
    flt = Filter(today=TODAY, undated=True)
    assert [i.slug for i in service.deadlines(session, flt, CURRENT_TIME)] == ["soon", "undated"]
    listed = service.meetings(session, flt, CURRENT_TIME, HORIZON)
    assert [i.slug for i in listed] == ["plenary", "talks"]
    everything = Filter(today=TODAY, scope=Scope.ALL, undated=True)
    assert service.meetings(session, everything, CURRENT_TIME, HORIZON)[-1].slug == "talks"


def test_a_listing_of_dates_leaves_them_to_their_own_listing(session: Session) -> None:
    _some(session)
    flt = Filter(today=TODAY, within=timedelta(days=30))
    assert [i.slug for i in service.upcoming(session, flt, CURRENT_TIME)] == ["soon", "plenary"]
    assert [i.slug for i in service.undated(session, flt, CURRENT_TIME)] == ["undated", "talks"]
    mine = Filter(today=TODAY, treaty="bwc", kinds=("summit",))
    assert [i.slug for i in service.undated(session, mine, CURRENT_TIME)] == []


def test_the_past_has_no_undated_items(session: Session) -> None:
    _some(session)
    flt = Filter(today=TODAY, scope=Scope.PAST, undated=True)
    assert [d.slug for d in queries.deadlines(session, flt)] == []
    assert [m.slug for m in queries.meetings(session, flt)] == []


def test_an_undated_item_has_no_days_and_a_meeting_its_end_as_an_object(
    session: Session,
) -> None:
    _some(session)
    undated = service.deadline(session, "undated", CURRENT_TIME)
    assert (undated["earliest"], undated["latest"], undated["precision"]) == (None, None, "tba")
    assert (undated["days_min"], undated["days_max"], undated["days_remaining"]) == (
        None,
        None,
        None,
    )
    assert (undated["claims"], undated["conflicting"]) == ([], False)
    plenary = service.meeting(session, "plenary", CURRENT_TIME)
    assert plenary["ends"] == {
        "when": "2026-12-04",
        "earliest": "2026-12-04",
        "latest": "2026-12-04",
        "precision": "day",
    }
    assert (plenary["days_min"], plenary["days_max"], plenary["days_remaining"]) == (10, 12, 10)
    assert service.meeting(session, "talks", CURRENT_TIME)["ends"] is None


def test_a_series_end_is_read_from_its_rule() -> None:
    assert service.recurrence_end("FREQ=WEEKLY;UNTIL=20301231T000000Z") == {
        "until": "2030-12-31",
        "count": None,
    }
    assert service.recurrence_end("FREQ=MONTHLY;COUNT=12") == {"until": None, "count": 12}
    assert service.recurrence_end("FREQ=YEARLY;BYMONTH=3") is None
