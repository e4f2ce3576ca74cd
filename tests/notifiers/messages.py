"""Messages for notifier tests: a digest with every section, and hostile text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.notifiers.base import Message, Recipient

CURRENT_TIME = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
HOSTILE = "Договор СНВ-III <script>alert('x')</script> & \"quoted\"\r\nBcc: victim@example.org"


def digest_payload(title: str = "New START expires") -> dict[str, Any]:
    meeting = {
        "type": "meeting",
        "slug": "tpnw-revcon",
        "when": "2026-11-30",
        "title": "TPNW Review Conference",
        "location": "New York",
        "status": "scheduled",
        "confidence": "confirmed",
    }
    return {
        "period": "2026-W48",
        "agenda_days": 60,
        "alerts": [
            {"title": f"{title} in 7 days", "text": "2026-02-05"},
            {"title": "Data exchange due in 30 days", "text": None},
        ],
        "changes": [{"title": "Plenary moved to 30 September 2021", "text": "was end of Sep"}],
        "board": [
            {
                "title": title,
                "when": "2026-02-05",
                "human": "in 7 days",
                "status": "pending",
                "confidence": "expected",
            }
        ],
        "agenda": [meeting]
        + [{**meeting, "slug": f"m{i}", "title": f"Meeting {i}"} for i in range(4)]
        + [
            {
                "type": "deadline",
                "slug": "d",
                "when": "2026-12-01",
                "title": "A deadline",
                "location": None,
                "status": "pending",
                "confidence": "announced",
            }
        ],
    }


def digest(title: str = "New START expires", **values: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": "digest",
        "identity": "digest:ana@example.org:2026-11-23",
        "subject": "Weekly digest",
        "text": "fallback text",
        "created_at": CURRENT_TIME,
        "recipient": Recipient("ana@example.org", "Ana Analyst"),
        "payload": digest_payload(title),
        **values,
    }
    return Message(**fields)


def alert(subject: str = "New START expires in 7 days", **values: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": "alert",
        "identity": "alert:deadline:new-start-expiry:7d:2026-02-05",
        "subject": subject,
        "text": f"{subject}.\n\nDue 2026-02-05 (in 7 days).\n",
        "created_at": CURRENT_TIME,
        "recipient": Recipient("ana@example.org"),
        **values,
    }
    return Message(**fields)
