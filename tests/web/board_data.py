"""The board's fixture: the lifecycle items (a review conference in session, a month
running, dates to be announced, a cancelled meeting) and a second treaty with a deadline in
the coming month that was moved last week, a meeting next year and a window known to the
month; as of IN_SESSION. Fixture rows only (no seed), so that the board's screenshots do not
change when the seeds do."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracker.catalog import editing

from ..factories import make_deadline, make_meeting, make_treaty
from ..lifecycle_items import CREATED, IN_SESSION, fill

MOVED = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

__all__ = ["IN_SESSION", "MOVED", "fill_board"]


def fill_board(session: Session) -> None:
    fill(session)
    make_treaty(
        session,
        "second-treaty",
        now=CREATED,
        name="Second Fixture Treaty on Data Exchanges",
        short_name="Second",
        signed="2010-04-08",
        expires="2031-02-05",
    )
    exchange = make_deadline(
        session,
        "Second data exchange",
        due="2026-12-18",
        slug="second-exchange",
        treaty="second-treaty",
        kind="data-exchange",
        now=CREATED,
    )
    exchange.confidence = "confirmed"
    make_meeting(
        session,
        "Second plenary",
        starts="2027-03-15",
        ends="2027-03-19",
        slug="second-plenary",
        treaty="second-treaty",
        location="Geneva",
        now=CREATED,
    )
    make_deadline(
        session,
        "Second notification window",
        due="May 2027",
        slug="second-notification",
        treaty="second-treaty",
        kind="notification",
        now=CREATED,
    ).confidence = "reported"
    session.flush()
    editing.edit(
        session, "second-exchange", editing.DeadlineFields.parse(due="2026-12-20"), now=MOVED
    )
    session.flush()
