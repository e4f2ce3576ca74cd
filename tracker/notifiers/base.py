"""The delivery contract every notifier plugin implements.

A notifier delivers one :class:`Message` (an alert, a change, a digest or a test) and
either returns or raises :class:`DeliveryError`; ``permanent=False`` errors are retried
by the outbox, permanent ones end the delivery as ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tracker.settings import Settings

MessageKind = Literal["alert", "change", "digest", "test"]


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None
    tz: str = "UTC"


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
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Notifier(Protocol):
    """One delivery channel. ``audience`` says whether it sends to each subscriber
    (``"subscriber"``: email) or once to a shared place (``"broadcast"``: chat, feeds)."""

    name: ClassVar[str]
    audience: ClassVar[Literal["subscriber", "broadcast"]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        """Build from settings; None when this channel is not configured."""
        ...

    def deliver(self, message: Message) -> None: ...

    def close(self) -> None: ...
