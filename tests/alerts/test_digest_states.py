"""A digest's text says each item's state and the confidence of its date, and lists what
waits for its date in a short section of its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tracker.alerts.digest_content import gather
from tracker.alerts.digests import Period
from tracker.settings import Settings

from ..lifecycle_items import IN_SESSION, fill
from .helpers import add_subscriber


def test_the_digest_says_states_confidence_and_dates_to_be_announced(session: Session):
    fill(session)
    sub = add_subscriber(session, now=IN_SESSION, immediate=False, digest="daily")
    period = Period("2026-12-02", IN_SESSION - timedelta(days=1), IN_SESSION)

    _, text, payload = gather(session, Settings(), period, []).digest(sub, period)

    revcon = next(line for line in text.splitlines() if "Fixture Review Conference" in line)
    assert "[in session; confirmed — official calendar or notice]" in revcon
    report = next(line for line in text.splitlines() if "Fixture report due" in line)
    assert "open (its window is running); expected — by treaty schedule or pattern" in report
    waiting = text[text.index("Date to be announced:") :]
    assert "Fixture protocol deposit [pending; announced — reported by the parties]" in waiting
    assert "Fixture extraordinary meeting [scheduled; reported" in waiting
    assert [e["slug"] for e in payload["undated"]] == [
        "fixture-tba-meeting",
        "fixture-tba-deadline",
    ]
    assert "None" not in text


def test_a_subscriber_of_one_treaty_gets_only_its_undated_items(session: Session):
    fill(session)
    sub = add_subscriber(session, now=IN_SESSION, immediate=False, digest="daily")
    sub.treaties = ["fixture-treaty"]
    period = Period("2026-12-02", IN_SESSION - timedelta(days=1), IN_SESSION)

    digest, _, _ = gather(session, Settings(), period, []).digest(sub, period)

    assert [e["slug"] for e in digest.undated] == ["fixture-tba-meeting"]
