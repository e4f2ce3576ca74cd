"""Run every benchmark against its floor and write ``bench/RESULTS.md`` and ``results.json``.

python -m bench.run              # the full run (``make bench``), under 15 minutes
python -m bench.run --quick      # tiny sizes, one repetition: checks the harness
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import (
    change_latency,
    cli,
    digests,
    feeds,
    known_at,
    live,
    rest,
    scaleout,
    serve,
    slow_headers,
    tick,
)
from bench.common import NOTES
from bench.generate import Counts, generate, sqlite_url
from bench.harness import Row, machine, write_reports
from tracker.db import make_engine

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    subscribers: int
    repeat: int
    repeat_large: int  # at the largest size
    ticks: int
    digest_subscribers: int
    digest_repeat: int
    feed_events: int
    idle_seconds: float
    serve_seconds: float
    serve_clients: int
    serve_repeat: int
    change_edits: int  # edits timed from commit to the change email's arrival
    live_repeat: int  # live pages against their static floor, at the largest size
    live_edits: int  # edits timed from commit to the served feed showing them
    flood_clients: int  # slow-header clients against the server
    flood_seconds: float
    scaleout: scaleout.Plan  # PostgreSQL only (TRACKER_BENCH_DATABASE_URL)


FULL = Plan(
    sizes=(1_000, 10_000, 100_000),
    subscribers=1_000,
    repeat=5,
    repeat_large=5,
    ticks=5,
    digest_subscribers=10_000,
    digest_repeat=2,
    feed_events=100_000,
    idle_seconds=60,
    serve_seconds=5,
    serve_clients=50,
    serve_repeat=2,
    change_edits=30,
    live_repeat=3,
    live_edits=10,
    flood_clients=300,
    flood_seconds=20,
    scaleout=scaleout.FULL,
)
QUICK = Plan(
    sizes=(200,),
    subscribers=20,
    repeat=1,
    repeat_large=1,
    ticks=1,
    digest_subscribers=10,
    digest_repeat=1,
    feed_events=300,
    idle_seconds=1,
    serve_seconds=0.5,
    serve_clients=4,
    serve_repeat=1,
    change_edits=3,
    live_repeat=1,
    live_edits=2,
    flood_clients=20,
    flood_seconds=3,
    scaleout=scaleout.QUICK,
)


def database(work: Path, name: str, counts: Counts) -> Path:
    """A generated SQLite database, made once per run and copied by whoever writes to it."""
    path = work / f"{name}.db"
    if not path.exists():
        engine = make_engine(sqlite_url(path))
        try:
            generate(engine, counts)
        finally:
            engine.dispose()
    return path


def run(
    plan: Plan, work: Path, tick_max: int = 10**9, caught_up: Path | None = None
) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    dbs: dict[int, Path] = {}
    for n in plan.sizes:
        counts = Counts(n, max(n // 50, 4), 40, plan.subscribers)
        dbs[n] = database(work, f"n{n}", counts)
        print(f"generated {n} deadlines", file=sys.stderr, flush=True)
    largest = max(plan.sizes)

    rows += cli.run(dbs, work, plan.repeat, plan.repeat_large)
    rows += known_at.run(work, largest, plan.repeat_large)  # its own 10 revisions per item
    ticked = {n: path for n, path in dbs.items() if n <= tick_max}
    rows += tick.run(ticked, work, plan.ticks, plan.subscribers)
    digest_db = database(
        work, "digest", Counts(1_000, 20, 40, plan.digest_subscribers, 0)
    )  # one digest per subscriber due
    rows += digests.run(digest_db, work, plan.digest_subscribers, plan.digest_repeat)
    feed_db = database(work, "feed", Counts(1_000, 20, 40, 10, plan.feed_events))
    rows += feeds.run(feed_db, work, plan.feed_events, plan.repeat_large, large=dbs[largest])
    # At rest after catching up: the tick benchmark leaves its databases caught up.
    rest_db = caught_up or work / f"tick-{largest}.db"
    rows += rest.run(rest_db, work, largest, plan.idle_seconds)
    rows += serve.run(feed_db, work, plan.serve_clients, plan.serve_seconds, plan.serve_repeat)
    rows += live.run(
        dbs[largest],
        work,
        largest,
        plan.serve_clients,
        plan.serve_seconds,
        plan.live_repeat,
        plan.live_edits,
    )
    latency_db = database(work, "latency", Counts(200, 10, 5, 0))  # its one subscriber: later
    rows += change_latency.run(latency_db, work, plan.change_edits)
    rows += slow_headers.run(plan.flood_clients, plan.flood_seconds)
    scaled, scale_notes = scaleout.run(work / "scaleout", plan.scaleout)
    rows += scaled
    notes += scale_notes
    notes += NOTES
    return rows, notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--out", type=Path, default=HERE, help="where the reports go")
    parser.add_argument("--work", type=Path, default=Path("var/bench"), help="scratch dir")
    parser.add_argument("--tick-max", type=int, default=10**9, help="tick sizes up to this")
    parser.add_argument("--rest-db", type=Path, help="a caught-up database for the idle daemon")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.pop("TRACKER_CONFIG", None)
    rows, notes = run(plan, work, args.tick_max, args.rest_db)
    info = machine()
    info["command"] = " ".join(["python -m bench.run", *(argv or sys.argv[1:])])
    analysis = HERE / "analysis.md"  # profiles of the misses, kept by hand between runs
    if analysis.exists():
        notes.append(analysis.read_text(encoding="utf-8").strip())
    write_reports(rows, info, notes, args.out)
    print((args.out / "RESULTS.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
