"""A worker waiting for work wakes when the planner says it recorded some (PostgreSQL
NOTIFY), not only at its next look; and a stop ends the wait at once."""

from __future__ import annotations

import threading
import time

import pytest

from tracker.daemon import wakeups
from tracker.db import make_engine, make_session_factory

pytestmark = pytest.mark.postgres


def test_a_notification_ends_a_workers_wait_before_its_next_look(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    listener = wakeups.Listener(make_session_factory(engine))
    never = threading.Event()
    try:
        listener.wait(0.01, never)  # listening from here on
        with engine.begin() as connection:
            wakeups.notify(connection)
        began = time.monotonic()
        listener.wait(60, never)
        assert time.monotonic() - began < 30  # woken, not timed out
    finally:
        listener.close()
        engine.dispose()


def test_a_stop_ends_a_workers_wait(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    listener = wakeups.Listener(make_session_factory(engine))
    stop = threading.Event()
    stop.set()
    try:
        began = time.monotonic()
        listener.wait(60, stop)
        assert time.monotonic() - began < 30
    finally:
        listener.close()
        engine.dispose()
