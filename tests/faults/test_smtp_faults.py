"""SMTP faults through the outbox: temporary ones retried on the backoff schedule,
permanent ones failed and listed, and once the server is well every alert arrives once.
(Faults of the transport as a whole, which pause it, are in test_transport_faults.py.)"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts import subscribers
from tracker.clock import FixedClock
from tracker.notifiers.email import EmailNotifier
from tracker.outbox import notices as outbox
from tracker.outbox.delivery import deliver_due
from tracker.outbox.models import Delivery
from tracker.settings import Settings

from ..alerts.helpers import add_subscriber
from ..notifiers.conftest import Certificate, Mailbox, StartServer
from .conftest import ScriptedSmtp

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
PLANNED = 3


def record_alerts(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        subscriber = add_subscriber(session, now=NOW - timedelta(days=1))
        for n in range(PLANNED):
            new = outbox.NewNotice(
                identity=f"alert:deadline:fault-{n}:7d:2026-11-29",
                kind="alert",
                title=f"Deadline {n} in 7 days",
                body="Due on 2026-11-29.\n",
                due_at=NOW,
            )
            outbox.record(session, new, [subscriber], outbox.Channels(("email",)), now=NOW)


@dataclass
class Fault:
    """The SMTP settings while broken; then the fix, and the mailbox that counts."""

    smtp: dict[str, Any]
    permanent: bool
    error: str
    fix: Callable[[], tuple[dict[str, Any], ssl.SSLContext | None]]
    mailbox: Mailbox


def make_fault(
    kind: str, smtp_server: StartServer, scripted: type[ScriptedSmtp], certificate: Certificate
) -> Fault:
    server = smtp_server()
    healthy = {"host": server.host, "port": server.port, "timeout_seconds": 5}

    def to_healthy() -> tuple[dict[str, Any], ssl.SSLContext | None]:
        server.mailbox.rcpt_reply = server.mailbox.data_reply = None
        return healthy, None

    def broken(**smtp: Any) -> dict[str, Any]:
        return {"host": "127.0.0.1", "timeout_seconds": 0.2} | smtp

    if kind in ("hang", "drop-in-data", "greet-421"):
        fake = scripted(kind).start()  # type: ignore[arg-type]
        error = {"hang": "timed out", "drop-in-data": "closed", "greet-421": "421"}[kind]
        return Fault(broken(port=fake.port), False, error, to_healthy, server.mailbox)
    stage, reply = kind.split(":", 1)
    setattr(server.mailbox, f"{stage}_reply", reply)
    return Fault(healthy, reply.startswith("5"), reply.split()[0], to_healthy, server.mailbox)


def deliver(
    factory: sessionmaker[Session], tmp_path: Path, at: datetime, smtp: dict[str, Any], **kw: Any
) -> int:
    settings = Settings(data_dir=tmp_path, smtp=smtp)
    notifier = EmailNotifier.from_settings(settings, **kw)
    try:
        return deliver_due(factory, {"email": notifier}, FixedClock(at), settings.delivery)
    finally:
        notifier.close()


def deliveries(factory: sessionmaker[Session]) -> list[Delivery]:
    with factory() as session:
        return list(session.query(Delivery).order_by(Delivery.id))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SMTP, not SQL, at fault
@pytest.mark.parametrize(
    "kind",
    [
        "greet-421",
        "rcpt:421 4.3.2 Shutting down",
        "data:451 4.3.0 Try again later",
        "rcpt:550 5.1.1 No such user",
        "data:554 5.7.1 Rejected as spam",
        "hang",
        "drop-in-data",
    ],
)
def test_an_smtp_fault_loses_no_alert_and_doubles_none(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    scripted_smtp: type[ScriptedSmtp],
    certificate: Certificate,
    tmp_path: Path,
    kind: str,
) -> None:
    fault = make_fault(kind, smtp_server, scripted_smtp, certificate)
    record_alerts(session_factory)
    first_retry = NOW + timedelta(minutes=1)

    assert deliver(session_factory, tmp_path, NOW, fault.smtp) == 0
    rows = deliveries(session_factory)
    assert all(fault.error in (d.last_error or "") for d in rows), rows[0].last_error
    assert all(d.attempts == 1 for d in rows)
    if fault.permanent:
        assert {d.status for d in rows} == {"failed"}
        with session_factory() as session:  # visible: `tracker alerts list --failed`
            assert len(outbox.listing(session, status="failed")) == PLANNED
    else:
        assert {d.status for d in rows} == {"pending"}
        assert {d.next_attempt_at for d in rows} == {first_retry}
        # not before the backoff delay; then the second attempt doubles the delay
        assert (
            deliver(session_factory, tmp_path, first_retry - timedelta(seconds=1), fault.smtp) == 0
        )
        assert deliver(session_factory, tmp_path, first_retry, fault.smtp) == 0
        rows = deliveries(session_factory)
        assert {(d.status, d.attempts) for d in rows} == {("pending", 2)}
        assert {d.next_attempt_at for d in rows} == {first_retry + timedelta(minutes=2)}
    assert fault.mailbox.received == []

    smtp, context = fault.fix()
    later = NOW + timedelta(minutes=3)
    if fault.permanent:  # failed stays failed until an operator requeues it
        assert deliver(session_factory, tmp_path, later, smtp, context=context) == 0
        with session_factory() as session, session.begin():
            sub = subscribers.get(session, "ana@example.org")
            # three bounces at RCPT in a row suspend the address; a 5xx at DATA does not
            assert (sub.suspended_at is not None) == kind.startswith("rcpt:")
            subscribers.edit(session, sub.email, subscribers.values(resume=True))
            outbox.retry(session, [], all_failed=True, now=later)
    assert deliver(session_factory, tmp_path, later, smtp, context=context) == PLANNED
    assert (
        deliver(session_factory, tmp_path, later + timedelta(hours=1), smtp, context=context) == 0
    )

    assert {d.status for d in deliveries(session_factory)} == {"sent"}
    subjects = sorted(str(mail["Subject"]) for mail in fault.mailbox.received)
    assert subjects == [f"Deadline {n} in 7 days" for n in range(PLANNED)]


def test_a_temporary_fault_that_outlasts_the_give_up_window_ends_failed_and_listed(
    session_factory: sessionmaker[Session], smtp_server: StartServer, tmp_path: Path
) -> None:
    record_alerts(session_factory)
    server = smtp_server()
    server.mailbox.rcpt_reply = "421 4.3.2 Shutting down"
    smtp = {"host": server.host, "port": server.port, "timeout_seconds": 5}
    deliver(session_factory, tmp_path, NOW, smtp)  # retry in 1 min
    deliver(session_factory, tmp_path, NOW + timedelta(hours=71, minutes=30), smtp)  # in 2 min
    assert {d.status for d in deliveries(session_factory)} == {"pending"}
    deliver(session_factory, tmp_path, NOW + timedelta(hours=71, minutes=58), smtp)  # 4: too late

    rows = deliveries(session_factory)
    assert {d.status for d in rows} == {"failed"}
    assert all(d.next_attempt_at - NOW <= timedelta(hours=73) for d in rows)
    with session_factory() as session:
        assert len(outbox.listing(session, status="failed")) == PLANNED
