"""The benchmark harness works end to end on a tiny database (``make bench`` runs it big)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import change_latency, live, tick
from bench.common import NOTES
from bench.generate import Counts
from bench.harness import machine, write_reports
from bench.run import database


def test_the_harness_generates_times_and_reports_a_table(tmp_path: Path) -> None:
    db = database(tmp_path, "tiny", Counts(deadlines=60, meetings=4, treaties=3, subscribers=5))

    rows = tick.run({60: db}, tmp_path, ticks=1, subscribers=5)
    write_reports(rows, machine(), ["a note"], tmp_path / "out")

    table = (tmp_path / "out" / "RESULTS.md").read_text(encoding="utf-8")
    assert "| benchmark | case | tracker | floor | ratio | target | verdict | note |" in table
    assert "| 2 daemon tick | N=60, 50 subscribers: idle |" in table  # topped up ten times
    assert "- a note" in table
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert data["rows"][0]["tracker"]["median"] > 0


@pytest.mark.slow
def test_the_change_latency_bench_finds_each_edits_notice_and_email(tmp_path: Path) -> None:
    db = database(tmp_path, "tiny", Counts(deadlines=20, meetings=2, treaties=2, subscribers=0))

    rows = change_latency.run(db, tmp_path, edits=2, spacing=0.5)

    assert [row.case.rsplit(": ", 1)[1] for row in rows] == [
        "recorded − (commit + window)",
        "arrival − recorded",
        "commit → arrival",
    ]
    assert all(len(row.tracker.samples) == 2 for row in rows)
    assert rows[0].met is not None and rows[2].met is None  # the last one is reported only


def test_the_live_pages_bench_holds_each_page_against_its_static_floor(tmp_path: Path) -> None:
    db = database(tmp_path, "tiny", Counts(deadlines=40, meetings=3, treaties=2, subscribers=0))

    rows = live.run(db, tmp_path, items=40, clients=2, seconds=0.2, repeat=1, edits=1)

    assert [row.case.split(",")[0] for row in rows[:8:2]] == [
        "board GET /",
        "item pages GET /meetings/<slug> (3 slugs)",
        "board If-None-Match → 304",
        "item pages If-None-Match → 304",
    ]
    assert all(row.floor is not None and row.met is not None for row in rows[:8])
    assert rows[8].bench == live.EDIT_BENCH and rows[8].tracker.median < live.EDIT_LIMIT_S * 1000
    assert not [note for note in NOTES if note.startswith(("live on port", "edit → feed"))]
