"""The email notifier: SMTP (see :mod:`tracker.notifiers.smtp`) or ``.eml`` files.

With no SMTP host configured, each message is written as an ``.eml`` file into the outbox
directory, so a new user sees what would be sent.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from tracker.alerts import tokens
from tracker.files import write_if_changed
from tracker.notifiers.base import DeliveryError, Message
from tracker.notifiers.compose import envelope, international, message_id
from tracker.notifiers.mime import Encoder
from tracker.notifiers.pipeline import pipelined
from tracker.notifiers.smtp import Email, SmtpTransport

if TYPE_CHECKING:
    from tracker.alerts.tokens import LinkMaker
    from tracker.clock import Clock
    from tracker.settings import Settings

__all__ = ["Email", "EmailNotifier", "EmlDirectory", "SmtpTransport"]


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

        ``messages`` is taken one at a time, so it can end early, and a message may be
        taken (composed) before the last one's outcome is yielded: the caller gives back
        any it took that were not answered. When the connection is lost and cannot be
        reopened, the rest get the same (temporary) error without waiting out a timeout
        each.

        Over SMTP each exchange is taken in steps between the caller's work (see
        :mod:`tracker.notifiers.pipeline`): while the caller records one outcome the next
        message's envelope is read by the server, and while the server answers a message
        the next is composed. The message itself goes only when the caller comes back for
        more: the server never holds more than one message whose outcome is not recorded,
        so a worker killed at any moment repeats at most that one.
        """
        upcoming = (self._email_or_error(message) for message in messages)
        if not isinstance(self.transport, SmtpTransport):
            yield from self._send_each(upcoming)
            return
        yield from pipelined(self.transport, upcoming, self._connection_lost)

    def _email_or_error(self, message: Message) -> Email | DeliveryError:
        """The email, or why it cannot be made: a fault in composing one message (a
        template's, say) is that message's, never the batch's, so a message already in
        the server's hands keeps its own outcome."""
        try:
            return self.email(message)
        except DeliveryError as exc:
            return exc
        except Exception as exc:
            return DeliveryError(
                f"cannot compose the email: {type(exc).__name__}: {exc}", permanent=True
            )

    def _send_each(self, emails: Iterator[Email | DeliveryError]) -> Iterator[DeliveryError | None]:
        for email in emails:
            if isinstance(email, DeliveryError):
                yield email
                continue
            try:
                self.transport.send(email)
            except DeliveryError as exc:
                yield exc
                continue
            yield None

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
