"""Emails people can read: subjects that say what happened, treaty names, links to the
item's page from ``feeds.base_url``, dates in the reader's zone, no "None" anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_meeting, make_treaty
from tracker.cli.main import cli
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.notifiers.base import Message, Recipient
from tracker.notifiers.compose import render, subject
from tracker.notifiers.email import EmailNotifier
from tracker.outbox.worker import Worker
from tracker.settings import Settings

from ..alerts.helpers import add_subscriber
from .conftest import StartServer

BASE = "https://tracker.example.org/"
TREATY_NAME = "Treaty on Measures for the Further Reduction of Strategic Offensive Arms"


def parts(mail: EmailMessage) -> tuple[str, str]:
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def test_a_meeting_edit_of_date_and_location_is_one_readable_email(
    session_factory: sessionmaker[Session],
    database_url: str,
    smtp_server: StartServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    now: datetime,
) -> None:
    with transaction(session_factory) as session:
        make_treaty(session, now=now)
        make_meeting(
            session, "SSD plenary", starts="2027-05-04", slug="ssd", treaty="new-start", now=now
        )
        add_subscriber(session, now=now).tz = "Asia/Tokyo"
    server = smtp_server()
    settings = Settings(
        data_dir=tmp_path,
        smtp={"host": server.host, "port": server.port, "timeout_seconds": 5},
        feeds={"base_url": BASE},
    )
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    edited = now + timedelta(hours=1)
    as_of = ["--as-of", edited.strftime("%Y-%m-%dT%H:%M:%S")]
    args = ["meeting", "edit", "ssd", "--starts", "2027-05-11", "--location", "Vienna"]
    result = CliRunner().invoke(cli, [*as_of, *args])
    assert result.exit_code == 0, result.output

    notifier = EmailNotifier.from_settings(settings)
    assert notifier is not None
    Worker(
        session_factory, settings, FixedClock(edited + timedelta(minutes=2)), {"email": notifier}
    ).tick()
    notifier.close()

    [mail] = server.mailbox.received
    assert mail["Subject"] == "Moved: SSD plenary → 2027-05-11 (was 2027-05-04) — also location"
    text, html = parts(mail)
    for body in (text, html):
        assert "2027-05-04 → 2027-05-11" in body and "→ Vienna" in body
        assert f"{BASE}meetings/ssd" in body
        assert TREATY_NAME in body and "new-start" not in body
        assert "None" not in body
        assert "Asia/Tokyo" in body  # when it was recorded, in the reader's zone
    assert f'href="{BASE}meetings/ssd"' in html


def item(**more: Any) -> dict[str, Any]:
    """An item as the views give it, with the optional fields missing or null."""
    return {
        "type": "meeting",
        "slug": "ssd",
        "title": "SSD plenary",
        "treaty": None,
        "treaty_name": None,
        "when": "2027-05-04T10:00",
        "precision": "time",
        "tz": "Europe/Vienna",
        "human": "in 7 days",
        "status": "scheduled",
        "confidence": None,
        "location": None,
        "ends": None,
        "link": None,
        **more,
    }


def message(kind: str, payload: dict[str, Any], subject_line: str = "Subject") -> Message:
    when = datetime(2027, 4, 27, 8, tzinfo=UTC)
    return Message(
        kind,  # type: ignore[arg-type]
        f"{kind}:1",
        subject_line,
        "Body text.",
        when,
        Recipient("ana@example.org", tz="America/New_York"),
        payload=payload,
    )


MISSING = {
    "alert": {"item": item()},
    "change": {
        "item": item(),
        "fields": [{"name": "location", "old": None, "new": "Vienna"}],
        "sources": [{"title": "Notice", "publisher": None, "grade": None, "caveat": None}],
        "notes": [],
        "recorded_at": None,
        "edits": None,
        "made": None,
    },
    "change-removed": {"item": None, "made": "removed", "fields": []},
    "digest": {
        "period": "2027-W17",
        "since": None,
        "alerts": [{"title": "SSD plenary in 7 days", "late": False}],
        "changes": [],
        "board": [item(type="deadline", ends=None)],
        "agenda": [item()],
        "undated": [item(when="TBA", precision="tba", human="date to be announced")],
    },
}


@pytest.mark.parametrize("kind", sorted(MISSING))
def test_no_email_says_none_when_optional_fields_are_missing(kind: str) -> None:
    sent = message(kind.partition("-")[0], MISSING[kind])
    text, html = render(sent)
    assert "None" not in text and "None" not in html
    assert "None" not in subject(sent)


def test_an_alert_subject_says_how_far_and_when_in_the_meetings_own_time() -> None:
    alert = message("alert", {"item": item()})
    assert subject(alert) == "SSD plenary in 7 days — 2027-05-04T10:00 Europe/Vienna"


def test_a_digest_links_each_entry_and_says_instants_in_the_readers_zone() -> None:
    entry = item(link=f"{BASE}meetings/ssd", treaty_name=TREATY_NAME, treaty="new-start")
    digest = message(
        "digest",
        {
            "period": "2027-W17",
            "since": "2027-04-20T08:00:00+00:00",
            "alerts": [{"title": "SSD plenary in 7 days", "link": f"{BASE}meetings/ssd"}],
            "agenda": [entry],
        },
    )
    text, html = render(digest)
    assert "Since 2027-04-20 04:00 America/New_York." in text
    assert text.count(f"{BASE}meetings/ssd") == 2 and html.count(f"{BASE}meetings/ssd") == 2
    assert TREATY_NAME in text and "new-start" not in text
