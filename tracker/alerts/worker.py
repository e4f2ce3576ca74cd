"""One round of work over the database: record what fell due, then deliver the outbox.

Each unit is idempotent and keeps its state in rows, so the daemon, ``tracker digest
--send`` and the tests all drive the same code; the clock and notifiers are injected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts import digesting, outbox, recording
from tracker.alerts.outbox import Channels
from tracker.clock import Clock
from tracker.db import transaction
from tracker.notifiers.base import Notifier
from tracker.settings import Settings

log = logging.getLogger("tracker.worker")


@dataclass(frozen=True)
class Round:
    alerts: int
    changes: int
    digests: int
    next_at: datetime | None


@dataclass
class Worker:
    sessions: sessionmaker[Session]
    settings: Settings
    clock: Clock
    notifiers: Mapping[str, Notifier]

    @property
    def channels(self) -> Channels:
        return Channels.of(list(self.notifiers.values()))

    def record(self) -> Round:
        """Record due alerts, change events and due digests in one transaction."""
        now = self.clock.now()
        with transaction(self.sessions) as session:
            changes = recording.record_changes(session, self.channels, now)
            outcome = recording.record_due_alerts(session, self.settings.alerts, self.channels, now)
            digests = digesting.record_due_digests(session, self.settings, self.channels, now)
        if outcome.recorded or changes or digests:
            log.info(
                "recorded %d alert(s) (%d folded), %d change(s), %d digest(s)",
                outcome.recorded,
                outcome.folded,
                changes,
                digests,
            )
        return Round(outcome.recorded, changes, digests, outcome.next_at)

    def deliver(self, stop: Callable[[], bool] = lambda: False) -> int:
        return outbox.deliver_due(
            self.sessions, self.notifiers, self.clock, self.settings.delivery, stop
        )

    def tick(self, stop: Callable[[], bool] = lambda: False) -> Round:
        """Record, then deliver; says what was recorded and when the next alert is due."""
        done = self.record()
        self.deliver(stop)
        return done

    def recover(self) -> int:
        """Requeue deliveries a killed daemon left in ``sending`` (call holding the lock)."""
        with transaction(self.sessions) as session:
            released = outbox.release_claims(session)
        if released:
            log.warning("requeued %d delivery(ies) left in hand by a stopped daemon", released)
        return released
