"""What the rss and ics notifiers share: a database to build from, opened on first use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from tracker.clock import Clock, SystemClock
from tracker.notifiers.base import DeliveryError, Message

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.feeds.build import BuildReport, Kind
    from tracker.settings import Settings


def fingerprint(session: Session) -> tuple[object, ...]:
    """What the feeds are built from, summed up: it changes whenever they would."""
    from sqlalchemy import func, inspect, select

    from tracker.schedule.models import Change, Deadline, Meeting
    from tracker.treaties.models import Treaty

    parts: list[object] = []
    for model in (Change, Deadline, Meeting, Treaty):
        parts.extend(session.execute(select(func.count(), func.max(model.id))).one())
    for item in (Deadline, Meeting, Treaty):
        parts.append(session.scalar(select(func.max(item.updated_at))))
    if inspect(session.get_bind()).has_table("events"):
        from tracker.alerts.models import Event

        parts.append(session.scalar(select(func.max(Event.id))))
    return tuple(parts)


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
        self._built_from: tuple[object, ...] | None = None

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
        """Rebuild the files, unless nothing they show changed since this notifier's last
        rebuild (a batch of deliveries recorded together rebuilds once). None when skipped."""
        from sqlalchemy.exc import SQLAlchemyError

        from tracker.feeds.build import build_feeds

        try:
            with self.sessions()() as session:
                now = self.clock.now()
                # The day is part of what the files show: the board counts down by it.
                state = (*fingerprint(session), now.date())
                if state == self._built_from:
                    return None
                report = build_feeds(session, self.settings, kinds=self.kinds, as_of=now)
        except (OSError, SQLAlchemyError) as exc:
            raise DeliveryError(f"cannot rebuild the {self.name} feed: {exc}") from exc
        self._built_from = state
        return report

    def deliver(self, message: Message) -> None:
        if message.kind != "digest":
            self.rebuild()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine, self._sessions = None, None
