"""One `meeting edit` changing the date and the location: one email, over real SMTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_meeting
from tracker.catalog import editing
from tracker.cli.main import cli
from tracker.clock import FixedClock
from tracker.db import transaction
from tracker.notifiers.email import EmailNotifier
from tracker.outbox.worker import Worker
from tracker.settings import Settings

from ..alerts.helpers import add_subscriber
from .conftest import StartServer

WINDOW = timedelta(minutes=2)


def test_one_meeting_edit_of_date_and_location_is_one_email_listing_both(
    session_factory: sessionmaker[Session],
    database_url: str,
    smtp_server: StartServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    now: datetime,
) -> None:
    with transaction(session_factory) as session:
        make_meeting(session, "SSD plenary", starts="2027-05-04", slug="ssd", now=now)
        session.flush()
        editing.edit(session, "ssd", editing.MeetingFields.parse(location="Geneva"), now=now)
        add_subscriber(session, now=now)
    server = smtp_server()
    settings = Settings(
        data_dir=tmp_path, smtp={"host": server.host, "port": server.port, "timeout_seconds": 5}
    )
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    edited = now + timedelta(hours=1)

    def tracker(*args: str, at: datetime) -> None:
        as_of = ["--as-of", at.strftime("%Y-%m-%dT%H:%M:%S")]
        result = CliRunner().invoke(cli, [*as_of, "meeting", "edit", "ssd", *args])
        assert result.exit_code == 0, result.output

    def tick(at: datetime) -> list[str]:
        notifier = EmailNotifier.from_settings(settings)
        assert notifier is not None
        Worker(session_factory, settings, FixedClock(at), {"email": notifier}).tick()
        notifier.close()
        return [str(mail["Subject"]) for mail in server.mailbox.received]

    tracker("--starts", "2027-05-11", "--location", "Vienna", at=edited)
    assert tick(edited) == []
    assert tick(edited + WINDOW) == [
        "Moved: SSD plenary → 2027-05-11 (was 2027-05-04) — also location"
    ]
    [mail] = server.mailbox.received
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "start: 2027-05-04 → 2027-05-11" in text and "location: Geneva → Vienna" in text

    # two edits within the window: one email; an edit and its undo: none
    second = edited + timedelta(hours=1)
    tracker("--location", "Berlin", at=second)
    tracker("--starts", "2027-05-12", at=second + timedelta(seconds=60))
    tracker("--starts", "2027-05-20", at=second + timedelta(seconds=90))
    assert len(tick(second + WINDOW)) == 1  # the window runs from the last edit
    assert tick(second + timedelta(seconds=90) + WINDOW)[1:] == [
        "Moved: SSD plenary → 2027-05-20 (was 2027-05-11) — also location"
    ]
    undo = second + timedelta(hours=1)
    tracker("--location", "Oslo", at=undo)
    tracker("--location", "Berlin", at=undo + timedelta(seconds=30))
    assert len(tick(undo + 2 * WINDOW)) == 2
    # an edit after the window: a second email
    tracker("--location", "Oslo", at=undo + 3 * WINDOW)
    assert tick(undo + 4 * WINDOW)[2:] == ["Changed: SSD plenary — location: Berlin → Oslo"]
