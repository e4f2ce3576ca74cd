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
from tracker.alerts.planning import next_instant
from tracker.alerts.recording import plan_alerts
from tracker.alerts.ticking import Memory
from tracker.alerts.worker import Round, Worker
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory, transaction
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


def _timed_tick(worker: Worker) -> tuple[Round, float]:
    start = time.perf_counter()
    done = worker.tick()
    return done, (time.perf_counter() - start) * 1000


def _busy_tick(worker: Worker, clock: FixedClock) -> tuple[Round, float]:
    """A tick at the next instant alerts fall due, with the plan made a minute before
    (as the daemon's hourly re-plan would have): its cost is recording and delivering."""
    with worker.sessions() as session:
        planned = plan_alerts(session, worker.settings.alerts, clock.now())
    instant = next_instant(planned.alerts, clock.now())
    if instant is None:
        return Round(0, 0, 0, None), 0.0
    clock.instant = instant - timedelta(minutes=1)
    # Digests are benchmark 3: handled up to then, so only the alerts are due.
    with transaction(worker.sessions) as session:
        session.execute(update(Subscriber).values(digest_through=instant))
    worker.memory = Memory()  # a fresh plan, as after a re-plan
    worker.tick()
    clock.instant = instant
    return _timed_tick(worker)


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
        clock.advance(timedelta(seconds=30))
        _, replan = _timed_tick(worker)  # a new worker plans in full: start, edits, hourly
        samples, due = [], []
        for _ in range(ticks):
            clock.advance(timedelta(seconds=30))
            done, elapsed = _timed_tick(worker)
            samples.append(elapsed)
            due.append(done.alerts)
        counter = worker.notifiers["email"]
        assert isinstance(counter, CountingNotifier)
        sent_before = counter.delivered
        busy, busy_ms = _busy_tick(worker, clock)
        sent = counter.delivered - sent_before
        engine.dispose()
        figure = Figure(samples, "ms")
        case = f"N={n:,}, {subscribers:,} subscribers"
        rows.append(
            Row(
                "2 daemon tick",
                case,
                figure,
                None,
                "≤ 20 ms at 100k",
                None,
                figure.median <= 20 if n == max(dbs) else None,
                note=(
                    f"steady state, {max(due)} alert(s) due per tick; a full re-plan (at "
                    f"start, after an edit, hourly) took {replan:.0f} ms; catching up on "
                    f"a new database ({first_round.alerts} alerts recorded) {first:.0f} ms"
                ),
            )
        )
        rows.append(
            Row(
                "2 daemon tick",
                case + f": a tick with {busy.alerts} alert(s) due",
                Figure([busy_ms], "ms"),
                None,
                "cost driven by the due alerts, not by N",
                None,
                None,
                note=(
                    f"recorded and delivered to {sent:,} subscriber(s): "
                    f"{busy_ms / max(sent, 1):.2f} ms per delivery"
                ),
            )
        )
        print(f"tick {n}: {figure.text()}, busy {busy_ms:.0f} ms", file=sys.stderr, flush=True)
    return rows
