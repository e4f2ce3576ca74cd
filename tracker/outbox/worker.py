"""One round of work over the database: take what the plan says is due, record it,
then deliver the outbox.

A round starts with one indexed query on the plan (:func:`tracker.plan.due`); when nothing
is due that is all it costs, whatever the size of the schedule. A worker's first round
sweeps instead: it plans every item within reach, records every change not yet recorded
and delivers what is pending, so a restart catches up on what fell due while it was down.
Each unit is idempotent and keeps its state in rows, so the daemon, ``tracker digest
--send`` and the tests all drive the same code; the clock and notifiers are injected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker import plan
from tracker.alerts import planning
from tracker.alerts.models import Subscriber
from tracker.alerts.plannables import SWEEP_EVERY, plan_alerts
from tracker.clock import Clock
from tracker.db import transaction
from tracker.notifiers.base import Notifier
from tracker.outbox import claims, delivery, leases
from tracker.outbox.alert_notices import record_alerts
from tracker.outbox.change_notices import record_changes
from tracker.outbox.digest_notices import next_digests, record_due_digests
from tracker.outbox.leases import Lease, Tally, daemon_claimant
from tracker.outbox.notices import Channels
from tracker.settings import Settings

log = logging.getLogger("tracker.worker")
Work = plan.Work


@dataclass(frozen=True)
class Round:
    alerts: int
    changes: int
    digests: int
    next_at: datetime | None
    busy: bool = True  # something was due: deliveries may be too


@dataclass
class Worker:
    sessions: sessionmaker[Session]
    settings: Settings
    clock: Clock
    notifiers: Mapping[str, Notifier]
    swept: bool = False  # the first round (the catch-up) is done
    # Who this process's claims name, and what it did (for its row in ``workers``);
    # the daemon's own lease unless a delivery worker gives its name.
    lease: Lease | None = None
    tally: Tally | None = None
    batch_size: int = claims.BATCH

    @property
    def channels(self) -> Channels:
        return Channels.of(list(self.notifiers.values()))

    def record(self) -> Round:
        """Take the plan rows due and record their alerts, change notices and digests in
        one transaction, with the next instants they imply."""
        now = self.clock.now()
        if self.swept:
            with self.sessions() as session:
                due, next_at = plan.due(session.connection(), now)
            if not due:
                return Round(0, 0, 0, next_at, busy=False)
        catch_up = not self.swept
        with transaction(self.sessions) as session:
            taken = plan.take(session, now, [w.value for w in Work if w is not Work.DELIVERY])
            # (the delivery row is taken by the tick, right before it delivers)
            keys = {kind: {key for k, key in taken if k == kind} for kind in Work}
            sweep = catch_up or bool(keys[Work.SWEEP])
            marks: list[plan.Mark] = []
            changes = record_changes(
                session,
                self.channels,
                now,
                None if catch_up else {int(key) for key in keys[Work.CHANGE]},
                window=timedelta(seconds=self.settings.alerts.coalesce_seconds),
                base_url=self.settings.feeds.base_url,
            )
            alerts = folded = digests = 0
            if sweep or keys[Work.ITEM]:
                subscribers = list(session.scalars(select(Subscriber).order_by(Subscriber.id)))
                only = None if sweep else keys[Work.ITEM]
                planned = plan_alerts(session, self.settings.alerts, now, subscribers, only=only)
                alerts, folded = record_alerts(
                    session,
                    planning.due(planned.alerts, now),
                    planned.own,
                    self.channels,
                    now,
                    base_url=self.settings.feeds.base_url,
                )
                marks += [(Work.ITEM.value, k, at) for k, at in planned.next_instants(now).items()]
            if sweep:
                marks.append((Work.SWEEP.value, "", now + SWEEP_EVERY))
            if sweep or keys[Work.DIGEST]:
                digests = record_due_digests(session, self.settings, self.channels, now)
                marks += next_digests(session, self.settings)
            plan.mark(session.connection(), marks)
        self.swept = True
        if alerts or changes or digests:
            log.info(
                "recorded %d alert(s) (%d folded), %d change(s), %d digest(s)",
                alerts,
                folded,
                changes,
                digests,
            )
        return Round(alerts, changes, digests, self.next_at())

    def deliver(
        self,
        stop: Callable[[], bool] = lambda: False,
        wait: Callable[[float], bool] | None = None,
    ) -> int:
        """Deliver every due pending delivery. Whatever is left pending marks the plan
        where it is decided (a retry's instant with its outcome, a give-back at once).
        ``wait`` sleeps for the send-rate limits, and says whether a stop came."""
        if self.lease is None:
            self.lease = Lease(daemon_claimant(), self.settings.delivery.lease_seconds)
        return delivery.deliver_due(
            self.sessions,
            self.notifiers,
            self.clock,
            self.settings.delivery,
            stop,
            lease=self.lease,
            batch_size=self.batch_size,
            wait=wait,
            tally=self.tally,
        )

    def take_deliveries(self) -> None:
        """Take the plan's delivery row: the deliveries about to be sent are its work.
        The row holds only the earliest instant it was given, so a retry's later instant
        a sooner mark replaced is written back here, or that retry would wait for a sweep."""
        with transaction(self.sessions) as session:
            now = self.clock.now()
            if plan.take(session, now, [Work.DELIVERY.value]):
                claims.mark_next_attempt(session, now)

    def tick(self, stop: Callable[[], bool] = lambda: False) -> Round:
        """Record, then deliver; says what was recorded and when the next work is due.
        (The daemon records on its tick and delivers on its own thread.)"""
        done = self.record()
        if not done.busy:
            return done
        self.take_deliveries()
        self.deliver(stop)
        return replace(done, next_at=self.next_at())

    def next_at(self) -> datetime | None:
        """The first instant after now at which some work falls due."""
        with self.sessions() as session:
            return plan.due(session.connection(), self.clock.now())[1]

    def recover(self) -> int:
        """Requeue deliveries a killed daemon left in ``sending``, and those whose lease ran
        out (call holding the lock); a live worker's claims are left to it."""
        with transaction(self.sessions) as session:
            released = leases.recover(session.connection(), self.clock.now())
        if released:
            log.warning("requeued %d delivery(ies) left in hand by a stopped daemon", released)
        return released
