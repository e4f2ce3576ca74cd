"""The HTML email in a real browser: no horizontal scrolling on a 375 px wide phone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.browser import browser_page, needs_chromium, scrolls_sideways
from tracker.alerts.tokens import Links
from tracker.notifiers.base import Message, Recipient
from tracker.notifiers.compose import render

pytestmark = [pytest.mark.slow, needs_chromium]

BASE = "https://tracker.example.org/"
LONG_TITLE = "PreparatoryCommitteeForTheComprehensiveNuclearTestBanTreatyOrganization" * 2
LONG_URL = BASE + "meetings/" + "averylongslugwithoutanybreak" * 6


def entry(**more: Any) -> dict[str, Any]:
    return {
        "type": "meeting",
        "slug": "ssd",
        "title": LONG_TITLE,
        "treaty_name": "Treaty on the Non-Proliferation of Nuclear Weapons",
        "when": "2027-05-04T10:00",
        "precision": "time",
        "tz": "Europe/Vienna",
        "human": "in 7 days",
        "status": "scheduled",
        "confidence": "announced",
        "location": "Vienna International Centre, Wagramer Straße 5, 1400 Wien",
        "ends": {"when": "2027-05-15"},
        "link": LONG_URL,
        **more,
    }


def message(kind: str, payload: dict[str, Any]) -> Message:
    return Message(
        kind,  # type: ignore[arg-type]
        f"{kind}:1",
        f"Moved: {LONG_TITLE} → 2027-05-11 (was 2027-05-04) — also location",
        "Body.",
        datetime(2027, 4, 27, 8, tzinfo=UTC),
        Recipient("ana@example.org", tz="Asia/Tokyo"),
        payload=payload,
    )


DIGEST = {
    "period": "2027-W17",
    "since": "2027-04-20T08:00:00+00:00",
    "alerts": [{"title": LONG_TITLE, "link": LONG_URL, "late": True}],
    "changes": [{"title": f"Changed: {LONG_TITLE}", "link": LONG_URL}],
    "board": [entry(type="deadline")],
    "agenda": [entry() for _ in range(3)],
    "undated": [entry(when="TBA", precision="tba")],
}
CHANGE = {
    "item": entry(),
    "fields": [
        {"name": "start", "old": "2027-05-04", "new": "2027-05-11"},
        {"name": "location", "old": "Geneva", "new": LONG_URL},
    ],
    "sources": [{"title": LONG_TITLE, "publisher": "UNODA", "grade": "primary", "url": LONG_URL}],
    "notes": ["x" * 300],
    "recorded_at": "2027-04-27T08:00:00+00:00",
    "edits": 2,
}
LINKS = Links(unsubscribe=BASE + "unsubscribe/" + "t" * 120, preferences=BASE + "preferences/t")


@pytest.mark.parametrize("kind, payload", [("digest", DIGEST), ("change", CHANGE)])
def test_the_html_email_does_not_scroll_sideways_at_375_px(
    kind: str, payload: dict[str, Any]
) -> None:
    _, html = render(message(kind, payload), LINKS)
    with browser_page(375, 740) as page:
        page.set_content(html)
        assert page.get_by_text("Unsubscribe").count() == 1
        assert not scrolls_sideways(page)
