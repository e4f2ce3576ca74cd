"""The email notifier: SMTP (STARTTLS, implicit TLS or plain), or ``.eml`` files.

One SMTP connection serves a batch of deliveries and is reopened when the server drops
it. Replies in the 4xx range and connection failures are temporary (the outbox retries),
5xx replies are permanent. With no SMTP host configured, each message is written as an
``.eml`` file into the outbox directory, so a new user sees what would be sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from tracker.notifiers.base import DeliveryError, Message
from tracker.notifiers.compose import Composer, compose, one_line
from tracker.publish.writer import write_if_changed

if TYPE_CHECKING:
    from tracker.settings import Settings, SmtpSettings


def classify(exc: Exception) -> DeliveryError:
    """An SMTP or network failure as a DeliveryError: 5xx permanent, anything else not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        refused = "; ".join(
            f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in exc.recipients.items()
        )
        return DeliveryError(f"recipient refused: {refused}", permanent=permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = 500 <= exc.smtp_code < 600
        return DeliveryError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", permanent=permanent)
    return DeliveryError(f"SMTP connection failed: {type(exc).__name__}: {exc}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class SmtpTransport:
    """One connection, opened on first use, reused for the batch, reopened when dropped."""

    def __init__(self, smtp: SmtpSettings, context: ssl.SSLContext | None = None) -> None:
        assert smtp.host is not None
        self.host = smtp.host
        self.settings = smtp
        self.context = context or ssl.create_default_context()
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        connection: smtplib.SMTP
        if settings.security == "tls":
            connection = smtplib.SMTP_SSL(
                self.host, settings.port, timeout=settings.timeout_seconds, context=self.context
            )
        else:
            connection = smtplib.SMTP(self.host, settings.port, timeout=settings.timeout_seconds)
        try:
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=self.context)
                connection.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                connection.login(settings.username, password)
        except BaseException:
            connection.close()
            raise
        return connection

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def send(self, mail: EmailMessage) -> None:
        self._attempt(lambda connection: connection.send_message(mail))

    def send_bytes(self, sender: str, recipient: str, data: bytes) -> None:
        """Send a message already made: what ``send_message`` does after flattening."""
        self._attempt(lambda connection: _sendmail(connection, sender, recipient, data))

    def _attempt(self, action: Callable[[smtplib.SMTP], object]) -> None:
        reused = self._connection is not None
        try:
            if self._connection is None:
                self._connection = self._connect()
            try:
                action(self._connection)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()
                if not reused:
                    raise
                # The server closed our idle connection: open a new one, once.
                self._connection = self._connect()
                action(self._connection)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
        ) as exc:
            raise classify(exc) from exc  # the session stays usable: smtplib sent RSET
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise classify(exc) from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


_PLAIN = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")


def _sendmail(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """``connection.sendmail(sender, [recipient], data)``: the same commands, replies and
    exceptions, without parsing both plain addresses again for every message."""
    if not (_PLAIN.fullmatch(sender) and _PLAIN.fullmatch(recipient)):
        connection.sendmail(sender, [recipient], data)
        return
    connection.ehlo_or_helo_if_needed()
    size = f" size={len(data)}" if connection.does_esmtp and connection.has_extn("size") else ""
    connection.putcmd("mail", f"FROM:<{sender}>{size}")
    code, reply = connection.getreply()
    if code != 250:
        _give_up(connection, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    connection.putcmd("rcpt", f"TO:<{recipient}>")
    code, reply = connection.getreply()
    if code not in (250, 251):
        _give_up(connection, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = connection.data(data)
    if code != 250:
        _give_up(connection, code)
        raise smtplib.SMTPDataError(code, reply)


def _give_up(connection: smtplib.SMTP, code: int) -> None:
    """What smtplib does after a refusal: close on 421, else reset the session."""
    if code == 421:
        connection.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()


class EmlDirectory:
    """The stand-in transport: each message as an ``.eml`` file, named after its identity."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, mail: EmailMessage) -> Path:
        key = hashlib.sha256(str(mail["Message-ID"]).encode()).hexdigest()[:16]
        return self.directory / f"{key}.eml"

    def send(self, mail: EmailMessage) -> None:
        try:
            write_if_changed(self.path_for(mail), mail.as_bytes())
        except OSError as exc:
            raise DeliveryError(f"cannot write to {self.directory}: {exc}") from exc

    def close(self) -> None:
        pass


class EmailNotifier:
    name: ClassVar[str] = "email"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "subscriber"

    def __init__(
        self,
        transport: SmtpTransport | EmlDirectory,
        *,
        sender: str,
        unsubscribe: str | None = None,
    ) -> None:
        self.transport = transport
        self.sender = sender
        self.unsubscribe = unsubscribe
        self._composer = Composer(sender, unsubscribe)

    @classmethod
    def from_settings(
        cls, settings: Settings, context: ssl.SSLContext | None = None
    ) -> EmailNotifier:
        """SMTP when a host is set, else ``.eml`` files in the outbox directory.

        Always configured: without a host it still shows what it would send.
        """
        smtp = settings.smtp
        transport: SmtpTransport | EmlDirectory = (
            SmtpTransport(smtp, context) if smtp.host else EmlDirectory(settings.outbox_dir)
        )
        return cls(transport, sender=smtp.sender, unsubscribe=smtp.list_unsubscribe)

    def render(self, message: Message) -> EmailMessage:
        try:
            return compose(message, sender=self.sender, unsubscribe=self.unsubscribe)
        except ValueError as exc:
            raise DeliveryError(f"cannot compose the email: {exc}", permanent=True) from exc

    def deliver(self, message: Message) -> None:
        self.transport.send(self.render(message))

    def deliver_each(self, messages: Iterable[Message]) -> Iterator[DeliveryError | None]:
        """Send ``messages`` over one connection, yielding each one's outcome, in order,
        once the server has answered it.

        Messages are made with the notifier's :class:`Composer` (each distinct content
        once) and handed to smtplib as bytes. ``messages`` is taken one at a time, so it
        can end early. When the connection is lost and cannot be reopened, the rest get
        the same (temporary) error without waiting out a timeout each.

        Sending from a thread while the next message is made was tried and was slower:
        the client waits on the server four times per message and the thread then waits
        for the GIL.
        """
        transport = self.transport
        if not isinstance(transport, SmtpTransport):
            for message in messages:
                yield _outcome(partial(self.deliver, message))
            return
        sending = _Sending(transport)
        for message in messages:
            yield sending.send(self._prepare(message))

    def _prepare(self, message: Message) -> Prepared:
        """What goes to the server for ``message``: bytes and envelope when it can be made
        quickly, the message itself when it needs SMTPUTF8, or why it cannot be sent."""
        envelope_from = _envelope(self.sender)
        recipient = message.recipient.address if message.recipient else ""
        try:
            if not (envelope_from.isascii() and recipient.isascii()):
                return self.render(message)  # let smtplib see to SMTPUTF8
            return envelope_from, one_line(recipient), self._composer(message)
        except ValueError as exc:
            return DeliveryError(f"cannot compose the email: {exc}", permanent=True)
        except DeliveryError as exc:
            return exc

    def close(self) -> None:
        self.transport.close()
        self._composer.clear()


Prepared = tuple[str, str, bytes] | EmailMessage | DeliveryError


class _Sending:
    """Sends prepared messages in turn; once the connection is lost for good, fails the
    rest with that error."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.lost: DeliveryError | None = None

    def send(self, prepared: Prepared) -> DeliveryError | None:
        if isinstance(prepared, DeliveryError):
            return prepared
        if self.lost is not None:
            return self.lost
        try:
            if isinstance(prepared, EmailMessage):
                self.transport.send(prepared)
            else:
                self.transport.send_bytes(*prepared)
        except DeliveryError as exc:
            if not self.transport.connected:
                self.lost = exc
            return exc
        return None


def _outcome(action: Callable[[], None]) -> DeliveryError | None:
    try:
        action()
    except DeliveryError as exc:
        return exc
    return None


@lru_cache(maxsize=16)
def _envelope(sender: str) -> str:
    """The envelope sender ``send_message`` would take from the From header."""
    return parseaddr(one_line(sender))[1]
