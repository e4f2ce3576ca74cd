"""Faults of the transport as a whole (issue 14, item 5): authentication refused (535,
530), TLS failing, connection refused. The channel pauses, no delivery fails or is charged
an attempt, the paused time does not count towards giving up, a probe on a backoff finds
it well again and the backlog goes out once. And bounces: three 5xx at RCPT in a row
suspend a subscriber until `subscriber edit --resume`."""

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
from tracker.outbox import notices as outbox
from tracker.outbox import transports

from ..alerts.helpers import add_subscriber
from ..notifiers.conftest import Certificate, Mailbox, StartServer, free_port
from .test_smtp_faults import NOW, PLANNED, deliver, deliveries, record_alerts

MINUTE = timedelta(minutes=1)


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@dataclass
class Broken:
    smtp: dict[str, Any]
    error: str
    fix: Callable[[], tuple[dict[str, Any], ssl.SSLContext | None]]
    mailbox: Mailbox


def make_broken(kind: str, smtp_server: StartServer, certificate: Certificate) -> Broken:
    if kind == "down":
        server = smtp_server()
        healthy = {"host": server.host, "port": server.port, "timeout_seconds": 5}
        down = {"host": "127.0.0.1", "port": free_port(), "timeout_seconds": 0.5}
        return Broken(down, "ConnectionRefused", lambda: (healthy, None), server.mailbox)
    if kind == "bad-tls-cert":
        secure = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
        smtp = {"host": secure.host, "port": secure.port, "security": "starttls"}
        return Broken(  # the operator installs the CA
            smtp,
            "CERTIFICATE_VERIFY_FAILED",
            lambda: (smtp, certificate.client_context()),
            secure.mailbox,
        )
    auth = {"authenticator": check_password, "auth_require_tls": False}
    auth |= {"auth_exclude_mechanism": ["LOGIN"]}
    server = smtp_server(**auth, auth_required=kind == "auth-530")
    base = {"host": server.host, "port": server.port, "timeout_seconds": 5}
    right = base | {"username": "ana", "password": "s3cret"}
    # 535: a wrong password; 530: none configured for a server that wants one
    wrong = base | {"username": "ana", "password": "wrong"} if kind == "auth-535" else base
    return Broken(wrong, kind[-3:], lambda: (right, None), server.mailbox)


def status(factory: sessionmaker[Session], at: datetime) -> transports.Status:
    with factory() as session:
        (found,) = transports.status(session.connection(), ["email"], at)
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["down", "bad-tls-cert", "auth-535", "auth-530"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_fault_of_the_transport_pauses_it_fails_nothing_and_the_backlog_goes_out_once(
    session_factory: sessionmaker[Session],
    smtp_server: StartServer,
    certificate: Certificate,
    tmp_path: Path,
    kind: str,
) -> None:
    broken = make_broken(kind, smtp_server, certificate)
    record_alerts(session_factory)

    assert deliver(session_factory, tmp_path, NOW, broken.smtp) == 0
    rows = deliveries(session_factory)
    assert {(d.status, d.attempts) for d in rows} == {("pending", 0)}
    assert any(broken.error in (d.last_error or "") for d in rows)
    paused = status(session_factory, NOW)
    assert (paused.state, paused.paused_since, paused.pending) == ("paused", NOW, PLANNED)
    assert paused.next_probe_at == NOW + MINUTE and broken.error in (paused.last_error or "")
    assert paused.oldest_pending == NOW

    # probed on a backoff; still broken three days and more later, nothing has failed
    deliver(session_factory, tmp_path, NOW + MINUTE, broken.smtp)
    assert status(session_factory, NOW + MINUTE).next_probe_at == NOW + 3 * MINUTE
    later = NOW + timedelta(hours=80)
    deliver(session_factory, tmp_path, later, broken.smtp)
    assert {(d.status, d.attempts) for d in deliveries(session_factory)} == {("pending", 0)}
    assert broken.mailbox.received == []

    smtp, context = broken.fix()  # not tried before its next probe, then all at once
    probe = status(session_factory, later).next_probe_at
    assert probe is not None
    assert deliver(session_factory, tmp_path, probe - timedelta(seconds=1), smtp) == 0
    assert deliver(session_factory, tmp_path, probe, smtp, context=context) == PLANNED
    assert deliver(session_factory, tmp_path, probe + MINUTE, smtp, context=context) == 0
    assert {d.status for d in deliveries(session_factory)} == {"sent"}
    subjects = sorted(str(mail["Subject"]) for mail in broken.mailbox.received)
    assert subjects == [f"Deadline {n} in 7 days" for n in range(PLANNED)]
    well = status(session_factory, probe + MINUTE)
    assert (well.state, well.pending, well.last_success_at) == ("ok", 0, probe)
    assert well.paused_seconds == (probe - NOW).total_seconds()


def test_the_time_a_transport_was_paused_does_not_count_towards_giving_up(
    session_factory: sessionmaker[Session], smtp_server: StartServer, tmp_path: Path
) -> None:
    record_alerts(session_factory)
    down = {"host": "127.0.0.1", "port": free_port(), "timeout_seconds": 0.5}
    deliver(session_factory, tmp_path, NOW, down)  # paused for 70 hours, then up
    server = smtp_server()
    server.mailbox.rcpt_reply = "421 4.3.2 Shutting down"  # but each message is deferred
    smtp = {"host": server.host, "port": server.port, "timeout_seconds": 5}
    up = NOW + timedelta(hours=70)
    deliver(session_factory, tmp_path, up, smtp)
    assert status(session_factory, up).state == "ok"  # it answers: not paused any more
    # 74 h after recording, 4 h of them not paused: retried, not given up
    deliver(session_factory, tmp_path, NOW + timedelta(hours=74), smtp)
    assert {d.status for d in deliveries(session_factory)} == {"pending"}
    # 70 h paused + 72 h: then it gives up
    deliver(session_factory, tmp_path, NOW + timedelta(hours=142), smtp)
    assert {d.status for d in deliveries(session_factory)} == {"failed"}


H = timedelta(hours=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pauses", "start", "end", "paused"),
    [
        ([], T0, T0 + 5 * H, timedelta()),
        ([(T0 + H, T0 + 2 * H)], T0, T0 + 5 * H, H),
        ([(T0 - H, T0 + H)], T0, T0 + 5 * H, H),  # began before the delivery
        ([(T0 + 4 * H, None)], T0, T0 + 5 * H, H),  # not over
        ([(T0 + H, T0 + 2 * H), (T0 + 3 * H, None)], T0, T0 + 5 * H, 3 * H),
        ([(T0 - 3 * H, T0 - H)], T0, T0 + 5 * H, timedelta()),  # before it
    ],
    ids=["none", "within", "before-and-within", "open", "two", "before"],
)
def test_paused_time_is_the_overlap_of_the_pauses_with_the_delivery_s_window(
    pauses: transports.Pauses, start: datetime, end: datetime, paused: timedelta
) -> None:
    assert transports.paused_within(pauses, start, end) == paused


def record_one(factory: sessionmaker[Session], n: int, at: datetime) -> None:
    with factory() as session, session.begin():
        sub = subscribers.get(session, "ana@example.org")
        new = outbox.NewNotice(
            identity=f"change:{n}", kind="change", title=f"Change {n}", body="x\n", due_at=at
        )
        outbox.record(session, new, [sub], outbox.Channels(("email",)), now=at)


def subscriber(factory: sessionmaker[Session]) -> tuple[int, datetime | None]:
    with factory() as session:
        sub = subscribers.get(session, "ana@example.org")
        return sub.bounces, sub.suspended_at


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_three_bounces_in_a_row_suspend_a_subscriber_until_resumed(
    session_factory: sessionmaker[Session], smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    smtp = {"host": server.host, "port": server.port, "timeout_seconds": 5}
    with session_factory() as session, session.begin():
        add_subscriber(session, now=NOW - timedelta(days=1))
    server.mailbox.rcpt_reply = "550 5.1.1 No such user"
    for n in range(2):
        record_one(session_factory, n, NOW)
    deliver(session_factory, tmp_path, NOW, smtp)
    assert subscriber(session_factory) == (2, None)

    server.mailbox.rcpt_reply = None  # one sent: the run of bounces is over
    record_one(session_factory, 2, NOW)
    assert deliver(session_factory, tmp_path, NOW, smtp) == 1
    assert subscriber(session_factory) == (0, None)

    server.mailbox.rcpt_reply = "550 5.1.1 No such user"
    for n in range(3, 6):
        record_one(session_factory, n, NOW + MINUTE)
    deliver(session_factory, tmp_path, NOW + MINUTE, smtp)
    assert subscriber(session_factory) == (3, NOW + MINUTE)
    assert {d.status for d in deliveries(session_factory)} == {"failed", "sent"}

    server.mailbox.rcpt_reply = None
    record_one(session_factory, 6, NOW + 2 * MINUTE)  # suspended: nothing recorded for them
    with session_factory() as session:
        assert len(outbox.listing(session)) == 6
    with session_factory() as session, session.begin():
        subscribers.edit(session, "ana@example.org", subscribers.values(resume=True))
    assert subscriber(session_factory) == (0, None)
    record_one(session_factory, 7, NOW + 3 * MINUTE)
    assert deliver(session_factory, tmp_path, NOW + 3 * MINUTE, smtp) == 1
    assert [str(m["Subject"]) for m in server.mailbox.received] == ["Change 2", "Change 7"]
