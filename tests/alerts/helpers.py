"""A recording notifier and a worker wired to a fixed clock, for outbox tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar, Literal

from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.models import Subscriber
from tracker.clock import FixedClock
from tracker.notifiers.base import DeliveryError, Message, Notifier
from tracker.outbox.worker import Worker
from tracker.settings import Settings


class RecordingNotifier:
    """Keeps what it is given; ``fail`` makes it raise instead."""

    name: ClassVar[str] = "email"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "subscriber"

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.fail: DeliveryError | None = None
        self.before: Callable[[Message], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        return cls()

    def recipients(self) -> Sequence[str]:
        return ()

    def deliver(self, message: Message) -> None:
        if self.before is not None:
            self.before(message)
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)

    def close(self) -> None:
        pass

    def identities(self) -> list[str]:
        return [m.identity for m in self.sent]


class RecordingService(RecordingNotifier):
    """A channel to one shared service (a chat room), as apprise is."""

    name: ClassVar[str] = "chat"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "broadcast"

    def recipients(self) -> Sequence[str]:
        return ("team-room",)


def make_worker(
    factory: sessionmaker[Session],
    now: datetime,
    *notifiers: RecordingNotifier,
    settings: Settings | None = None,
) -> Worker:
    chosen = notifiers or (RecordingNotifier(),)
    return Worker(factory, settings or Settings(), FixedClock(now), {n.name: n for n in chosen})


def add_subscriber(
    session: Session,
    email: str = "ana@example.org",
    *,
    now: datetime,
    immediate: bool = True,
    digest: str = "none",
    **values: object,
) -> Subscriber:
    sub = Subscriber(
        email=email,
        immediate=immediate,
        digest=digest,
        created_at=now,
        confirmed_at=now,
        tz="UTC",
        treaties=[],
        kinds=[],
        **values,
    )
    session.add(sub)
    return sub
