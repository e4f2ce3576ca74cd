"""The daemon: APScheduler ticks, the worker does the work, the lock keeps it single.

The scheduler is a ``BlockingScheduler`` in UTC with the in-memory job store: our own
tables hold the state, so a restart loses nothing and catches up from the rows. Jobs
coalesce and have no misfire grace limit (``None``): a late tick still runs, once.

The tick records (alerts, changes, digests, feeds); sending is on its own thread
(:mod:`tracker.daemon.sending`), woken by the tick, so a slow SMTP server never holds up
recording. A planner (``--role planner``, PostgreSQL) only records: it leaves sending to
the delivery workers (``tracker worker``) and wakes them (:mod:`tracker.daemon.wakeups`).
A stop cuts off the SMTP exchange in hand: SIGTERM ends the daemon within seconds, and
that one delivery is pending again.

The scheduler runs on its own thread; the main thread waits for the end of service (a
stop, or the lock lost) and then shuts the scheduler down itself, so a stop that comes
while the scheduler is still starting is not lost. Signals are acted on by a thread of
their own (:mod:`tracker.daemon.signals`), never inside the handler; ``kill -USR1``
writes every thread's stack to the log.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker.catalog import revision
from tracker.clock import Clock
from tracker.daemon import signals, system, wakeups
from tracker.daemon.lock import DaemonLock
from tracker.daemon.sending import Sender, close
from tracker.db import transaction
from tracker.notifiers.base import Notifier, Publisher
from tracker.outbox import leases
from tracker.outbox.leases import Lease, Tally, daemon_claimant
from tracker.outbox.worker import Worker
from tracker.publish.build import build_feeds
from tracker.settings import Settings

log = logging.getLogger("tracker.daemon")

# How often the tick looks at the plan: an edit made by another process (the CLI, the web
# server) marks it, and the daemon learns of the mark only by looking. A quiet look is one
# indexed query, so looking every second keeps the idle daemon near 0.2 % of a core, and
# a change notice is recorded at its window's close, not up to half a minute after.
POLL_SECONDS = 1
# How often a round says it ran (the revisions row "daemon-tick", for /healthz and
# /metrics): often enough to tell a stuck daemon, seldom enough to cost nothing at rest.
TICK_RECORD_SECONDS = 10
HEARTBEAT_SECONDS = 5
STANDBY_POLL_SECONDS = 5.0  # a standby daemon takes over within this (plus a heartbeat)
SENDER_JOIN_SECONDS = 5.0  # the sending thread ends within this once halted
# How often the daemon looks for published calendars due a poll (one indexed query when
# none is); each poll is bounded in time and runs on a thread of its own.
CALENDARS_SECONDS = 60
ALL, PLANNER = "all", "planner"  # the roles: plan and deliver, or plan only


@dataclass
class Daemon:
    load_settings: Callable[[], Settings]
    sessions: sessionmaker[Session]
    clock: Clock
    lock: DaemonLock
    load_notifiers: Callable[[Settings], Mapping[str, Notifier]] = system.configured_notifiers
    load_publishers: Callable[[Settings], Sequence[Publisher]] = system.configured_publishers
    standby_poll: float = STANDBY_POLL_SECONDS
    role: str = ALL
    stop_event: threading.Event = field(default_factory=threading.Event)
    _busy: threading.Lock = field(default_factory=threading.Lock)
    _ending: threading.Event = field(default_factory=threading.Event)  # end this service
    _reload: bool = False
    _scheduler: Any = None
    _feeds_built_on: date | None = None
    _tick_recorded_at: datetime | None = None
    _publishers: Sequence[Publisher] = ()
    worker: Worker | None = None
    _sender: Sender | None = None
    _tally: Tally | None = None

    def run(self) -> int:
        """Stand by until the lock is ours, work until stopped; the exit status."""
        signals.install(self._on_stop_signal, self.reload)
        while not self.stop_event.is_set():
            if not self._wait_for_lock():
                break
            try:
                self._serve()
            finally:
                with self._busy:  # the delivery in hand is finished first
                    self.lock.release()
                self._close_notifiers()
                log.info("released %s", self.lock.description)
        system.systemd_notify("STOPPING=1")
        log.info("stopped")
        return 0

    def _wait_for_lock(self) -> bool:
        announced = False
        while not self.lock.acquire():
            if not announced:
                log.info("another daemon is active (%s); standing by", self.lock.description)
                announced = True
            if self.stop_event.wait(self.standby_poll):
                return False
        log.info("active: holding %s", self.lock.description)
        return True

    def _serve(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._ending.clear()  # before looking at stop_event: stop() sets that one first
        if self.stop_event.is_set():
            return
        self._tally = Tally(daemon_claimant(), self.role, self.clock.now())
        self.worker = self._make_worker(self.load_settings())
        self.worker.recover()
        self._beat()  # seen as active from the start, not only at the first heartbeat
        if self.role == PLANNER:  # the workers send; nothing to stop but the scheduler
            self._run_scheduler(BackgroundScheduler, ThreadPoolExecutor)
            return
        self._sender = Sender(self.worker, self._schedule)
        self._sender.start()
        try:
            self._run_scheduler(BackgroundScheduler, ThreadPoolExecutor)
        finally:
            sender, self._sender = self._sender, None
            sender.halt()
            if not sender.join(SENDER_JOIN_SECONDS):
                log.error("the sending thread did not stop; leaving it")

    def _run_scheduler(self, background: Any, pool: Any) -> None:
        """Ticks and heartbeats on the scheduler's thread until :meth:`stop` or a lost
        lock; the scheduler is shut down here, whenever that came."""
        scheduler = background(
            timezone="UTC",
            executors={
                "default": pool(1),
                "poll": pool(1),
                "heartbeat": pool(1),
                "calendars": pool(1),
            },
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        now = self.clock.now()
        scheduler.add_job(
            self.poll,
            "interval",
            seconds=POLL_SECONDS,
            id="poll",
            executor="poll",  # its own thread: it never queues behind a long tick
            next_run_time=now,
        )
        scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=HEARTBEAT_SECONDS,
            id="heartbeat",
            executor="heartbeat",
        )
        scheduler.add_job(
            self.poll_calendars,
            "interval",
            seconds=CALENDARS_SECONDS,
            id="calendars",
            executor="calendars",  # a slow server never holds up a tick or a delivery
            next_run_time=now,
        )
        scheduler.start()
        self._scheduler = scheduler
        try:
            system.systemd_notify("READY=1")
            self._ending.wait()
        finally:
            self._scheduler = None
            scheduler.shutdown(wait=False)

    def _make_worker(self, settings: Settings) -> Worker:
        logging.getLogger("tracker").setLevel(settings.log_level)
        notifiers = self.load_notifiers(settings)
        self._publishers = self.load_publishers(settings)
        log.info("channels: %s", ", ".join(notifiers) or "none")
        if self.role == PLANNER:
            log.info("role: planner (the delivery workers send)")
        lease = Lease(daemon_claimant(), settings.delivery.lease_seconds)
        return Worker(
            self.sessions, settings, self.clock, notifiers, lease=lease, tally=self._tally
        )

    def poll(self) -> None:
        """The look at the plan every ``POLL_SECONDS``: skipped while a tick is at work
        (that tick schedules what it leaves due), so a long round never piles polls up."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            next_at = self._round()
        finally:
            self._busy.release()
        self._schedule(next_at)

    def poll_calendars(self) -> None:
        """Fetch and import the published calendars due; what an import changes marks the
        plan, and the next look records its change alerts. Each outcome is recorded on
        its calendar, so nothing is lost by logging the unexpected and going on."""
        from tracker.interchange.poller import poll_due

        try:
            poll_due(self.sessions, self.clock, stop=self._ending.is_set)
        except Exception:
            log.exception("polling the published calendars failed")

    def tick(self) -> None:
        """Record what is due and wake the sending thread, then wake up for the next
        instant in the plan. (Without a sending thread, as in tests, it sends itself.)"""
        with self._busy:
            next_at = self._round()
        self._schedule(next_at)

    def _round(self) -> datetime | None:
        """One round (holding ``_busy``): when work is next due, None when stopped."""
        if self.stop_event.is_set() or self.worker is None:
            return None
        if self._reload:
            self._reload = False
            worker = self._make_worker(self.load_settings())
            if self._sender is not None:
                self._sender.swap(worker)  # it closes the old notifiers
            else:
                self._close_notifiers()
            self.worker = worker
            log.info("settings reloaded")
        sender = self._sender
        if self.role == PLANNER:
            done = self.worker.record()
            if done.busy:  # the delivery row is the workers' work now: they are told
                self.worker.take_deliveries()
                with transaction(self.sessions) as session:
                    wakeups.notify(session.connection())
        elif sender is None:
            done = self.worker.tick(stop=self.stop_event.is_set)
        else:
            done = self.worker.record()
            if done.busy:
                self.worker.take_deliveries()
                sender.wake()
        now = self.clock.now()
        # The board counts days: a new day changes it even when no row has.
        if done.changes or done.alerts or now.date() != self._feeds_built_on:
            self._publish(now)
            self._feeds_built_on = now.date()
        self._record_tick(now)
        return done.next_at

    def _record_tick(self, now: datetime) -> None:
        recorded = self._tick_recorded_at
        if recorded is not None and now - recorded < timedelta(seconds=TICK_RECORD_SECONDS):
            return
        with transaction(self.sessions) as session:
            revision.bump(session.connection(), now, revision.DAEMON_TICK)
        self._tick_recorded_at = now

    def _schedule(self, next_at: datetime | None) -> None:
        """A tick at the plan's next instant, when that is before the next poll."""
        scheduler = self._scheduler
        if next_at is None or scheduler is None or not scheduler.running:
            return
        when = next_at + timedelta(milliseconds=100)
        if when - self.clock.now() < timedelta(seconds=POLL_SECONDS):
            scheduler.add_job(self.tick, "date", run_date=when, id="due", replace_existing=True)

    def _publish(self, now: datetime) -> None:
        """Rebuild the feed files; those whose content is the same stay untouched."""
        assert self.worker is not None
        try:
            with transaction(self.sessions) as session:
                build_feeds(session, self.worker.settings, publishers=self._publishers, as_of=now)
        except Exception:  # the feeds failing must not stop alerts and deliveries
            log.exception("rebuilding the feeds failed")

    def heartbeat(self) -> None:
        if not self.lock.healthy():
            log.error("lost %s: stopping work at once", self.lock.description)
            self._shutdown()
            return
        self._beat()

    def _beat(self) -> None:
        """This daemon's row in ``workers``; on PostgreSQL, where workers may run, the
        claims of those whose lease ran out are given back."""
        if self._tally is None:
            return
        try:
            requeued = leases.heartbeat(self.sessions, self._tally, self.clock.now())
        except Exception:  # the database away: the next heartbeat tries again
            log.exception("writing the heartbeat failed")
            return
        if requeued:
            log.warning("requeued %d delivery(ies) whose worker's lease ran out", requeued)

    def stop(self) -> None:
        """End the daemon: the exchange in hand is cut off, :meth:`run` returns soon
        after. From any thread, never from a signal handler."""
        self.stop_event.set()
        self._shutdown()

    def reload(self) -> None:
        """Read the settings again, at a tick now (SIGHUP)."""
        self._reload = True
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.add_job(self.tick, id="reload", replace_existing=True)

    def _shutdown(self) -> None:
        sender = self._sender
        if sender is not None:  # the SMTP exchange in hand is cut off now
            sender.halt()
        self._ending.set()  # the main thread shuts the scheduler down

    def _close_notifiers(self) -> None:
        if self.worker is not None:
            close(self.worker.notifiers)

    def _on_stop_signal(self, number: signal.Signals) -> None:
        log.info("%s: stopping; the delivery in hand goes back to pending", number.name)
        self.stop()
