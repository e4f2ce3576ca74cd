"""The delivery contract every notifier plugin implements.

A notifier delivers one :class:`Message` (an alert, a change, a digest or a test) and
either returns or raises :class:`DeliveryError`; ``permanent=False`` errors are retried
by the outbox, permanent ones end the delivery as ``failed``. Its ``kind`` says what the
error is about (see :data:`ErrorKind`): a transport fault pauses the channel instead.

A publisher (RSS, iCalendar) is the other kind of plugin: it is handed everything its
feed shows and returns the feed's files; it delivers nothing and has no delivery rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tracker.notifiers.feeds import Publication
    from tracker.settings import Settings

MessageKind = Literal["alert", "change", "digest", "confirm", "test"]
# What a DeliveryError is about: this one message (the default); the recipient's address
# (a 5xx at RCPT: a bounce, counted towards suspending the subscriber); the transport
# as a whole (authentication, TLS, connection refused: the channel pauses, nothing is
# charged to the delivery); or the worker stopping mid-message (given back untouched).
ErrorKind = Literal["message", "recipient", "transport", "interrupted"]


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None
    tz: str = "UTC"
    # The subscriber behind the address, for their signed links (unsubscribe, preferences).
    subscriber_id: int | None = None


@dataclass(frozen=True)
class Message:
    """What one delivery sends, already assembled; notifiers only format and transport it.

    ``identity`` is stable for the alert, change or digest period, so a resend is
    recognisable (email Message-ID, feed GUID). ``payload`` carries the structured content
    (for a digest: its sections) for notifiers that render rich formats.
    """

    kind: MessageKind
    identity: str
    subject: str
    text: str
    created_at: datetime
    recipient: Recipient | None = None
    late: bool = False
    payload: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    def __init__(
        self, message: str, *, permanent: bool = False, kind: ErrorKind = "message"
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.kind: ErrorKind = kind


@runtime_checkable
class Notifier(Protocol):
    """One delivery channel. ``audience`` says whether it sends to each subscriber
    (``"subscriber"``: email) or to each of its own configured places (``"broadcast"``:
    chat and push services), which ``recipients()`` names: the outbox records one delivery
    per name and hands it over as ``message.recipient.address``."""

    name: ClassVar[str]
    audience: ClassVar[Literal["subscriber", "broadcast"]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        """Build from settings; None when this channel is not configured."""
        ...

    def recipients(self) -> Sequence[str]:
        """The names of the places a broadcast notifier reaches; () for a subscriber one."""
        ...

    def deliver(self, message: Message) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class DeliversEach(Protocol):
    """What a notifier may add to send a batch at once (the outbox looks for it with
    ``getattr``; notifiers without it get their messages one by one through ``deliver``).

    ``deliver_each`` takes ``messages`` lazily, one at a time, and yields each one's outcome
    in order (None when sent, else the :class:`DeliveryError`) once it is done with it, so
    the outbox can record outcomes as they come and stop between messages."""

    def deliver_each(self, messages: Iterable[Message]) -> Iterator[DeliveryError | None]: ...


@runtime_checkable
class Publisher(Protocol):
    """One public feed (RSS and Atom, iCalendar): ``publish`` lays out what it is given as
    files, by path relative to the feed directory; the caller writes those whose content
    changed. It opens no database and reads no clock: the same publication, the same bytes.

    A publisher may name what it shows in ``shows`` (a set of ``"entries"``, ``"items"``;
    :data:`tracker.notifiers.feeds.EVERYTHING` when it does not), so a build that changed
    neither leaves its files alone without calling it."""

    name: ClassVar[str]
    audience: ClassVar[Literal["feed"]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher | None:
        """Build from settings; None when this feed is not configured."""
        ...

    def publish(self, publication: Publication) -> Mapping[str, bytes]: ...

    def close(self) -> None: ...
