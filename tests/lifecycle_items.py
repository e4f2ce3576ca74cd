"""Items in every state the readers show, as of IN_SESSION: a review conference in session,
a deadline whose month is running, dates to be announced, a cancelled meeting; with a
confidence and graded sources (one with a caveat). Fixture rows, so that recording the
real conference's outcome later changes no test."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracker.catalog.models import Deadline, Meeting
from tracker.catalog.sources import Source

from .factories import make_deadline, make_meeting, make_treaty

# 2 December 2026, noon in London, 07:00 in New York: the conference's third day.
IN_SESSION = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

CAVEAT = "styled like a broadcaster; it is not one"


def _undated(item: Deadline | Meeting, prefix: str) -> None:
    """The date to be announced, as it is stored: no date columns."""
    for column in ("text", "earliest", "latest", "precision", "time"):
        setattr(item, f"{prefix}_{column}", None)


def fill(session: Session) -> None:
    make_treaty(session, "fixture-treaty", now=CREATED, short_name="Fixture", signed="2017-07-07")
    official = Source(
        key="fixture-calendar",
        title="Conference calendar",
        publisher="Fixture Secretariat",
        url="https://example.org/calendar",
        grade="primary",
    )
    lookalike = Source(
        key="fixture-lookalike",
        title="Conference news",
        publisher="World News Network",
        url="https://example.org/news",
        grade="unverified",
        caveat=CAVEAT,
    )
    revcon = make_meeting(
        session,
        "Fixture Review Conference",
        starts="2026-11-30",
        ends="2026-12-04",
        tz="America/New_York",
        slug="fixture-revcon",
        treaty="fixture-treaty",
        kind="review-conference",
        location="New York",
        now=CREATED,
    )
    revcon.confidence = "confirmed"
    revcon.sources.append(official)
    report = make_deadline(
        session,
        "Fixture report due",
        due="December 2026",
        slug="fixture-report",
        treaty="fixture-treaty",
        now=CREATED,
    )
    report.confidence = "expected"
    report.sources.append(lookalike)
    make_deadline(
        session, "Fixture review in 2027", due="2027", slug="fixture-2027", now=CREATED
    ).confidence = "expected"
    make_meeting(
        session,
        "Fixture plenary called off",
        starts="2026-12-10",
        slug="fixture-cancelled",
        status="cancelled",
        now=CREATED,
    )
    _undated(
        make_deadline(
            session, "Fixture protocol deposit", slug="fixture-tba-deadline", now=CREATED
        ),
        "due",
    )
    make_meeting(
        session,
        "Fixture extraordinary meeting",
        starts=None,
        slug="fixture-tba-meeting",
        treaty="fixture-treaty",
        now=CREATED,
    ).confidence = "reported"
    make_meeting(
        session,
        "Fixture dropped meeting",
        starts=None,
        slug="fixture-tba-cancelled",
        status="cancelled",
        now=CREATED,
    )
    session.flush()
