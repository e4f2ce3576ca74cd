"""What the rss and ics notifiers share: a database to build from, opened on first use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from tracker.clock import Clock, SystemClock
from tracker.notifiers.base import DeliveryError, Message

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.publish.build import BuildReport, Kind
    from tracker.settings import Settings


class FeedNotifier:
    """Delivers by rebuilding its feed files; a digest (personal) changes nothing."""

    name: ClassVar[str]
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "broadcast"
    kinds: ClassVar[Sequence[Kind]]

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()  # built at the plugin's edge
        self._sessions = sessions
        self._engine: Engine | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedNotifier:
        """Always configured: the feed directory has a default."""
        return cls(settings)

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            from tracker.db import make_engine, make_session_factory

            self._engine = make_engine(self.settings.effective_database_url)
            self._sessions = make_session_factory(self._engine)
        return self._sessions

    def rebuild(self) -> BuildReport | None:
        """Rebuild the files, unless nothing they show changed since they were last built
        (a batch of deliveries recorded together rebuilds once). None when skipped."""
        from sqlalchemy.exc import SQLAlchemyError

        from tracker.publish.build import build_feeds

        try:
            with self.sessions()() as session:
                report = build_feeds(
                    session, self.settings, kinds=self.kinds, as_of=self.clock.now()
                )
        except (OSError, SQLAlchemyError) as exc:
            raise DeliveryError(f"cannot rebuild the {self.name} feed: {exc}") from exc
        return report if report.rendered else None

    def deliver(self, message: Message) -> None:
        if message.kind != "digest":
            self.rebuild()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine, self._sessions = None, None
