"""Two `tracker seed` processes at once (#13 item 7): one applies, the other waits for it
and finds nothing to do; the history holds every change once. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker import migrations
from tracker.catalog.models import Change
from tracker.db import make_engine, make_session_factory

from .process import tracker_env


def run_together(home: Path, url: str, command: str, runs: int = 2) -> list[tuple[int, str]]:
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "--database-url", url, command],
            cwd=home,
            env=tracker_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runs)
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=120)
        done.append((process.returncode, out + err))
    return done


@pytest.mark.parametrize(
    ("command", "migrated"),
    [("seed", True), ("init", True), ("init", False)],
    ids=["seed", "init", "init-on-an-empty-database"],
)
def test_concurrent_seed_runs_apply_once(
    database_url: str, tmp_path: Path, command: str, migrated: bool
) -> None:
    engine = make_engine(database_url)
    if migrated:  # both runs find the schema and race for the seeding
        migrations.upgrade(engine)
    engine.dispose()
    results = run_together(tmp_path, database_url, command)

    assert [code for code, _ in results] == [0, 0], results
    said = [
        next(line for line in out.splitlines() if line.startswith("seed:")) for _, out in results
    ]
    assert "seed: nothing changed" in said, said
    assert len([line for line in said if re.search(r"\d+ deadlines created", line)]) == 1, said
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(
                    Change.subject_type, Change.subject_slug, Change.field, Change.old, Change.new
                )
            ).all()
    finally:
        engine.dispose()
    twice = [row for row, n in Counter(rows).items() if n > 1]
    assert rows and twice == []
