"""SMTP for the email notifier: one connection per batch, a deadline per message, and a
message's exchange in steps its caller can take between other work (see
:meth:`SmtpTransport.begin`).

One SMTP connection serves a batch of deliveries and is reopened when the server drops
it. Replies in the 4xx range and connection failures are temporary (the outbox retries),
5xx replies are permanent; a 5xx at RCPT is a bounce of the address. Authentication
refused (535, 530), TLS failing and a refused connection are faults of the transport as
a whole: the outbox pauses the channel. Each message's whole exchange has a deadline
(``smtp.deadline_seconds``), kept by a watchdog that shuts the socket down when it
passes, however slowly the server drips bytes; :meth:`SmtpTransport.abort` does the same
at once when the daemon stops. One message's exchange, pipelined when the server offers
it, is in :mod:`tracker.notifiers.smtp_exchange`.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tracker.notifiers.base import DeliveryError
from tracker.notifiers.smtp_exchange import Email, answer, envelope, message
from tracker.notifiers.watchdog import Watchdog

if TYPE_CHECKING:
    from tracker.settings import SmtpSettings

__all__ = ["Email", "SmtpTransport", "classify"]
Step = Callable[[smtplib.SMTP], object]


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
        # The message begun and not yet written: it, whether its envelope's replies are
        # still to be read, and whether it went out on a connection left from before
        # (which the server may have closed meanwhile: then it is tried again, once).
        self._begun: tuple[Email, bool, bool] | None = None
        self._due = 0.0  # when the message in hand's deadline passes (monotonic)
        self._timed_out = False  # the message in hand's deadline passed (the socket cut)

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
            # Each write goes out at once: under Nagle a small one (an envelope) may wait
            # until the server acknowledges what went before it (a delayed ACK, 40 ms).
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
        """Send ``email``: its exchange's steps in a row."""
        self.begin(email)
        self.write()
        self.finish()

    @property
    def timed_out(self) -> bool:
        """The last message's deadline passed before its exchange was done."""
        return self._timed_out

    def begin(self, email: Email) -> None:
        """Start ``email``'s exchange: its envelope goes out (when the server offers
        PIPELINING, its replies are left for :meth:`write`). Its deadline runs from now.
        Until :meth:`write` the server has taken nothing: :meth:`drop` leaves it unsent."""
        before = self._connection
        pending = False

        def start(connection: smtplib.SMTP) -> None:
            nonlocal pending
            pending = envelope(connection, email)

        self._step(start, start if before is not None else None, first=True, last=False)
        reused = before is not None and self._connection is before
        self._begun = (email, pending, reused)

    def write(self) -> None:
        """The begun message's envelope answered, then the message itself and its end."""
        assert self._begun is not None, "begin() first"
        email, pending, reused = self._begun
        self._begun = None

        def rest(connection: smtplib.SMTP) -> None:
            message(connection, email, pending)

        def again(connection: smtplib.SMTP) -> None:  # on a new connection: all of it
            message(connection, email, envelope(connection, email))

        self._step(rest, again if reused else None, first=False, last=False)

    def finish(self) -> None:
        """The server's answer to the message written: its outcome."""
        self._step(answer, None, first=False, last=True)

    def drop(self) -> None:
        """Leave the begun message unsent: the connection is dropped before its end, so
        the server discards what it had of it."""
        self._begun = None
        self._watchdog.disarm()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _deadline_passed(self) -> None:
        self._timed_out = True
        self._cut()

    def _cut(self) -> None:
        """Shut the socket down under the exchange in progress (from another thread): the
        read or write blocked on it returns at once. The descriptor stays open until
        the thread taking the exchange closes it."""
        connection = self._connection
        if connection is not None:
            _shut(connection)

    def abort(self) -> None:
        """Stop the exchange in progress now (the daemon is stopping); the message in hand
        fails as ``interrupted`` and goes back to pending."""
        self._aborted = True
        self._cut()

    def _step(self, action: Step, retry: Step | None, *, first: bool, last: bool) -> None:
        """One step of a message's exchange: its deadline armed at the ``first``, disarmed
        after the ``last`` or at a failure; a failure as a DeliveryError. ``retry`` runs on
        a new connection when the server turns out to have closed the one in use."""
        if self._aborted:
            self._watchdog.disarm()
            raise DeliveryError("interrupted: the worker is stopping", kind="interrupted")
        if first:
            self._due = time.monotonic() + self.settings.deadline_seconds
            self._timed_out = False
            self._watchdog.arm(self.settings.deadline_seconds, self._deadline_passed)
        done = False
        try:
            self._exchange(action, retry)
            done = True
        except DeliveryError as exc:
            if self._aborted:
                raise DeliveryError(
                    "interrupted: the worker is stopping", kind="interrupted"
                ) from exc
            if self._timed_out:
                raise DeliveryError(
                    f"SMTP exchange not done within smtp.deadline_seconds "
                    f"({self.settings.deadline_seconds:g} s)"
                ) from exc
            raise
        finally:
            if last or not done:
                self._watchdog.disarm()
            if self._connection is not None and self._connection.sock is None:
                self._connection = None  # closed under the exchange (a 421, say)

    def _exchange(self, action: Step, retry: Step | None) -> None:
        try:
            if self._connection is None:
                self._connection = self._connect()
            try:
                action(self._connection)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()
                left = self._due - time.monotonic()
                if retry is None or self._timed_out or self._aborted or left <= 0:
                    raise
                # The server closed our idle connection: open a new one, once, within
                # what is left of the message's deadline (closing used the watchdog).
                self._watchdog.arm(left, self._deadline_passed)
                self._connection = self._connect()
                retry(self._connection)
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
