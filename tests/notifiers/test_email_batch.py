"""Emails made by the encoder (each content once), sent in a batch over one connection."""

from __future__ import annotations

import time
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tracker.alerts.tokens import Tokens
from tracker.notifiers.base import DeliversEach, Message, Recipient
from tracker.notifiers.compose import message_id, render
from tracker.notifiers.email import EmailNotifier
from tracker.notifiers.mime import Encoder
from tracker.notifiers.pipeline import pipelined
from tracker.notifiers.smtp import Email, SmtpTransport
from tracker.settings import Settings

from .conftest import StartServer, free_port
from .messages import HOSTILE, alert, digest

SENDER = "Treaty Tracker <tracker@example.org>"
UNSUBSCRIBE = "https://tracker.example.org/unsubscribe"


def parsed(data: bytes) -> EmailMessage:
    mail = message_from_bytes(data, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def body(mail: EmailMessage) -> list[tuple[str, str]]:
    """Each part's type and decoded content."""
    return [
        (part.get_content_type(), part.get_content())
        for part in mail.walk()
        if not part.is_multipart()
    ]


@pytest.mark.parametrize(
    ("message", "to"),
    [
        (digest(), "Ana Analyst <ana@example.org>"),
        (digest(late=True), "Ana Analyst <ana@example.org>"),
        (digest(recipient=Recipient("ana@example.org", "Ana Ünal")), "Ana Ünal <ana@example.org>"),
        (
            digest(recipient=Recipient("ana@example.org", "A. N. Other, PhD")),
            '"A. N. Other, PhD" <ana@example.org>',
        ),
        (digest(recipient=Recipient("ana@example.org")), "ana@example.org"),
        (digest(title="x" * 300 + " = and — long"), "Ana Analyst <ana@example.org>"),
        (alert(), "ana@example.org"),
        (alert(subject=HOSTILE, text=HOSTILE + "\n\n" + "y" * 200), "ana@example.org"),
    ],
    ids=["digest", "late", "non-ascii-name", "quoted-name", "no-name", "long", "alert", "hostile"],
)
def test_every_email_reads_back_whole_with_its_own_headers(message: Message, to: str) -> None:
    mail = parsed(Encoder(SENDER, mailto=UNSUBSCRIBE)(message))
    assert mail.defects == [] and all(part.defects == [] for part in mail.walk())
    assert mail["To"] == to
    assert mail["From"] == SENDER
    assert mail["Message-ID"] == message_id(message, SENDER)
    assert mail["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert [k for k, v in mail.items()].count("Subject") == 1
    assert mail["Subject"].startswith("[late]") == message.late
    assert [kind for kind, _ in body(mail)] == ["text/plain", "text/html"]
    assert all(len(line) <= 998 for line in Encoder(SENDER)(message).split(b"\r\n"))


def test_recipients_of_one_content_differ_only_in_their_own_headers() -> None:
    encoder = Encoder(SENDER)
    ana = digest()
    bo = replace(ana, identity="digest:bo@example.org:2026-11-23", recipient=Recipient("bo@x.org"))
    first, second = parsed(encoder(ana)), parsed(encoder(bo))
    assert (first["To"], second["To"]) == ("Ana Analyst <ana@example.org>", "bo@x.org")
    assert first["Message-ID"] != second["Message-ID"]
    assert body(first) == body(second)
    assert first.get_boundary() == second.get_boundary()  # the same content, made once
    late = parsed(encoder(replace(ana, late=True)))
    assert late["Subject"].startswith("[late]")  # a different content is made anew


def test_an_address_that_is_not_ascii_is_sent_with_smtputf8(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server(enable_SMTPUTF8=True)
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    jurgen = Recipient("jürgen@bücher.example", "Jürgen")
    try:
        assert list(notifier.deliver_each([digest(recipient=jurgen)])) == [None]
    finally:
        notifier.close()
    assert server.mailbox.envelopes == [("tracker@example.org", ["jürgen@bücher.example"])]
    [mail] = server.mailbox.received
    assert mail["To"] == "Jürgen <jürgen@bücher.example>"


def test_an_address_that_is_not_ascii_fails_for_good_on_a_server_without_smtputf8(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server(enable_SMTPUTF8=False)
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    jurgen = digest(recipient=Recipient("jürgen@bücher.example"))
    try:
        [refused, sent] = list(notifier.deliver_each([jurgen, alert()]))
    finally:
        notifier.close()
    assert refused is not None and refused.permanent and "SMTPUTF8" in str(refused)
    assert sent is None and len(server.mailbox.peers) == 1  # the session went on


def settings_for(port: int, tmp_path: Path, **smtp: Any) -> Settings:
    values = {"host": "127.0.0.1", "port": port, "sender": SENDER}
    return Settings(data_dir=tmp_path, smtp=values | smtp)


def test_a_batch_goes_over_one_connection_with_an_outcome_each(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    people = [Recipient(f"p{n}@example.org", f"P {n}") for n in range(5)]
    messages = [replace(digest(), identity=f"digest:{p.address}", recipient=p) for p in people]
    try:
        outcomes = list(notifier.deliver_each(messages))
    finally:
        notifier.close()
    assert isinstance(notifier, DeliversEach)
    assert outcomes == [None] * 5
    assert len(server.mailbox.peers) == 1
    assert [to for _, (to,) in server.mailbox.envelopes] == [p.address for p in people]
    assert [m["Message-ID"] for m in server.mailbox.received] == [
        message_id(m, notifier.sender) for m in messages
    ]


def test_refused_messages_fail_alone_and_the_rest_go_on(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    server.mailbox.refused = {"p1@example.org"}
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    messages = [
        replace(alert(), identity=f"alert:{n}", recipient=Recipient(f"p{n}@example.org"))
        for n in range(3)
    ]
    try:
        outcomes = list(notifier.deliver_each(messages))
    finally:
        notifier.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert outcomes[1] is not None and outcomes[1].permanent and "550" in str(outcomes[1])
    assert len(server.mailbox.received) == 2


def test_a_server_that_is_down_fails_the_batch_at_once_for_a_retry(tmp_path: Path) -> None:
    notifier = EmailNotifier.from_settings(settings_for(free_port(), tmp_path, timeout_seconds=0.5))
    outcomes = list(notifier.deliver_each([alert(), alert(), alert()]))
    notifier.close()
    assert all(o is not None and not o.permanent for o in outcomes)
    assert len({str(o) for o in outcomes}) == 1 and "SMTP connection failed" in str(outcomes[0])


def test_each_recipient_gets_their_own_signed_links_in_headers_and_footer() -> None:
    tokens = Tokens("a secret for tests")
    links = tokens.links("https://tracker.example.org/")
    encoder = Encoder(SENDER, links=links)
    ana = digest(recipient=Recipient("ana@example.org", "Ana", subscriber_id=1))
    bo = replace(ana, recipient=Recipient("bo@example.org", "Bo", subscriber_id=2))
    for message in (ana, bo):
        assert message.recipient is not None
        own = links(message.recipient)
        assert own is not None
        mail = parsed(encoder(message))
        assert mail.defects == [] and all(part.defects == [] for part in mail.walk())
        assert mail["List-Unsubscribe"] == f"<{own.unsubscribe}>"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The content made once, with this recipient's footer put in: the same as rendering
        # the whole email for them.
        text, html = render(message, own)
        read = [(kind, content.replace("\r\n", "\n")) for kind, content in body(mail)]
        assert read == [("text/plain", text), ("text/html", html)]
        assert own.preferences in text and own.unsubscribe in html
    assert all(len(line) <= 76 for line in encoder(ana).split(b"\r\n\r\n", 1)[1].split(b"\r\n"))


def test_without_a_one_click_link_there_is_no_list_unsubscribe_post() -> None:
    mail = parsed(Encoder(SENDER, mailto="mailto:stop@example.org")(digest()))
    assert mail["List-Unsubscribe"] == "<mailto:stop@example.org>"
    assert mail["List-Unsubscribe-Post"] is None


def test_a_message_that_cannot_be_composed_fails_alone_and_the_one_sent_before_keeps_its_outcome(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    messages = [
        replace(alert(), identity=f"alert:{n}", recipient=Recipient(f"p{n}@example.org"))
        for n in range(3)
    ]
    compose = notifier.email

    def broken_for_the_second(message: Message) -> Any:
        if message.identity == "alert:1":
            raise KeyError("a template bug")
        return compose(message)

    notifier.email = broken_for_the_second  # type: ignore[method-assign]
    try:
        outcomes = list(notifier.deliver_each(messages))
    finally:
        notifier.close()
    assert outcomes[0] is None and outcomes[2] is None
    assert outcomes[1] is not None and outcomes[1].permanent
    assert [to for _, (to,) in server.mailbox.envelopes] == ["p0@example.org", "p2@example.org"]


def test_a_message_taken_ahead_is_not_sent_when_the_caller_stops_asking(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    taken: list[str] = []

    def messages() -> Any:
        for n in range(3):
            taken.append(f"p{n}@example.org")
            yield replace(alert(), identity=f"alert:{n}", recipient=Recipient(taken[-1]))

    try:
        each = notifier.deliver_each(messages())
        assert next(each) is None  # the first is answered; the second's envelope is out
        each.close()  # the caller stops (a stop, a transport fault): the begun one is not sent
        assert taken[:2] == ["p0@example.org", "p1@example.org"]
        assert [to for _, (to,) in server.mailbox.envelopes] == ["p0@example.org"]
        # The next batch goes out (on a connection of its own).
        assert list(notifier.deliver_each([replace(alert(), identity="alert:9")])) == [None]
    finally:
        notifier.close()
    assert len(server.mailbox.received) == 2


def test_a_server_closing_while_an_outcome_is_recorded_still_gets_each_message_once(
    smtp_server: StartServer, tmp_path: Path
) -> None:
    # aiosmtpd closes a session idle for 0.3 s: here, while the outbox takes 0.6 s to
    # record each outcome, the next message's envelope already out.
    server = smtp_server(timeout=0.3)
    notifier = EmailNotifier.from_settings(settings_for(server.port, tmp_path))
    messages = [
        replace(alert(), identity=f"alert:{n}", recipient=Recipient(f"p{n}@example.org"))
        for n in range(3)
    ]
    outcomes = []
    try:
        for outcome in notifier.deliver_each(messages):
            outcomes.append(outcome)
            time.sleep(0.6)  # a slow outbox, not a wait for the server
    finally:
        notifier.close()
    assert outcomes == [None, None, None]
    # Each went once: the server had taken nothing of a message when it closed, so it
    # went again on a new connection.
    assert [to for _, (to,) in server.mailbox.envelopes] == [
        "p0@example.org",
        "p1@example.org",
        "p2@example.org",
    ]


def test_an_error_taking_the_next_message_ahead_comes_after_the_last_outcome() -> None:
    class Failing(SmtpTransport):
        """Sends the first message; starting the second fails with no DeliveryError."""

        def __init__(self) -> None:
            self.begun = 0

        def begin(self, email: Email) -> None:
            self.begun += 1
            if self.begun == 2:
                raise UnicodeEncodeError("ascii", "é", 0, 1, "not ASCII")

        def write(self) -> None:
            pass

        def finish(self) -> None:
            pass

        @property
        def timed_out(self) -> bool:
            return False

        @property
        def connected(self) -> bool:
            return True

    emails = iter([Email("a@example.org", f"p{n}@example.org", f"<{n}@x>", b"x") for n in (0, 1)])
    each = pipelined(Failing(), emails, connection_lost=lambda: False)
    assert next(each) is None  # the first one's outcome, to be recorded
    with pytest.raises(UnicodeEncodeError):
        next(each)  # then the failure, never before the outcome of what was sent
