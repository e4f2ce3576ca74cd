"""The CLI against its import-and-query floor."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from bench.common import (
    ratio_row,
    tracker_env,
)
from bench.generate import sqlite_url
from bench.harness import Figure, Row, alternate, run_process

# The floor as the issue names it: the imports the CLI cannot avoid, then the rows each
# command prints, fetched with sqlite3 (countdown reads one row more than the board shows,
# 51, to say whether there are more).
CLI_FLOOR = r"""
import sys, json, sqlite3, datetime
import sqlalchemy.orm, pydantic_settings, click
path, mode = sys.argv[1], sys.argv[2]
today = datetime.date.today()
db = sqlite3.connect(path)
if mode == "upcoming":
    end = (today + datetime.timedelta(days=60)).isoformat()
    first = (today - datetime.timedelta(days=365)).isoformat()  # the longest window
    rows = db.execute(
        "SELECT * FROM deadlines WHERE due_latest >= ? AND due_earliest <= ? "
        "AND due_earliest >= ? ORDER BY due_earliest, slug",
        (today.isoformat(), end, first)).fetchall()
    rows += db.execute(
        "SELECT * FROM meetings WHERE starts_earliest IS NOT NULL AND ("
        "(coalesce(ends_latest, starts_latest) >= ? AND starts_earliest <= ?) "
        "OR recurrence IS NOT NULL) ORDER BY starts_earliest, slug",
        (today.isoformat(), end)).fetchall()
else:
    recent = today - datetime.timedelta(days=30)
    rows = db.execute(
        "SELECT * FROM deadlines WHERE status NOT IN ('cancelled', 'superseded') AND "
        "due_latest >= ? AND due_earliest >= ? ORDER BY due_earliest, slug LIMIT 51",
        (recent.isoformat(), (recent - datetime.timedelta(days=365)).isoformat())).fetchall()
json.dump([list(map(str, row)) for row in rows], sys.stdout)
"""
# A stricter floor, reported beside: the collector held off during the imports and what
# they made frozen, as tracker.cli does, so the floor does not time the collector
# scanning its imports either.
STRICT_FLOOR = CLI_FLOOR.replace(
    "import sqlalchemy.orm, pydantic_settings, click\n",
    "import gc; gc.disable()\nimport sqlalchemy.orm, pydantic_settings, click\n"
    "gc.freeze(); gc.enable()\n",
)


def with_bytecode(env: dict[str, str], work: Path) -> dict[str, str]:
    """Both sides run from bytecode, as an installed tracker does: with
    PYTHONDONTWRITEBYTECODE set (as in some shells here) every run would also compile our
    modules. The cache goes under ``work``, not into the checkout."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def _both_floors(
    floor: list[str], stricter: list[str], env: dict[str, str], home: Path, kept: list[float]
) -> float:
    """The issue's floor, timed for the ratio; the stricter one run just before it."""
    kept.append(run_process(stricter, env, home))
    return run_process(floor, env, home)


def run(dbs: Mapping[int, Path], work: Path, repeat: int, repeat_large: int) -> list[Row]:
    rows: list[Row] = []
    home = work / "cli-home"
    home.mkdir(exist_ok=True)
    largest, smallest = max(dbs), min(dbs)
    commands = {
        "upcoming": ["upcoming", "--within", "60d", "--json"],
        "countdown": ["countdown", "--json"],
    }
    for name, args in commands.items():
        by_size: dict[int, Row] = {}
        for n, path in sorted(dbs.items()):
            env = with_bytecode(tracker_env(home, sqlite_url(path)), work)
            times = repeat_large if n == largest and len(dbs) > 1 else repeat
            mine_args = [sys.executable, "-m", "tracker", *args]
            floor_args = [sys.executable, "-c", CLI_FLOOR, str(path), name]
            strict_args = [sys.executable, "-c", STRICT_FLOOR, str(path), name]
            for warm_up in (mine_args, floor_args, strict_args):  # bytecode, file cache
                run_process(warm_up, env, home)
            strict: list[float] = []
            mine, floor = alternate(
                partial(run_process, mine_args, env, home),
                partial(_both_floors, floor_args, strict_args, env, home, strict),
                times,
            )
            row = ratio_row("1 CLI", f"`{name}` N={n:,}", mine, floor, "ms", "≤ 1.3× at 100k")
            strict_floor = Figure(strict, "ms").median
            strict_ratio = row.tracker.median / strict_floor
            row.extra["strict_floor_ms"] = strict_floor
            row.extra["strict_ratio"] = strict_ratio
            row.note = f"{strict_ratio:.2f}× the stricter floor (collector held off as ours)"
            if n == largest:
                growth = row.tracker.median / by_size[smallest].tracker.median if by_size else 1.0
                row.met = row.ratio is not None and row.ratio <= 1.3 and growth < 1.5
                row.target = "ratio ≤ 1.3, growth 1k→100k < 1.5×"
                row.note += f"; growth {smallest:,}→{n:,}: {growth:.2f}×"
                row.extra["growth"] = growth
            by_size[n] = row
            rows.append(row)
            print(f"cli {name} {n}: {row.tracker.text()}", file=sys.stderr, flush=True)
    return rows
