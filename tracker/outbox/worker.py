"""One round of work over the database: record what fell due, then deliver the outbox.

Each unit is idempotent and keeps its state in rows, so the daemon, ``tracker digest
--send`` and the tests all drive the same code; the clock and notifiers are injected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts import change_events, digesting, planning, recording, ticking
from tracker.clock import Clock
from tracker.db import transaction
from tracker.notifiers.base import Notifier
from tracker.outbox import delivery, entries
from tracker.outbox.entries import Channels
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
    memory: ticking.Memory = field(default_factory=ticking.Memory)

    @property
    def channels(self) -> Channels:
        return Channels.of(list(self.notifiers.values()))

    def record(self) -> Round:
        """Record due alerts, change events and due digests in one transaction. What the
        tick remembers changes only once that transaction has committed."""
        now, memory = self.clock.now(), self.memory
        with transaction(self.sessions) as session:
            seen = ticking.mark(session)
            planned = None
            changes = 0
            if memory.stale(seen, now):
                changes = change_events.record_changes(session, self.channels, now)
                planned = recording.plan_alerts(session, self.settings.alerts, now)
                candidates = planning.due(planned.alerts, now)
                own = planned.own
            else:
                candidates, own = memory.due(now), memory.own
            alerts, folded = recording.record_alerts(session, candidates, own, self.channels, now)
            digests, digests_at = 0, memory.digests_at
            if planned is not None or digests_at is None or now >= digests_at:
                digests = digesting.record_due_digests(session, self.settings, self.channels, now)
                digests_at = ticking.next_digest_at(session, self.settings.digest)
        if planned is not None:
            memory.keep(seen, planned, now)
        else:
            memory.taken(now)
        memory.digests_at = digests_at
        if alerts or changes or digests:
            log.info(
                "recorded %d alert(s) (%d folded), %d change(s), %d digest(s)",
                alerts,
                folded,
                changes,
                digests,
            )
        return Round(alerts, changes, digests, memory.next_at())

    def deliver(self, stop: Callable[[], bool] = lambda: False) -> int:
        return delivery.deliver_due(
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
            released = entries.release_claims(session)
        if released:
            log.warning("requeued %d delivery(ies) left in hand by a stopped daemon", released)
        return released
