"""The feed build, first (into an empty directory) and unchanged; and the same build on
the 100k-deadline database of the idle daemon, which must stay bounded.

Each build is the whole of what the daemon rebuilds: RSS, Atom, ``calendar.ics``, the
per-treaty feeds and calendars, and the board. The first one starts from an empty output
directory, so nothing is known from a previous build; the unchanged one runs right after.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.common import copy_db
from bench.generate import AS_OF, sqlite_url
from bench.harness import Figure, Row, timed
from tracker.db import make_engine, make_session_factory, transaction
from tracker.settings import Settings

LARGE_LIMIT_MS = 1000  # "well under a second" for the daemon's build at 100k deadlines


def _measure(path: Path, work: Path, name: str, repeat: int) -> tuple[Figure, Figure, list[int]]:
    """First and unchanged builds; ``changed`` counts files written and parts rendered by
    each unchanged build."""
    from tracker.feeds.build import build_feeds

    copy = copy_db(path, work, name)
    out = work / f"{name}-out"
    settings = Settings(
        database_url=sqlite_url(copy), data_dir=work / f"{name}-home", feeds={"max_entries": 500}
    )
    engine = make_engine(sqlite_url(copy))
    sessions = make_session_factory(engine)
    first: list[float] = []
    again: list[float] = []
    changed: list[int] = []

    def build() -> int:
        with transaction(sessions) as session:
            report = build_feeds(session, settings, out, as_of=AS_OF)
        return len(report.written) + len(report.rendered)

    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        first.append(timed(build))
        again.append(timed(lambda: changed.append(build())))
    engine.dispose()
    return Figure(first, "ms"), Figure(again, "ms"), changed


def run(path: Path, work: Path, events: int, repeat: int, large: Path | None = None) -> list[Row]:
    build_fig, again_fig, changed = _measure(path, work, "feed-build", repeat)
    print(f"feed: {build_fig.text()} / {again_fig.text()}", file=sys.stderr, flush=True)
    rows = [
        Row(
            "4 feed build",
            f"500 entries from {events:,} events",
            build_fig,
            None,
            "≤ 150 ms",
            None,
            build_fig.median <= 150,
            note="every file: RSS, Atom, calendar.ics, per treaty, the board",
        ),
        Row(
            "4 feed build",
            "unchanged rebuild",
            again_fig,
            None,
            "≤ 30 ms, nothing written",
            None,
            again_fig.median <= 30 and not any(changed),
            note=f"{max(changed)} file(s) written or part(s) rendered",
        ),
    ]
    if large is not None:
        large_fig, large_again, large_changed = _measure(large, work, "feed-large", repeat)
        print(f"feed 100k: {large_fig.text()} / {large_again.text()}", file=sys.stderr)
        rows.append(
            Row(
                "4 feed build",
                "same build, 100k deadlines (bench 5's database)",
                large_fig,
                None,
                f"< {LARGE_LIMIT_MS} ms (bounded)",
                None,
                large_fig.median < LARGE_LIMIT_MS and not any(large_changed),
                note=f"unchanged rebuild {large_again.text()}",
            )
        )
    return rows
