"""The email notifier inside the outbox: SMTP replies become retries and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.digests import Happening, Period, assemble
from tracker.clock import FixedClock
from tracker.notifiers.base import Message, Recipient
from tracker.notifiers.email import EmailNotifier
from tracker.notifiers.mime import compose
from tracker.outbox import notices as outbox
from tracker.outbox.delivery import deliver_due
from tracker.outbox.models import Delivery
from tracker.settings import Settings

from ..alerts.helpers import add_subscriber
from .conftest import StartServer

NOW = datetime(2026, 1, 29, 8, 0, tzinfo=UTC)


def record_alert(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        subscriber = add_subscriber(session, now=NOW - timedelta(days=1))
        event = outbox.NewNotice(
            identity="alert:deadline:new-start-expiry:7d:2026-02-05",
            kind="alert",
            title="New START expires in 7 days",
            body="New START expires on 2026-02-05.\n",
            due_at=NOW,
            subject_type="deadline",
            subject_slug="new-start-expiry",
        )
        outbox.record(session, event, [subscriber], outbox.Channels(("email",)), now=NOW)


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (None, "sent"),
        ("451 4.3.0 Greylisted, try again", "pending"),
        ("550 5.1.1 No such user", "failed"),
    ],
    ids=["accepted", "4xx-retried", "5xx-failed"],
)
def test_smtp_replies_end_as_sent_retry_or_failure_in_the_outbox(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    tmp_path: Path,
    reply: str | None,
    status: str,
) -> None:
    server = smtp_server()
    server.mailbox.rcpt_reply = reply
    settings = Settings(
        data_dir=tmp_path, smtp={"host": server.host, "port": server.port, "timeout_seconds": 5}
    )
    notifier = EmailNotifier.from_settings(settings)
    record_alert(session_factory)
    clock = FixedClock(NOW)

    deliver_due(session_factory, {"email": notifier}, clock, settings.delivery)
    notifier.close()

    with session_factory() as session:
        [delivery] = session.query(Delivery).all()
        assert delivery.status == status
        assert delivery.attempts == 1
        if reply is None:
            [mail] = server.mailbox.received
            assert mail["Subject"] == "New START expires in 7 days"
        else:
            assert reply.split()[0] in (delivery.last_error or "")
        if status == "pending":
            assert delivery.next_attempt_at == NOW + timedelta(minutes=1)


def test_a_digest_from_the_digest_builder_says_in_the_subject_what_is_inside() -> None:
    period = Period(
        "2026-W48", datetime(2026, 11, 16, 8, tzinfo=UTC), datetime(2026, 11, 23, 8, tzinfo=UTC)
    )
    happenings = [
        Happening("alert", "New START expires in 7 days", NOW),
        Happening("alert", "TPNW Review Conference in 14 days", NOW, late=True),
    ]
    agenda = [
        {
            "type": "meeting",
            "title": f"Meeting {i}",
            "when": f"2026-12-0{i + 1}",
            "location": "Geneva",
            "status": "scheduled",
            "confidence": "announced",
        }
        for i in range(5)
    ]
    digest = assemble("ana@example.org", period, happenings, agenda=agenda)
    message = Message(
        kind="digest",
        identity=digest.identity,
        subject=digest.subject,
        text=digest.text(),
        created_at=period.due_at,
        recipient=Recipient("ana@example.org"),
        payload=digest.payload(),
    )

    mail = compose(message, sender="Treaty Tracker <tracker@example.org>")

    assert mail["Subject"] == "2 alerts, 5 meetings in the next 60 days — week of 23 Nov 2026"
    text = mail.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "* New START expires in 7 days" in body
    assert "* TPNW Review Conference in 14 days (late)" in body
    assert "* Meeting 4\n  2026-12-05" in body.replace("\r\n", "\n") and "Geneva" in body
