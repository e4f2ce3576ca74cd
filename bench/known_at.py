"""``--known-at`` against the same command without it (#17, Performance).

100k deadlines (and the usual 2k meetings), each with ten revisions spread from its creation
to the data's instant: its date moved five times (by two weeks each, earlier ones older) and
its title five times. ``upcoming --within 60d`` as of the data's instant, with ``--known-at``
a month before it and in the history's middle (half of the history undone); the target for
both: within 1.5x of the same command without it (a listing reads what it could show, not
the history since the moment).

    python -m bench.known_at [--deadlines 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bench.cli import with_bytecode
from bench.common import ratio_row, tracker_env
from bench.generate import AS_OF, BATCH, Counts, generate, sqlite_url
from bench.harness import Figure, Row, alternate, run_process
from tracker.catalog.models import Deadline, Meeting
from tracker.db import make_engine

REVISIONS = 10
MOVE = timedelta(days=14)
AS_OF_TEXT = AS_OF.date().isoformat()
# A month before the data's instant: what a reader asking "what did we know then" asks.
RECENT = (AS_OF - timedelta(days=30)).date().isoformat()
# The middle of the history (2015 to the instant): half of it is undone.
MIDDLE = "2021-01-01"
COMMAND = ("--as-of", AS_OF_TEXT, "upcoming", "--within", "60d", "--json")


def _revisions(kind: str, rows: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Ten changes per item, oldest first, ending at the row's current values: the first,
    third, ... move its date (each earlier value two weeks before the next), the others
    retitle it."""
    field = "due" if kind == "deadline" else "starts"
    for id_, slug, title, text, first, created in rows:
        if first is None:  # no date to move (to be announced): left as it is
            continue
        span = AS_OF - created
        moves = REVISIONS // 2
        days = [(first - MOVE * (moves - k)).isoformat() for k in range(moves)] + [text]
        titles = [f"{title} (draft {k})" for k in range(moves)] + [title]
        for r in range(REVISIONS):
            k = r // 2
            at = created + span * (r + 1) / (REVISIONS + 1)
            if r % 2 == 0:  # the date: the last move ends at the current text
                old, new = days[k], days[k + 1]
            else:
                old, new = titles[k], titles[k + 1]
            yield {
                "subject_type": kind,
                "subject_id": id_,
                "subject_slug": slug,
                "subject_title": title,
                "field": field if r % 2 == 0 else "title",
                "old": old,
                "new": new,
                "changed_at": at,
                "recorded_at": at,
                "source_id": None,
                "note": None,
                "news": True,
                "origin": "cli",
            }


_INSERT = (
    "INSERT INTO changes (subject_type, subject_id, subject_slug, subject_title, field, old, "
    "new, changed_at, recorded_at, news, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'cli')"
)


def _stored(at: datetime) -> str:
    """An instant as SQLAlchemy keeps it in SQLite (UTC, no offset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def revise(engine: Engine) -> int:
    """Add the revisions to a generated SQLite database; how many. A million rows go in
    through the driver's executemany (SQLAlchemy's insert() took a minute for them)."""
    count = 0
    with engine.begin() as connection:
        for kind, model, text, first in (
            ("deadline", Deadline, Deadline.due_text, Deadline.due_earliest),
            ("meeting", Meeting, Meeting.starts_text, Meeting.starts_earliest),
        ):
            rows = connection.execute(
                select(model.id, model.slug, model.title, text, first, model.created_at)
            ).all()
            batch: list[tuple[Any, ...]] = []
            for change in _revisions(kind, rows):
                at = _stored(change["changed_at"])
                batch.append((*(change[k] for k in _COLUMNS), at, at))
                if len(batch) >= BATCH * 4:
                    connection.exec_driver_sql(_INSERT, batch)
                    count += len(batch)
                    batch = []
            if batch:
                connection.exec_driver_sql(_INSERT, batch)
                count += len(batch)
    return count


_COLUMNS = ("subject_type", "subject_id", "subject_slug", "subject_title", "field", "old", "new")


def database(work: Path, deadlines: int) -> Path:
    """The generated database with its revisions, made once per run."""
    path = work / f"known-at-{deadlines}.db"
    if not path.exists():
        engine = make_engine(sqlite_url(path))
        try:
            generate(engine, Counts(deadlines, max(deadlines // 50, 4), 40, 0))
            revise(engine)
        finally:
            engine.dispose()
    return path


def run(work: Path, deadlines: int, repeat: int) -> list[Row]:
    path = database(work, deadlines)
    home = work / "known-at-home"
    home.mkdir(exist_ok=True)
    env = with_bytecode(tracker_env(home, sqlite_url(path)), work)
    plain = [sys.executable, "-m", "tracker", *COMMAND]
    rows = []
    for moment in (RECENT, MIDDLE):
        known = [sys.executable, "-m", "tracker", "--known-at", moment, *COMMAND]
        for warm_up in (plain, known):  # bytecode, file cache
            run_process(warm_up, env, home)
        mine, floor = alternate(
            partial(run_process, known, env, home), partial(run_process, plain, env, home), repeat
        )
        case = f"`upcoming --known-at {moment}` N={deadlines:,}, {REVISIONS} revisions each"
        row = ratio_row("17 known-at", case, mine, floor, "ms", "≤ 1.5× at 100k")
        row.note = "floor: the same command without --known-at"
        row.met = row.ratio is not None and row.ratio <= 1.5
        rows.append(row)
        without = Figure(floor, "ms").text()
        said = f"known-at {moment} {deadlines}: {row.tracker.text()} vs {without}"
        print(said, file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    for row in run(work, args.deadlines, args.repeat):
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "—"
        print(f"{row.case}: {row.tracker.text()} vs {row.floor.text() if row.floor else '—'}"
              f" ({ratio}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
