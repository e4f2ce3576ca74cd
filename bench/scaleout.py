"""Delivery throughput of 1, 2, 4 and 8 ``tracker worker`` processes on one PostgreSQL.

The relay is an aiosmtpd server in a child process that takes 50 ms over each message
(an asynchronous sleep: it serves its connections concurrently, as a real relay does) and
writes the Message-ID and arrival time of each to a file: lost and duplicated messages
are counted there, at the server.

Set-up (not timed): N subscribers each with one daily digest due; the workers started
and beating. Timed: from the commit that records the N digests (one transaction, as the
planner does) to the last message's arrival. Each speed-up is set against the ideal:
n workers delivering n times what one does.

PostgreSQL only: the database is TRACKER_BENCH_DATABASE_URL, else TRACKER_TEST_DATABASE_URL
(its schema is dropped and made again); without either it is skipped with a note.

python -m bench.scaleout           # the table and the acceptance runs, into RESULTS.md
python -m bench.scaleout --quick   # tiny sizes: checks the harness
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from bench.common import smtp_in_child
from bench.harness import Row
from bench.scaleout_report import DELAY_MS, MARK, rows, section, splice

HERE = Path(__file__).resolve().parent
TRACKER = str(Path(sys.executable).parent / "tracker")
DELAY_SECONDS = DELAY_MS / 1000
WORKERS = (1, 2, 4, 8)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class SlowRelay:
    """50 ms a message; each arrival's time and Message-ID appended to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(DELAY_SECONDS)
        found = MESSAGE_ID.search(envelope.original_content or b"")
        with self.path.open("ab") as log:
            log.write(b"%.4f %s\n" % (time.time(), found.group(1) if found else b"-"))
        return "250 OK"


@dataclass(frozen=True)
class Outcome:
    workers: int
    messages: int
    seconds: float  # from the recording's commit to the last arrival
    distinct: int
    duplicated: int
    busiest_second: int  # the most messages that arrived within any one second
    busiest_clock_second: int  # the most within one second of the clock (12:00:01.000-.999)
    load: float  # the machine's 1-minute load average as the run ended (others' work too)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def lost(self) -> int:
        return self.messages - self.distinct


def database_url() -> str | None:
    return os.environ.get("TRACKER_BENCH_DATABASE_URL") or os.environ.get(
        "TRACKER_TEST_DATABASE_URL"
    )


def fresh_schema(url: str) -> Engine:
    from tracker import migrations
    from tracker.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrations.upgrade(engine)
    return engine


def subscribers_due(engine: Engine, count: int, now: datetime) -> None:
    """An empty outbox, and ``count`` subscribers whose daily digest fell due this hour."""
    from tracker.alerts.digests import latest_period
    from tracker.alerts.models import Subscriber

    period = latest_period("daily", weekday="monday", local_hour=now.hour, tz="UTC", as_of=now)
    assert period is not None
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE subscribers, events, workers, send_budgets CASCADE"))
        connection.execute(
            insert(Subscriber),
            [
                {
                    "email": f"reader{n}@example.org",
                    "immediate": False,
                    "digest": "daily",
                    "tz": "UTC",
                    "treaties": [],
                    "kinds": [],
                    "created_at": period.starts_at,
                    "confirmed_at": period.starts_at,
                    "digest_through": period.starts_at,
                }
                for n in range(count)
            ],
        )


def record_digests(engine: Engine, settings: Any, now: datetime) -> int:
    from tracker.daemon import wakeups
    from tracker.db import make_session_factory, transaction
    from tracker.outbox.digest_notices import record_due_digests
    from tracker.outbox.notices import Channels

    with transaction(make_session_factory(engine)) as session:
        recorded = record_due_digests(session, settings, Channels(("email",)), now)
        # Statistics for the rows just written (TRUNCATE dropped them): without any, the
        # claim's plan takes seconds a batch; autovacuum would take a minute to gather them.
        session.execute(text("ANALYZE subscribers, events, deliveries"))
        wakeups.notify(session.connection())  # as the planner tells the workers
    return recorded


def workers_beating(engine: Engine, count: int) -> bool:
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT count(*) FROM workers WHERE role = 'worker'"))
    return int(found or 0) >= count


def arrivals(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="ascii").split("\n")
    return [(float(at), mid) for at, mid in (line.split(" ", 1) for line in lines if line)]


def deliver(
    url: str,
    engine: Engine,
    relay: tuple[int, Path],
    work: Path,
    workers: int,
    count: int,
    **extra: str,
) -> Outcome:
    """``count`` digests recorded at once and delivered by ``workers`` workers."""
    from tracker.settings import Settings

    secret = "a bench secret that is long enough to sign links"
    port, received = relay
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= {
        "TRACKER_DATABASE_URL": url,
        "TRACKER_DATA_DIR": str(work / "var"),
        "TRACKER_LOG_LEVEL": "WARNING",
        "TRACKER_SMTP__HOST": "127.0.0.1",
        "TRACKER_SMTP__PORT": str(port),
        "TRACKER_SERVER__SECRET": secret,
        **extra,
    }
    now = datetime.now(UTC)
    settings = Settings.model_validate(
        {
            "database_url": url,
            "data_dir": work / "var",
            "server": {"secret": secret},
            "digest": {"local_hour": now.hour, "send_when_empty": True},
        }
    )
    subscribers_due(engine, count, now)
    before = len(arrivals(received))  # cases run one after the other: the rest is this one's
    log = (work / f"workers-{workers}.log").open("ab")
    started = [
        subprocess.Popen([TRACKER, "worker", "--name", f"bench-{n}"], env=env, stderr=log, cwd=work)
        for n in range(workers)
    ]
    try:
        _wait(lambda: workers_beating(engine, workers), 60, "the workers did not start")
        recorded = record_digests(engine, settings, now)
        committed = time.time()
        if recorded != count:
            raise RuntimeError(f"{recorded} digests recorded for {count} subscribers")
        _wait(lambda: len(arrivals(received)) - before >= count, 900, "not every digest arrived")
        _settle(engine)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(30)
        log.close()
    came = arrivals(received)[before:]
    copies = Counter(mid for _, mid in came)
    times = sorted(at for at, _ in came)
    busiest = max(bisect_left(times, start + 1) - i for i, start in enumerate(times))
    return Outcome(
        workers=workers,
        messages=count,
        seconds=times[-1] - committed,
        distinct=len(copies),
        duplicated=sum(n - 1 for n in copies.values()),
        busiest_second=busiest,
        busiest_clock_second=max(Counter(int(at) for at in times).values()),
        load=os.getloadavg()[0],
    )


def _settle(engine: Engine) -> None:
    """Every delivery marked sent (the last outcome is written just after its arrival)."""
    from tracker.outbox.models import Delivery

    def done() -> bool:
        with engine.connect() as connection:
            left = connection.scalar(select(func.count()).where(Delivery.status != "sent"))
        return not left

    _wait(done, 60, "deliveries left unsent")


def _wait(condition: Any, seconds: float, failure: str) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(failure)
        time.sleep(0.05)


@dataclass(frozen=True)
class Plan:
    per_run: int  # messages for each count of workers in the table
    acceptance: int  # digests delivered by 1 and by 4 workers
    limited: int  # messages under the global rate limit
    limit: float  # messages per second, all workers together


FULL = Plan(per_run=2_000, acceptance=4_000, limited=1_000, limit=40.0)
QUICK = Plan(per_run=40, acceptance=80, limited=40, limit=40.0)


def run(work: Path, plan: Plan) -> tuple[list[Row], list[str]]:
    """The rows for the main table and the section with the speed-up table; none (and a
    note) without a PostgreSQL database."""
    url = database_url()
    if not url:
        return [], ["scale-out: skipped (set TRACKER_BENCH_DATABASE_URL to a PostgreSQL URL)"]
    work.mkdir(parents=True, exist_ok=True)
    received = work / "relay.log"
    received.unlink(missing_ok=True)
    engine = fresh_schema(url)
    try:
        with smtp_in_child(SlowRelay(received)) as port:
            relay = (port, received)
            table = [_report(deliver(url, engine, relay, work, n, plan.per_run)) for n in WORKERS]
            one, four = (
                _report(deliver(url, engine, relay, work, n, plan.acceptance)) for n in (1, 4)
            )
            limited = _report(
                deliver(
                    url,
                    engine,
                    relay,
                    work,
                    4,
                    plan.limited,
                    TRACKER_DELIVERY__MAX_PER_SECOND=str(plan.limit),
                )
            )
    finally:
        engine.dispose()
    return rows(table, one, four, limited, plan), [section(table, one, four, limited, plan)]


def _report(outcome: Outcome) -> Outcome:
    print(
        f"scale-out: {outcome.workers} worker(s), {outcome.messages} messages in "
        f"{outcome.seconds:.1f} s ({outcome.rate:.1f} msg/s), lost {outcome.lost}, "
        f"duplicated {outcome.duplicated}, busiest second {outcome.busiest_second}",
        file=sys.stderr,
        flush=True,
    )
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=Path("var/bench-scaleout"))
    args = parser.parse_args(argv)
    _, notes = run(args.work.resolve(), QUICK if args.quick else FULL)
    if notes and notes[0].startswith(MARK):
        splice(args.out, notes[0])
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
