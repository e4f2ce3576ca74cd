"""One message's SMTP exchange on an open connection, in three steps split where it waits
for the server: :func:`envelope`, :func:`message` and :func:`answer`.

When the server advertises PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one
write and their replies are read in order: one round trip instead of three. Every
command sent has its reply read, refused or not, so the connection stays in step for
the next message of the batch. Until :func:`message` writes the line that ends it, the
server has taken nothing: a message whose exchange stops before that is never delivered.
"""

from __future__ import annotations

import contextlib
import functools
import select
import smtplib
import socket
from dataclasses import dataclass

# What smtplib's send_message asks for when an address is not ASCII (RFC 6531).
_INTERNATIONAL = ("SMTPUTF8", "BODY=8BITMIME")
Reply = tuple[int, bytes]
# The batch's one sender, parsed once rather than once a message (tens of µs each).
_quoted_sender = functools.lru_cache(maxsize=8)(smtplib.quoteaddr)


@dataclass(frozen=True)
class Email:
    """One email ready to go: its envelope, its Message-ID and its bytes."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    international: bool = False


def envelope(connection: smtplib.SMTP, email: Email) -> bool:
    """MAIL, RCPT and DATA for ``email``: in one write when the server offers PIPELINING
    (True: their replies are yet to be read, by :func:`message`), else one at a time, each
    answered (False). A refusal read here is raised as smtplib would raise it."""
    connection.ehlo_or_helo_if_needed()
    options = []
    if connection.does_esmtp:
        if connection.has_extn("size"):
            options.append(f"size={len(email.data)}")
        options.extend(_INTERNATIONAL if email.international else ())
    if connection.has_extn("pipelining"):
        _write_envelope(connection, email, options)
        return True
    _envelope(connection, email, options)
    return False


def message(connection: smtplib.SMTP, email: Email, pending: bool) -> None:
    """The envelope's replies when they are ``pending`` (a refusal raised as smtplib
    would), then the message and the line that ends it, in one write: from here on the
    server may deliver it."""
    if pending:
        _read_envelope(connection, email)
    if _closed_by_peer(connection):
        # Gone while the message waited for its turn (an idle timeout): it has taken
        # nothing of it, so the message may go again on a new connection.
        raise smtplib.SMTPServerDisconnected("the server closed the connection")
    body = _quote_periods(email.data)
    body += b"" if body.endswith(b"\r\n") else b"\r\n"
    connection.send(body + b".\r\n")


def answer(connection: smtplib.SMTP) -> None:
    """The server's answer to the message :func:`message` wrote."""
    code, reply = connection.getreply()
    if code != 250:
        _reset_or_close(connection, code)
        raise smtplib.SMTPDataError(code, reply)


def _envelope(connection: smtplib.SMTP, email: Email, options: list[str]) -> None:
    """MAIL, RCPT and DATA one at a time, each waiting for its reply, as smtplib does."""
    code, reply = connection.mail(email.sender, options)
    if code != 250:
        _reset_or_close(connection, code)
        raise smtplib.SMTPSenderRefused(code, reply, email.sender)
    code, reply = connection.rcpt(email.recipient)
    if code not in (250, 251):
        _reset_or_close(connection, code)
        raise smtplib.SMTPRecipientsRefused({email.recipient: (code, reply)})
    code, reply = connection.docmd("data")
    if code != 354:
        _reset_or_close(connection, code)
        raise smtplib.SMTPDataError(code, reply)


def _write_envelope(connection: smtplib.SMTP, email: Email, options: list[str]) -> None:
    """MAIL, RCPT and DATA in one write (RFC 2920); :func:`_read_envelope` reads them."""
    if email.international:  # as SMTP.mail: refused before anything is sent
        if not connection.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
        connection.command_encoding = "utf-8"
    commands = (
        f"mail FROM:{_quoted_sender(email.sender)}{''.join(' ' + o for o in options)}",
        f"rcpt TO:{smtplib.quoteaddr(email.recipient)}",
        "data",
    )
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError("command and arguments contain prohibited newline characters")
    connection.send("".join(f"{command}\r\n" for command in commands))


def _read_envelope(connection: smtplib.SMTP, email: Email) -> None:
    """The three replies to a pipelined envelope, in order; the first refusal raised."""
    replies = _replies(connection, 3)
    refusal = _refusal(email, replies)
    if refusal is None:
        return
    codes = [code for code, _ in replies]
    if codes[-1] == 354:
        # A server that took DATA though it refused the transaction: end the empty
        # message at once (RFC 2920 3.1), and read what it says of it.
        try:
            connection.send(b".\r\n")
            codes.append(connection.getreply()[0])
        except smtplib.SMTPServerDisconnected:  # gone: the refusal is still what happened
            connection.close()
            raise refusal from None
    _reset_or_close(connection, 421 if 421 in codes else codes[0])
    raise refusal


def _closed_by_peer(connection: smtplib.SMTP) -> bool:
    """Whether the server has closed the connection: a look at the socket, not a wait.
    Nothing to read is open; the end of the stream is closed. (The plain socket is
    peeked at, as an SSLSocket takes no flags: a TLS alert reads as open.)"""
    sock = connection.sock
    if sock is None:
        return True
    poller = select.poll()  # not select(): a descriptor may be past FD_SETSIZE
    poller.register(sock, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return socket.socket.recv(sock, 1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _replies(connection: smtplib.SMTP, count: int) -> list[Reply]:
    """Up to ``count`` replies in order; fewer after a 421, which the server closes on."""
    replies: list[Reply] = []
    while len(replies) < count and (not replies or replies[-1][0] != 421):
        replies.append(connection.getreply())
    return replies


def _refusal(email: Email, replies: list[Reply]) -> smtplib.SMTPException | None:
    """What refused the message, first refusal first, as smtplib would raise it; None if
    MAIL, RCPT and DATA were all taken. (A 421 ends ``replies`` at a refusal.)"""
    (mail, reply), *rest = replies
    if mail != 250:
        return smtplib.SMTPSenderRefused(mail, reply, email.sender)
    if rest[0][0] not in (250, 251):
        return smtplib.SMTPRecipientsRefused({email.recipient: rest[0]})
    if rest[1][0] != 354:
        return smtplib.SMTPDataError(*rest[1])
    return None


def _quote_periods(data: bytes) -> bytes:
    """A line that starts with "." gets another (RFC 5321 4.5.2), as smtplib's data()
    does with ``re.sub(rb"(?m)^\\.", ...)``: a regular expression tries every byte, ten
    times the time of a replace on a digest's 8 kB."""
    quoted = data.replace(b"\n.", b"\n..")
    return b"." + quoted if quoted.startswith(b".") else quoted


def _reset_or_close(connection: smtplib.SMTP, code: int) -> None:
    """As sendmail leaves a refused transaction: reset, or closed after a 421."""
    if code == 421:
        connection.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()
