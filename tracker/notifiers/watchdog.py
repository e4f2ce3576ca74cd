"""A deadline for a whole exchange over a socket, however slowly the peer answers.

smtplib's timeout bounds each read; a server that drips one byte every few seconds never
trips it. The :class:`Watchdog` is one thread per transport, armed before each exchange
with the time it may take and what to do when that passes (shut the socket down, so the
blocked read returns at once), and disarmed after: arming costs a lock, not a thread. The
thread is woken only when a deadline comes sooner than the one it sleeps towards: one
message after another, each deadline is later than the last, so a batch of messages
wakes it once, not once a message (a wake per message cost the sender the GIL each time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self, name: str = "tracker-deadline") -> None:
        self.name = name
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._expire: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._sleeping_until = float("inf")  # when the thread wakes by itself
        self.fired = False  # the last armed deadline passed before it was disarmed

    def arm(self, seconds: float, expire: Callable[[], None]) -> None:
        """Call ``expire`` (on the watchdog's thread) unless disarmed within ``seconds``."""
        with self._condition:
            self._deadline = time.monotonic() + seconds
            self._expire = expire
            self.fired = False
            self._stopped = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name=self.name, daemon=True)
                self._thread.start()
            if self._deadline < self._sleeping_until:
                self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._deadline = None
            self._expire = None

    def stop(self) -> None:
        """End the thread (a later :meth:`arm` starts another)."""
        with self._condition:
            self._stopped = True
            self._deadline = None
            self._expire = None
            self._condition.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1)

    def _watch(self) -> None:
        with self._condition:
            while not self._stopped:
                if self._deadline is None:
                    self._sleeping_until = float("inf")
                    self._condition.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._sleeping_until = self._deadline
                    self._condition.wait(left)
                    continue
                expire, self._deadline, self._expire = self._expire, None, None
                self.fired = True
                if expire is not None:
                    expire()  # a socket shutdown: quick, and nothing else waits on it
