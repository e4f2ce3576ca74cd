"""The feed build, first and unchanged."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.common import (
    copy_db,
)
from bench.generate import AS_OF, sqlite_url
from bench.harness import Figure, Row, timed
from tracker.db import make_engine, make_session_factory, transaction
from tracker.settings import Settings


def run(path: Path, work: Path, events: int, repeat: int) -> list[Row]:
    from tracker.feeds.build import build_feeds

    copy = copy_db(path, work, "feed-build")
    out = work / "feed-out"
    settings = Settings(
        database_url=sqlite_url(copy), data_dir=work / "feed-home", feeds={"max_entries": 500}
    )
    engine = make_engine(sqlite_url(copy))
    sessions = make_session_factory(engine)
    first: list[float] = []
    again: list[float] = []
    written: list[int] = []

    def build() -> None:
        with transaction(sessions) as session:
            report = build_feeds(session, settings, out, as_of=AS_OF)
        written.append(len(report.written))

    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        first.append(timed(build))
        again.append(timed(build))
    engine.dispose()
    build_fig, again_fig = Figure(first, "ms"), Figure(again, "ms")
    print(f"feed: {build_fig.text()} / {again_fig.text()}", file=sys.stderr, flush=True)
    return [
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
            again_fig.median <= 30 and written[1] == 0,
            note=f"{written[1]} file(s) written",
        ),
    ]
