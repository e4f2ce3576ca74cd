"""The email notifier against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from tracker.notifiers.base import DeliveryError, Message
from tracker.notifiers.email import EmailNotifier
from tracker.settings import Settings

from .conftest import Certificate, Server, StartServer
from .messages import HOSTILE, alert, digest


def settings_for(server: Server | None, tmp_path: Path, **smtp: Any) -> Settings:
    values: dict[str, Any] = {"list_unsubscribe": "mailto:tracker@example.org?subject=stop"}
    if server is not None:
        values |= {"host": server.host, "port": server.port, "timeout_seconds": 5}
    return Settings(data_dir=tmp_path, smtp=values | smtp)


def send(settings: Settings, *messages: Message, **options: Any) -> EmailNotifier:
    notifier = EmailNotifier.from_settings(settings, **options)
    try:
        for message in messages:
            notifier.deliver(message)
    finally:
        notifier.close()
    return notifier


def parts(mail: EmailMessage) -> tuple[str, str]:
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def test_a_digest_arrives_as_text_and_html_with_the_headers(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    with freeze_time("2026-11-23 07:15:02"):  # a day after the digest fell due
        send(settings_for(server, tmp_path), digest())

    [mail] = server.mailbox.received
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"] == (
        "2 alerts, 1 change, 5 meetings in the next 60 days, 1 deadline — week of 23 Nov 2026"
    )
    assert mail["To"] == "Ana Analyst <ana@example.org>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe"] == "<mailto:tracker@example.org?subject=stop>"
    assert mail["Date"] == "Mon, 23 Nov 2026 07:15:02 +0000"  # when it was sent
    assert mail["Message-ID"].endswith("@localhost>")
    text, html = parts(mail)
    assert "New START expires in 7 days" in text and "TPNW Review Conference" in text
    assert ">New START expires in 7 days</div>" in html
    assert server.mailbox.envelopes == [("tracker@localhost", ["ana@example.org"])]


def test_the_message_id_is_the_same_when_the_same_digest_is_sent_again(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    other = digest(identity="digest:ana@example.org:2026-11-30")
    send(settings_for(server, tmp_path), digest(), digest(), other)

    ids = [mail["Message-ID"] for mail in server.mailbox.received]
    assert ids[0] == ids[1] != ids[2]


def test_a_batch_shares_one_connection_and_reconnects_when_the_server_drops_it(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server(timeout=0.5)  # aiosmtpd closes sessions idle for half a second
    notifier = EmailNotifier.from_settings(settings_for(server, tmp_path))
    notifier.deliver(alert())
    notifier.deliver(alert())
    assert len(server.mailbox.peers) == 1

    time.sleep(1.0)
    notifier.deliver(alert())
    notifier.close()
    assert len(server.mailbox.received) == 3
    assert len(server.mailbox.peers) == 2


def test_starttls_verifies_the_server_certificate(
    smtp_server: StartServer, tmp_path: Path, certificate: Certificate
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    settings = settings_for(server, tmp_path, security="starttls")

    send(settings, alert(), context=certificate.client_context())
    assert len(server.mailbox.received) == 1

    with pytest.raises(DeliveryError) as refused:  # the default context does not trust it
        send(settings, alert())
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert not refused.value.permanent


def test_plain_smtp_is_refused_by_a_server_that_requires_starttls(
    smtp_server: StartServer, tmp_path: Path, certificate: Certificate
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    with pytest.raises(DeliveryError) as refused:
        send(settings_for(server, tmp_path), alert())
    assert "530" in str(refused.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ("451 4.3.0 Try again later", False),
        ("550 5.1.1 No such user", True),
        ("452 4.2.2 Mailbox full", False),
        ("554 5.7.1 Rejected", True),
    ],
    ids=["451-temporary", "550-permanent", "452-temporary", "554-permanent"],
)
@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_4xx_replies_are_temporary_and_5xx_permanent(
    smtp_server: StartServer, tmp_path: Path, reply: str, permanent: bool, stage: str
) -> None:
    server = smtp_server()
    setattr(server.mailbox, f"{stage}_reply", reply)
    with pytest.raises(DeliveryError) as failed:
        send(settings_for(server, tmp_path), alert())
    assert failed.value.permanent is permanent
    assert reply.split()[0] in str(failed.value)


def test_a_server_that_is_not_there_is_a_temporary_failure(tmp_path: Path) -> None:
    from .conftest import free_port

    settings = Settings(
        data_dir=tmp_path, smtp={"host": "127.0.0.1", "port": free_port(), "timeout_seconds": 2}
    )
    with pytest.raises(DeliveryError) as failed:
        send(settings, alert())
    assert not failed.value.permanent


def test_without_a_host_messages_become_eml_files_in_the_outbox(tmp_path: Path) -> None:
    settings = settings_for(None, tmp_path)
    send(settings, digest(), digest(), alert())

    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2  # the same digest twice is the same file
    mails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    subjects = {m["Subject"] for m in mails}
    assert "New START expires in 7 days" in subjects


def test_hostile_titles_are_escaped_in_html_and_stay_one_header_line(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    send(settings_for(server, tmp_path), alert(subject=HOSTILE), digest(title=HOSTILE))

    [single, whole] = server.mailbox.received
    flat = "Договор СНВ-III <script>alert('x')</script> & \"quoted\" Bcc: victim@example.org"
    assert single["Subject"] == flat
    assert single["Bcc"] is None and whole["Bcc"] is None
    assert server.mailbox.envelopes[0][1] == ["ana@example.org"]
    text, html = parts(whole)
    assert "<script>" not in html
    assert (
        "Договор СНВ-III &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;"
        in html
    )
    assert "Договор СНВ-III <script>alert('x')</script> & \"quoted\"" in text
    _, single_html = parts(single)
    assert "<script>" not in single_html and "&lt;script&gt;" in single_html


def test_a_message_without_a_recipient_is_a_permanent_failure(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError) as failed:
        send(settings_for(None, tmp_path), alert(recipient=None))
    assert failed.value.permanent


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize(("password", "delivered"), [("s3cret", True), ("wrong", False)])
def test_smtp_login_uses_the_password_and_a_refused_login_is_a_fault_of_the_transport(
    smtp_server: StartServer, tmp_path: Path, password: str, delivered: bool
) -> None:
    server = smtp_server(
        authenticator=check_password, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"]
    )
    settings = settings_for(server, tmp_path, username="ana", password=password)
    if delivered:
        send(settings, alert())
        assert len(server.mailbox.received) == 1
        return
    with pytest.raises(DeliveryError) as failed:
        send(settings, alert())
    # not the message's fault: the outbox pauses the channel and keeps it pending
    assert not failed.value.permanent and failed.value.kind == "transport"
    assert "535" in str(failed.value)
    assert "wrong" not in str(failed.value)
