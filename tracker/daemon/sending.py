"""The daemon's sending thread: deliveries apart from the thread that records.

The scheduler's tick records what is due (alerts, changes, digests) and wakes this
thread; it claims and sends the outbox's due deliveries until none is left, then sleeps
until woken again. A slow or stalled SMTP server so holds up sending alone: the tick
keeps recording on time. :meth:`Sender.halt` ends the exchange in hand at once (the
notifiers' ``abort``), so a stop never waits on SMTP; that delivery goes back to pending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from tracker.notifiers.base import Notifier
from tracker.outbox.worker import Worker

log = logging.getLogger("tracker.daemon")


class Sender:
    def __init__(self, worker: Worker, after_round: Callable[[datetime | None], None]) -> None:
        self._worker = worker
        self._after_round = after_round  # told when work is next due, after each round
        self._wanted = threading.Event()
        self._halted = threading.Event()
        self._retired: list[Mapping[str, Notifier]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="tracker-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Deliver what is due (again, once the round in hand is done)."""
        self._wanted.set()

    def swap(self, worker: Worker) -> None:
        """Send with ``worker`` from the next round; the old one's notifiers are closed
        by this thread, between rounds, never under a message."""
        with self._lock:
            self._retired.append(self._worker.notifiers)
            self._worker = worker
        self.wake()

    def halt(self) -> None:
        """Stop: the exchange in hand is cut off now, nothing more is sent."""
        self._halted.set()
        self._wanted.set()
        with self._lock:
            notifiers = list(self._worker.notifiers.values())
        abort(notifiers)

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; whether it did."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._halted.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._halted.is_set():
                break
            self._close_retired()
            with self._lock:
                worker = self._worker
            try:
                worker.deliver(stop=self._halted.is_set)
                next_at = worker.next_at()
            except Exception:  # the database away, a bug: log, and go on at the next wake
                log.exception("delivering failed")
                continue
            self._after_round(next_at)
        self._close_retired()

    def _close_retired(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
        for notifiers in retired:
            close(notifiers)


def abort(notifiers: Iterable[Notifier]) -> None:
    """Cut off each notifier's exchange in hand (those that can: an optional ``abort``)."""
    for notifier in notifiers:
        cut: Callable[[], None] | None = getattr(notifier, "abort", None)
        if cut is not None:
            try:
                cut()
            except Exception:
                log.exception("stopping notifier %s failed", notifier.name)


def close(notifiers: Mapping[str, Notifier]) -> None:
    for notifier in notifiers.values():
        try:
            notifier.close()
        except Exception:
            log.exception("closing notifier %s failed", notifier.name)
