"""Waking the delivery workers when the planner has recorded something to send.

On PostgreSQL the planner sends ``NOTIFY tracker_deliveries`` after a round that found
work, and each worker ``LISTEN``s on a connection of its own between its looks; a
notification only shortens the wait, the look every ``poll_seconds`` is what a worker
relies on (a notification sent while it was busy, or a lost listening connection,
costs at most that wait). Elsewhere there is nothing to listen to: the wait is a sleep.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("tracker.worker")

CHANNEL = "tracker_deliveries"


def notify(connection: Connection) -> None:
    """Tell listening workers there is work (sent when the caller commits)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Listener:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._raw: Any = None

    def _connect(self) -> Any:
        engine: Any = self._sessions.kw["bind"]
        if engine.dialect.name != "postgresql":
            return None
        try:
            raw = engine.raw_connection()
            driver = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:  # the database away: sleep instead, try again next time
            log.warning("cannot listen for work (looking every poll instead): %s", exc)
            return None
        self._raw = raw
        return driver

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Until a notification, ``seconds``, or ``stop``; whichever comes first (a stop
        is seen within a tenth of the wait at most)."""
        driver = self._raw.driver_connection if self._raw is not None else self._connect()
        if driver is None:
            stop.wait(seconds)
            return
        slice_ = max(seconds / 10, 0.05)
        waited = 0.0
        try:
            while waited < seconds and not stop.is_set():
                if any(True for _ in driver.notifies(timeout=slice_, stop_after=1)):
                    return
                waited += slice_
        except Exception as exc:
            log.warning("lost the listening connection: %s", exc)
            self.close()
            stop.wait(seconds)

    def close(self) -> None:
        if self._raw is not None:
            try:
                self._raw.invalidate()  # never back to the pool: it is LISTENing
            except Exception:
                log.debug("closing the listening connection failed", exc_info=True)
            self._raw = None
