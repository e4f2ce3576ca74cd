"""The email notifier: SMTP (STARTTLS, implicit TLS or plain), or ``.eml`` files.

One SMTP connection serves a batch of deliveries and is reopened when the server drops
it. Replies in the 4xx range and connection failures are temporary (the outbox retries),
5xx replies are permanent; a 5xx at RCPT is a bounce of the address. Authentication
refused (535, 530), TLS failing and a refused connection are faults of the transport as
a whole: the outbox pauses the channel. Each message's whole exchange has a deadline
(``smtp.deadline_seconds``), kept by a watchdog that shuts the socket down when it
passes, however slowly the server drips bytes; :meth:`SmtpTransport.abort` does the same
at once when the daemon stops. With no SMTP host configured, each message is written as an
``.eml`` file into the outbox directory, so a new user sees what would be sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from tracker.alerts import tokens
from tracker.files import write_if_changed
from tracker.notifiers.base import DeliveryError, Message
from tracker.notifiers.compose import envelope, international, message_id
from tracker.notifiers.mime import Encoder
from tracker.notifiers.watchdog import Watchdog

if TYPE_CHECKING:
    from tracker.alerts.tokens import LinkMaker
    from tracker.clock import Clock
    from tracker.settings import Settings, SmtpSettings

# What smtplib's send_message asks for when an address is not ASCII (RFC 6531).
_INTERNATIONAL = ("SMTPUTF8", "BODY=8BITMIME")


@dataclass(frozen=True)
class Email:
    """One email ready to go: its envelope, its Message-ID and its bytes."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    international: bool = False


def classify(exc: Exception) -> DeliveryError:
    """An SMTP or network failure as a DeliveryError: 5xx permanent, anything else not;
    the transport's own faults (authentication, TLS, refused connection) of kind
    ``"transport"``, an address refused with a 5xx of kind ``"recipient"``."""
    if isinstance(exc, smtplib.SMTPAuthenticationError) or (
        isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 530
    ):
        return DeliveryError(
            f"SMTP authentication refused: {exc.smtp_code} {_text(exc.smtp_error)}",
            kind="transport",
        )
    if isinstance(exc, ssl.SSLError | ConnectionRefusedError):
        return DeliveryError(
            f"SMTP connection failed: {type(exc).__name__}: {exc}", kind="transport"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if "STARTTLS" in str(exc) or "AUTH" in str(exc):  # the server, not this message
            return DeliveryError(f"the SMTP server cannot: {exc}", kind="transport")
        # no SMTPUTF8: a retry cannot help
        return DeliveryError(f"the SMTP server cannot send this: {exc}", permanent=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        refused = "; ".join(
            f"{addr}: {code} {_text(reply)}" for addr, (code, reply) in exc.recipients.items()
        )
        return DeliveryError(
            f"recipient refused: {refused}",
            permanent=permanent,
            kind="recipient" if permanent else "message",
        )
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
        self._watchdog = Watchdog()
        self._aborted = False

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        connection: smtplib.SMTP
        if settings.security == "tls":
            connection = smtplib.SMTP_SSL(timeout=settings.timeout_seconds, context=self.context)
        else:
            connection = smtplib.SMTP(timeout=settings.timeout_seconds)
        # Connected here, not by the constructor: the watchdog can reach the socket
        # while the greeting drips in.
        self._connection = connection
        connection._host = self.host  # type: ignore[attr-defined]  # TLS checks the name
        try:
            code, greeting = connection.connect(self.host, settings.port)
            if code != 220:  # as the constructor would
                raise smtplib.SMTPConnectError(code, greeting)
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=self.context)
                connection.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                connection.login(settings.username, password)
        except BaseException:
            self._connection = None
            connection.close()
            raise
        return connection

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def send(self, email: Email) -> None:
        options = _INTERNATIONAL if email.international else ()
        self._attempt(
            lambda connection: connection.sendmail(
                email.sender, [email.recipient], email.data, mail_options=options
            )
        )

    def _cut(self) -> None:
        """Shut the socket down under the exchange in progress (from another thread): the
        read or write blocked on it returns at once. The descriptor stays open until
        the sending thread closes it."""
        connection = self._connection
        if connection is not None:
            _shut(connection)

    def abort(self) -> None:
        """Stop the exchange in progress now (the daemon is stopping); the message in hand
        fails as ``interrupted`` and goes back to pending."""
        self._aborted = True
        self._cut()

    def _attempt(self, action: Callable[[smtplib.SMTP], object]) -> None:
        if self._aborted:
            raise DeliveryError("interrupted: the worker is stopping", kind="interrupted")
        self._watchdog.arm(self.settings.deadline_seconds, self._cut)
        try:
            self._exchange(action)
        except DeliveryError as exc:
            if self._aborted:
                raise DeliveryError(
                    "interrupted: the worker is stopping", kind="interrupted"
                ) from exc
            if self._watchdog.fired:
                raise DeliveryError(
                    f"SMTP exchange not done within smtp.deadline_seconds "
                    f"({self.settings.deadline_seconds:g} s)"
                ) from exc
            raise
        finally:
            self._watchdog.disarm()

    def _exchange(self, action: Callable[[smtplib.SMTP], object]) -> None:
        reused = self._connection is not None
        try:
            if self._connection is None:
                self._connection = self._connect()
            try:
                action(self._connection)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()
                if not reused or self._watchdog.fired or self._aborted:
                    raise
                # The server closed our idle connection: open a new one, once.
                self._connection = self._connect()
                action(self._connection)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPDataError,
            smtplib.SMTPNotSupportedError,
        ) as exc:
            raise classify(exc) from exc  # the session stays usable (smtplib sent RSET)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise classify(exc) from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._aborted:
            connection.close()
            return
        self._watchdog.arm(self.settings.timeout_seconds, lambda: _shut(connection))
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
        finally:
            self._watchdog.disarm()

    def stop(self) -> None:
        """Close, and end the watchdog's thread."""
        self.close()
        self._watchdog.stop()


def _shut(connection: smtplib.SMTP) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        # the plain socket's shutdown: an SSLSocket's would unwrap from this thread
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class EmlDirectory:
    """The stand-in transport: each message as an ``.eml`` file, named after its Message-ID."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, email: Email) -> Path:
        key = hashlib.sha256(email.message_id.encode()).hexdigest()[:16]
        return self.directory / f"{key}.eml"

    def send(self, email: Email) -> None:
        try:
            write_if_changed(self.path_for(email), email.data)
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
        mailto: str | None = None,
        links: LinkMaker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.transport = transport
        self.sender = sender
        self._encoder = Encoder(sender, mailto=mailto, links=links, clock=clock)

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
        links = tokens.from_settings(settings).links(settings.feeds.base_url)
        return cls(transport, sender=smtp.sender, mailto=smtp.list_unsubscribe, links=links)

    def recipients(self) -> tuple[str, ...]:
        """None of its own: it writes to each subscriber."""
        return ()

    def email(self, message: Message) -> Email:
        """The email for ``message``; a permanent DeliveryError when it cannot be made."""
        try:
            sender, recipient = envelope(message, self.sender)
            return Email(
                sender,
                recipient,
                message_id(message, self.sender),
                self._encoder(message),
                international(message, self.sender),
            )
        except ValueError as exc:
            raise DeliveryError(f"cannot compose the email: {exc}", permanent=True) from exc

    def deliver(self, message: Message) -> None:
        self.transport.send(self.email(message))

    def deliver_each(self, messages: Iterable[Message]) -> Iterator[DeliveryError | None]:
        """Send ``messages`` over one connection, yielding each one's outcome, in order,
        once the server has answered it.

        ``messages`` is taken one at a time, so it can end early; the next message is
        taken and composed while one is being sent (the caller gives back any taken but
        not answered). Over SMTP the exchange runs in a thread of its own: while it waits
        for the server (most of a message's time), the next email is made. Only one
        message is ever in the server's hands: the next is sent once the caller has
        taken this one's outcome (and recorded it).

        When the connection is lost and cannot be reopened, the rest get the same
        (temporary) error without waiting out a timeout each.
        """
        upcoming = (self._email_or_error(message) for message in messages)
        if not isinstance(self.transport, SmtpTransport):
            yield from self._send_each(upcoming, None)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="tracker-smtp") as sending:
            yield from self._send_each(upcoming, sending)

    def _email_or_error(self, message: Message) -> Email | DeliveryError:
        try:
            return self.email(message)
        except DeliveryError as exc:
            return exc

    def _send_each(
        self, emails: Iterator[Email | DeliveryError], sending: ThreadPoolExecutor | None
    ) -> Iterator[DeliveryError | None]:
        lost: DeliveryError | None = None
        following = next(emails, None)
        while following is not None:
            email, following = following, None
            if isinstance(email, DeliveryError) or lost is not None:
                following = next(emails, None)
                yield email if isinstance(email, DeliveryError) else lost
                continue
            outcome: DeliveryError | None = None
            try:
                if sending is None:
                    self.transport.send(email)
                    following = next(emails, None)
                else:
                    sent = sending.submit(self.transport.send, email)
                    following = next(emails, None)  # made while the server answers
                    sent.result()
            except DeliveryError as exc:
                if self._connection_lost():
                    lost = exc
                outcome = exc
            if following is None:
                following = next(emails, None)
            yield outcome

    def _connection_lost(self) -> bool:
        transport = self.transport
        return isinstance(transport, SmtpTransport) and not transport.connected

    def abort(self) -> None:
        """End the exchange in progress at once (from another thread): see
        :meth:`SmtpTransport.abort`."""
        if isinstance(self.transport, SmtpTransport):
            self.transport.abort()

    def close(self) -> None:
        if isinstance(self.transport, SmtpTransport):
            self.transport.stop()
        else:
            self.transport.close()
        self._encoder.clear()
