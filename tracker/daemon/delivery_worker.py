"""``tracker worker``: a process that only delivers, one of any number, on PostgreSQL.

It claims due deliveries in batches under its own name and a lease
(:mod:`tracker.outbox.leases`), sends them, and looks again; with nothing due it looks
every ``POLL_SECONDS`` (one indexed read), or at once when the planner says it recorded
something (PostgreSQL ``NOTIFY``, see :mod:`tracker.daemon.wakeups`). It takes no lock:
claims keep workers apart, and a recipient is never sent to by two at once.

A heartbeat thread writes the worker's row in ``workers`` every ``HEARTBEAT_SECONDS``
and gives back the claims of workers whose lease ran out (they died). SIGTERM cuts off
the exchange in hand (the notifiers' ``abort``): that delivery goes back to pending,
as the daemon's does. SIGHUP reads the settings again, between two batches.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock
from tracker.daemon import signals, system, wakeups
from tracker.daemon.sending import abort, close
from tracker.errors import InvalidInput
from tracker.notifiers.base import Notifier
from tracker.outbox import leases
from tracker.outbox.leases import Lease, Tally
from tracker.outbox.worker import Worker
from tracker.settings import Settings

log = logging.getLogger("tracker.worker")

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
BATCH = 50  # small: a batch is what a worker holds while others may be idle
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def checked_name(name: str) -> str:
    """A worker's name as given, or :class:`InvalidInput` saying what a name may hold."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"worker name {name!r}: up to 100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass
class DeliveryWorker:
    load_settings: Callable[[], Settings]
    sessions: sessionmaker[Session]
    clock: Clock
    name: str
    batch_size: int = BATCH
    load_notifiers: Callable[[Settings], Mapping[str, Notifier]] = system.configured_notifiers
    poll_seconds: float = POLL_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    stop_event: threading.Event = field(default_factory=threading.Event)
    _reload: bool = False
    _worker: Worker | None = None
    _tally: Tally | None = None

    def run(self) -> int:
        """Deliver until stopped; the exit status."""
        signals.install(self._on_stop_signal, self.reload)
        self._tally = Tally(self.name, "worker", self.clock.now())
        self._worker = self._make_worker(self.load_settings())
        beating = threading.Thread(target=self._beat, name="tracker-heartbeat", daemon=True)
        beating.start()
        wake = wakeups.Listener(self.sessions)
        log.info("worker %s: delivering (batches of %d)", self.name, self.batch_size)
        system.systemd_notify("READY=1")
        try:
            while not self.stop_event.is_set():
                if self._reload:
                    self._swap_settings()
                try:
                    self._worker.deliver(stop=self.stop_event.is_set, wait=self.stop_event.wait)
                except Exception:  # the database away, a bug: log, and look again later
                    log.exception("delivering failed")
                    self.stop_event.wait(self.poll_seconds)
                    continue
                wake.wait(self.poll_seconds, self.stop_event)
        finally:
            system.systemd_notify("STOPPING=1")
            wake.close()
            close(self._worker.notifiers)
            beating.join(self.heartbeat_seconds + 5)
            self._write_heartbeat()
            log.info("worker %s: stopped", self.name)
        return 0

    def _make_worker(self, settings: Settings) -> Worker:
        logging.getLogger("tracker").setLevel(settings.log_level)
        notifiers = self.load_notifiers(settings)
        log.info("channels: %s", ", ".join(notifiers) or "none")
        return Worker(
            self.sessions,
            settings,
            self.clock,
            notifiers,
            lease=Lease(self.name, settings.delivery.lease_seconds),
            tally=self._tally,
            batch_size=self.batch_size,
        )

    def _swap_settings(self) -> None:
        self._reload = False
        old = self._worker
        self._worker = self._make_worker(self.load_settings())
        if old is not None:
            close(old.notifiers)
        log.info("settings reloaded")

    def _beat(self) -> None:
        while not self.stop_event.wait(self.heartbeat_seconds):
            self._write_heartbeat()

    def _write_heartbeat(self) -> None:
        """This worker's row in ``workers``; and the claims of dead workers given back."""
        if self._tally is None:
            return
        try:
            requeued = leases.heartbeat(self.sessions, self._tally, self.clock.now())
        except Exception:  # the database away: the next beat tries again
            log.exception("the heartbeat failed")
            return
        if requeued:
            log.warning("requeued %d delivery(ies) whose worker's lease ran out", requeued)

    def reload(self) -> None:
        self._reload = True

    def stop(self) -> None:
        """Stop: the exchange in hand is cut off now, nothing more is sent."""
        self.stop_event.set()
        worker = self._worker
        abort(worker.notifiers.values() if worker is not None else ())

    def _on_stop_signal(self, number: signal.Signals) -> None:
        log.info("%s: stopping; the delivery in hand goes back to pending", number.name)
        self.stop()
