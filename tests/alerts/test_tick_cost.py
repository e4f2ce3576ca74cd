"""A tick plans only what can fall due by tomorrow, so its cost follows the due alerts."""

from __future__ import annotations

from datetime import timedelta

from tracker.alerts.plannables import plannables
from tracker.settings import Settings

from ..conftest import CURRENT_TIME
from ..factories import make_deadline, make_meeting


def planned(session, extra_leads=()):
    return {p.item.slug for p in plannables(session, Settings().alerts, CURRENT_TIME, extra_leads)}


def test_items_beyond_every_lead_are_not_planned(session):
    make_deadline(session, "Soon", due="2026-12-12", slug="soon")  # 20 days: 30d lead is past
    make_deadline(session, "Far", due="2040-01-01", slug="far")
    make_meeting(session, "Far talks", starts="2031-05-05", slug="far-talks")
    make_meeting(session, "Yearly talks", starts="2031-05-05", repeat="FREQ=YEARLY", slug="yearly")
    session.flush()
    assert planned(session) == {"soon", "yearly"}


def test_an_items_own_long_lead_is_still_planned(session):
    make_deadline(session, "Review", due="2027-09-01", alert="400d", slug="review")
    session.flush()
    assert planned(session) == {"review"}


def test_a_subscribers_long_lead_reaches_further(session):
    make_deadline(session, "Notification", due="2027-04-01", slug="notification")
    session.flush()
    assert planned(session) == set()
    assert planned(session, [timedelta(days=200)]) == {"notification"}
