"""Timing, rows and reports: what every benchmark shares."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """Samples of one measure: its median and range, in ``unit``."""

    samples: list[float]
    unit: str

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def text(self) -> str:
        low, high = min(self.samples), max(self.samples)
        return f"{_num(self.median)} {self.unit} ({_num(low)}–{_num(high)})"


@dataclass
class Row:
    bench: str
    case: str
    tracker: Figure
    floor: Figure | None
    target: str
    # The ratio compared with the target: tracker/floor (times) or tracker/floor (rates).
    ratio: float | None
    met: bool | None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("tracker", "floor"):
            figure = getattr(self, key)
            if figure is not None:
                data[key]["median"] = figure.median
                data[key]["min"] = min(figure.samples)
                data[key]["max"] = max(figure.samples)
        return data


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def alternate(
    tracker: Callable[[], float], floor: Callable[[], float], repeat: int
) -> tuple[list[float], list[float]]:
    """Run the tracker and its floor one after the other, ``repeat`` times each."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        mine.append(tracker())
        theirs.append(floor())
    return mine, theirs


def timed(action: Callable[[], object]) -> float:
    """Milliseconds taken by ``action``."""
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def run_process(args: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """Milliseconds a command takes; raises when it fails."""
    start = time.perf_counter()
    done = subprocess.run(list(args), env=env, cwd=cwd, capture_output=True, timeout=600)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _verdict(row: Row) -> str:
    if row.met is None:
        return "—"
    return "met" if row.met else "**missed**"


def markdown(rows: Sequence[Row], info: dict[str, str], notes: Sequence[str]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['platform']}. Run: {info['date']}, `{info.get('command', 'make bench')}`.",
        "",
        "Figures are medians with (min–max) over the repetitions; tracker and floor ran "
        "alternately in the same run. Ratio is tracker/floor for times and rates.",
        "",
        "| benchmark | case | tracker | floor | ratio | target | verdict | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        floor = row.floor.text() if row.floor else "—"
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "—"
        lines.append(
            f"| {row.bench} | {row.case} | {row.tracker.text()} | {floor} | {ratio} "
            f"| {row.target} | {_verdict(row)} | {row.note} |"
        )
    if notes:
        lines += ["", "## Notes", ""]
        lines += [note if "\n" in note else f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_reports(
    rows: Sequence[Row], info: dict[str, str], notes: Sequence[str], out: Path
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "RESULTS.md").write_text(markdown(rows, info, notes), encoding="utf-8")
    data = {"machine": info, "rows": [row.as_json() for row in rows], "notes": list(notes)}
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
