"""The daemon tick at growing schedule sizes."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal

from sqlalchemy import Engine, update

from bench.common import (
    TICK_AT,
    copy_db,
)
from bench.generate import sqlite_url
from bench.harness import Figure, Row
from tracker.alerts.models import Subscriber
from tracker.alerts.worker import Round, Worker
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.notifiers.base import Message, Notifier
from tracker.settings import Settings


class CountingNotifier:
    """A channel that takes every message at once: the tick's own cost is what is left."""

    name: ClassVar[str] = "email"
    audience: ClassVar[Literal["subscriber", "broadcast"]] = "subscriber"

    def __init__(self) -> None:
        self.delivered = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        return cls()

    def deliver(self, message: Message) -> None:
        self.delivered += 1

    def close(self) -> None:
        pass


def catch_up(engine: Engine, settings: Settings, clock: FixedClock) -> tuple[Round, float]:
    """Bring a generated database to the daemon's steady state: digests handled up to now
    and every alert already due recorded (without deliveries: nobody to send to yet)."""
    with engine.begin() as connection:
        connection.execute(update(Subscriber).values(digest_through=clock.now()))
    worker = Worker(make_session_factory(engine), settings, clock, {})
    start = time.perf_counter()
    done = worker.record()
    return done, (time.perf_counter() - start) * 1000


def run(dbs: Mapping[int, Path], work: Path, ticks: int, subscribers: int = 1000) -> list[Row]:
    rows = []
    for n, path in sorted(dbs.items()):
        copy = copy_db(path, work, f"tick-{n}")
        engine = make_engine(sqlite_url(copy))
        settings = Settings(database_url=sqlite_url(copy), data_dir=work / "tick-home")
        clock = FixedClock(TICK_AT)
        first_round, first = catch_up(engine, settings, clock)
        worker = Worker(
            make_session_factory(engine), settings, clock, {"email": CountingNotifier()}
        )
        samples, due = [], []
        for _ in range(1 if n == max(dbs) and len(dbs) > 1 else ticks):
            clock.advance(timedelta(seconds=30))
            start = time.perf_counter()
            due.append(worker.tick().alerts)
            samples.append((time.perf_counter() - start) * 1000)
        engine.dispose()
        figure = Figure(samples, "ms")
        row = Row(
            "2 daemon tick",
            f"N={n:,}, {subscribers:,} subscribers",
            figure,
            None,
            "≤ 20 ms at 100k",
            None,
            figure.median <= 20 if n == max(dbs) else None,
            note=(
                f"steady state, {max(due)} alert(s) due per tick; catching up first "
                f"({first_round.alerts} alerts recorded) took {first:.0f} ms"
            ),
        )
        rows.append(row)
        print(f"tick {n}: {figure.text()}", file=sys.stderr, flush=True)
    return rows
