"""SMTP PIPELINING (RFC 2920): with a server that offers it, MAIL, RCPT and DATA go out
in one write; every refusal reads all three replies, so the next message on the same
connection goes through; without the offer, each command waits for its reply."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tracker.notifiers.base import DeliveryError, Recipient
from tracker.notifiers.email import EmailNotifier
from tracker.notifiers.smtp import Email, SmtpTransport
from tracker.settings import Settings, SmtpSettings

from .conftest import Mailbox, free_port
from .messages import alert

SENDER = "tracker@example.org"
# Lines that start with a dot, a lone dot, and no line break at the end.
DATA = b"Subject: dots\r\nMessage-ID: <m@example.org>\r\n\r\n.hidden\r\n.\r\n..two\r\nend"


def email(n: int, sender: str = SENDER, data: bytes = DATA) -> Email:
    return Email(sender, f"p{n}@example.org", f"<m{n}@example.org>", data)


@dataclass
class Relay(Mailbox):
    """The test mailbox, offering PIPELINING (or not), refusing a given sender at MAIL or
    recipient at RCPT with the reply given for that address, keeping each message's bytes
    and counting the connections greeted."""

    pipelining: bool = True
    replies: dict[str, str] = field(default_factory=dict)
    contents: list[bytes] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)
    greeted: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself without this hook
        self.greeted += 1
        if not self.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.replies:
            return self.replies[address]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.replies:
            return self.replies[address]
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.contents.append(envelope.original_content)
        self.mail_options.append(list(envelope.mail_options))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay() -> Iterator[Callable[..., tuple[Relay, int]]]:
    from aiosmtpd.controller import Controller

    started: list[Any] = []

    def start(**handler: Any) -> tuple[Relay, int]:
        box, port = Relay(**handler), free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return box, port

    yield start
    for controller in started:
        controller.stop()


def transport(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5))


def outcomes(port: int, emails: list[Email]) -> list[DeliveryError | None]:
    """Each email sent in turn over one transport, with what became of it."""
    sender = transport(port)
    results: list[DeliveryError | None] = []
    try:
        for each in emails:
            try:
                sender.send(each)
            except DeliveryError as exc:
                results.append(exc)
            else:
                results.append(None)
    finally:
        sender.stop()
    return results


def test_pipelined_messages_arrive_byte_identical_to_those_sent_a_command_at_a_time(
    relay: Callable[..., tuple[Relay, int]],
) -> None:
    emails = [email(0), email(1, data=b".first\r\n.\r\n\r\n..\r\n"), email(2)]
    pipelined, port = relay()
    assert outcomes(port, emails) == [None] * 3
    one_by_one, port = relay(pipelining=False)
    assert outcomes(port, emails) == [None] * 3
    assert pipelined.contents == one_by_one.contents
    assert pipelined.contents[0].endswith(b"\r\n.hidden\r\n.\r\n..two\r\nend\r\n")
    assert pipelined.contents[1] == b".first\r\n.\r\n\r\n..\r\n"
    assert pipelined.envelopes == one_by_one.envelopes
    assert pipelined.mail_options == one_by_one.mail_options
    assert pipelined.greeted == one_by_one.greeted == 1


@pytest.mark.parametrize(
    ("refused", "reply", "permanent", "kind"),
    [
        ("sender", "550 5.7.1 Sender not allowed", True, "message"),
        ("sender", "451 4.3.0 Try again later", False, "message"),
        ("recipient", "550 5.1.1 No such user", True, "recipient"),
        ("recipient", "450 4.2.1 Mailbox busy", False, "message"),
    ],
    ids=["mail-550", "mail-451", "rcpt-550", "rcpt-450"],
)
def test_a_refusal_reads_every_reply_and_the_next_message_goes_over_the_same_connection(
    relay: Callable[..., tuple[Relay, int]], refused: str, reply: str, permanent: bool, kind: str
) -> None:
    bad = "refused@example.org"
    box, port = relay(replies={bad: reply})
    first = email(0, sender=bad) if refused == "sender" else replace(email(0), recipient=bad)
    [error, after] = outcomes(port, [first, email(1)])
    assert isinstance(error, DeliveryError)
    assert reply.split()[0] in str(error)
    assert (error.permanent, error.kind) == (permanent, kind)
    assert after is None
    assert [to for _, (to,) in box.envelopes] == ["p1@example.org"]
    assert box.greeted == 1


def test_a_421_at_mail_closes_the_connection_and_the_next_message_opens_another(
    relay: Callable[..., tuple[Relay, int]],
) -> None:
    closing = "closing@example.org"
    box, port = relay(replies={closing: "421 4.3.2 Shutting down"})
    [error, after] = outcomes(port, [email(0, sender=closing), email(1)])
    assert isinstance(error, DeliveryError) and not error.permanent and "421" in str(error)
    assert after is None
    assert [to for _, (to,) in box.envelopes] == ["p1@example.org"]
    assert box.greeted == 2


def test_a_message_begun_then_dropped_is_not_sent_over_a_pipelining_server(
    relay: Callable[..., tuple[Relay, int]], tmp_path: Path
) -> None:
    box, port = relay()
    notifier = EmailNotifier.from_settings(
        Settings(data_dir=tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=port))
    )

    def messages() -> Any:
        for n in range(3):
            yield replace(alert(), identity=f"alert:{n}", recipient=Recipient(f"p{n}@example.org"))

    try:
        each = notifier.deliver_each(messages())
        assert isinstance(each, Generator)
        assert next(each) is None  # the first is answered; the second's envelope is out
        each.close()  # the caller stops: the begun one is dropped unsent
        assert [to for _, (to,) in box.envelopes] == ["p0@example.org"]
        assert list(notifier.deliver_each([replace(alert(), identity="alert:9")])) == [None]
    finally:
        notifier.close()
    assert len(box.received) == 2


@dataclass
class Scripted:
    """A raw SMTP server that shows how the client's commands came. Offering PIPELINING,
    it answers MAIL and RCPT only once DATA has arrived: a client waiting for MAIL's reply
    before sending RCPT would wait until its timeout. It logs each command and reply,
    and for each command how many complete lines had arrived behind it. ``replies``
    gives the next reply to a command, once ("END" for the line ending a message, "HANG
    UP" to close instead); a 354 after a refused RCPT is the broken server RFC 2920 warns
    of."""

    pipelining: bool
    replies: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    behind: list[int] = field(default_factory=list)
    messages: int = 0
    listener: socket.socket = field(default_factory=socket.socket)

    def start(self) -> int:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        threading.Thread(target=self._serve, daemon=True).start()
        return int(self.listener.getsockname()[1])

    def _serve(self) -> None:
        peer, _ = self.listener.accept()
        with peer:
            peer.sendall(b"220 scripted ESMTP\r\n")
            lines = _lines(peer)
            queued: list[str] = []
            sender = recipient = False
            for verb, behind in lines:
                self.log.append(verb)
                self.behind.append(behind)
                reply = "250 OK"
                if verb == "EHLO":
                    offer = "250-PIPELINING\r\n" if self.pipelining else ""
                    reply = f"250-scripted\r\n{offer}250 8BITMIME"
                elif verb == "MAIL":
                    reply = self.replies.pop("MAIL", "250 OK")
                    sender = reply.startswith("250")
                elif verb == "RCPT":
                    reply = self.replies.pop("RCPT", "250 OK") if sender else "503 need MAIL"
                    recipient = sender and reply.startswith("250")
                elif verb == "DATA":
                    reply = self.replies.pop("DATA", "354 go" if recipient else "503 need RCPT")
                elif verb == "RSET":
                    sender = recipient = False
                elif verb == "QUIT":
                    peer.sendall(b"221 bye\r\n")
                    return
                queued.append(reply)
                if self.pipelining and verb in ("MAIL", "RCPT"):
                    continue  # answered with DATA: proof the client did not wait
                self.log.extend(r[:3] for r in queued)
                peer.sendall("".join(f"{r}\r\n" for r in queued).encode())
                queued.clear()
                if reply.startswith("354"):
                    for line, _ in lines:  # the message, up to its lone "."
                        if line == ".":
                            break
                    end = self.replies.pop("END", "250 queued" if recipient else "554 no RCPT")
                    if end == "HANG UP":  # closes the connection instead of answering
                        self.log.append(".")
                        return
                    self.messages += recipient
                    self.log.extend([".", end[:3]])
                    peer.sendall(f"{end}\r\n".encode())
                    sender = recipient = False

    def stop(self) -> None:
        self.listener.close()


def _lines(peer: socket.socket) -> Iterator[tuple[str, int]]:
    """Each line received (its first four letters), with how many complete lines had
    already arrived behind it."""
    buffer = b""
    while True:
        while b"\r\n" not in buffer:
            chunk = peer.recv(65536)
            if not chunk:
                return
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        yield line[:4].decode("ascii", "replace").upper(), buffer.count(b"\r\n")


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[Scripted, int]]]:
    started: list[Scripted] = []

    def start(**options: Any) -> tuple[Scripted, int]:
        server = Scripted(**options)
        started.append(server)
        return server, server.start()

    yield start
    for server in started:
        server.stop()


SENT = ["MAIL", "250", "RCPT", "250", "DATA", "354", ".", "250"]
PIPELINED = ["MAIL", "RCPT", "DATA", "250", "250", "354", ".", "250"]


def test_offered_pipelining_mail_rcpt_and_data_arrive_before_the_server_answers_mail(
    scripted: Callable[..., tuple[Scripted, int]],
) -> None:
    server, port = scripted(pipelining=True)
    assert outcomes(port, [email(0), email(1)]) == [None, None]
    assert server.log == ["EHLO", "250", *PIPELINED, *PIPELINED, "QUIT"]
    assert server.messages == 2


def test_without_pipelining_offered_each_command_waits_for_its_reply(
    scripted: Callable[..., tuple[Scripted, int]],
) -> None:
    server, port = scripted(pipelining=False)
    assert outcomes(port, [email(0), email(1)]) == [None, None]
    assert server.log == ["EHLO", "250", *SENT, *SENT, "QUIT"]
    # Nothing was sent ahead of a reply: no command had another line behind it.
    assert server.behind == [0] * len(server.behind)
    assert server.messages == 2


@pytest.mark.parametrize(
    ("replies", "exchange", "permanent", "kind"),
    [
        (
            {"MAIL": "550 5.7.1 Sender not allowed"},
            ["MAIL", "RCPT", "DATA", "550", "503", "503"],
            True,
            "message",
        ),
        (
            {"DATA": "554 5.3.4 Not now, not ever"},
            ["MAIL", "RCPT", "DATA", "250", "250", "554"],
            True,
            "message",
        ),
        (
            {"DATA": "451 4.3.0 Try again"},
            ["MAIL", "RCPT", "DATA", "250", "250", "451"],
            False,
            "message",
        ),
        (
            {"RCPT": "550 5.1.1 No such user", "DATA": "354 go ahead anyway"},
            ["MAIL", "RCPT", "DATA", "250", "550", "354", ".", "554"],
            True,
            "recipient",
        ),
    ],
    ids=["mail-550", "data-554", "data-451", "rcpt-550-then-354"],
)
def test_a_pipelined_refusal_reads_every_reply_resets_and_the_next_message_goes(
    scripted: Callable[..., tuple[Scripted, int]],
    replies: dict[str, str],
    exchange: list[str],
    permanent: bool,
    kind: str,
) -> None:
    refusal = next(iter(replies.values()))
    server, port = scripted(pipelining=True, replies=dict(replies))
    [error, after] = outcomes(port, [email(0), email(1)])
    assert isinstance(error, DeliveryError) and refusal.split()[0] in str(error)
    assert (error.permanent, error.kind) == (permanent, kind)
    assert after is None
    assert server.log == ["EHLO", "250", *exchange, "RSET", "250", *PIPELINED, "QUIT"]
    assert server.messages == 1


def test_a_refusal_stays_the_outcome_when_the_server_hangs_up_on_the_empty_message(
    scripted: Callable[..., tuple[Scripted, int]],
) -> None:
    replies = {"RCPT": "550 5.1.1 No such user", "DATA": "354 go ahead anyway", "END": "HANG UP"}
    server, port = scripted(pipelining=True, replies=replies)
    [error] = outcomes(port, [email(0)])
    assert isinstance(error, DeliveryError) and "550" in str(error)
    assert (error.permanent, error.kind) == (True, "recipient")  # not a connection fault
    assert server.log == ["EHLO", "250", "MAIL", "RCPT", "DATA", "250", "550", "354", "."]
