"""The scale-out bench's report: rows for the main table, and its own section of
RESULTS.md (the speed-up over 1, 2, 4 and 8 workers against the ideal, and the
acceptance figures), which ``python -m bench.scaleout`` puts in place by itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import Figure, Row

if TYPE_CHECKING:
    from bench.scaleout import Outcome, Plan

MARK = "<!-- scaleout -->"  # around the section of RESULTS.md this bench writes
DELAY_MS = 50


def rows(
    table: list[Outcome], one: Outcome, four: Outcome, limited: Outcome, plan: Plan
) -> list[Row]:
    base = table[0].rate
    rows = [
        Row(
            "10 scale-out",
            f"{o.workers} worker(s), {o.messages:,} digests, 50 ms relay",
            Figure([o.rate], "msg/s"),
            Figure([base * o.workers], "msg/s"),
            "— (ideal: n × 1 worker)",
            o.rate / (base * o.workers),
            None,
            f"lost {o.lost}, duplicated {o.duplicated}",
        )
        for o in table
    ]
    speedup = one.seconds / four.seconds
    clean = four.lost == four.duplicated == one.lost == one.duplicated == 0
    rows.append(
        Row(
            "10 scale-out",
            f"4 vs 1 worker, {plan.acceptance:,} digests",
            Figure([four.seconds], "s"),
            Figure([one.seconds], "s"),
            "≥ 3× faster, 0 lost, 0 duplicated",
            speedup,
            speedup >= 3 and clean,
            f"speed-up {speedup:.2f}×; lost {four.lost}, duplicated {four.duplicated}",
        )
    )
    rows.append(
        Row(
            "10 scale-out",
            f"4 workers, global limit {plan.limit:g} msg/s",
            Figure([limited.rate], "msg/s"),
            None,
            f"< {plan.limit:g} msg/s at the server",
            None,
            limited.rate <= plan.limit and limited.lost == limited.duplicated == 0,
            f"busiest second: {limited.busiest_second} messages in any 1 s, "
            f"{limited.busiest_clock_second} in a second of the clock",
        )
    )
    return rows


def section(table: list[Outcome], one: Outcome, four: Outcome, limited: Outcome, plan: Plan) -> str:
    """The speed-up table and the acceptance figures, as markdown."""
    base = table[0].rate
    lines = [
        MARK,
        "### Scaling out: delivery workers on PostgreSQL",
        "",
        f"A relay taking {DELAY_MS} ms per message (aiosmtpd, concurrent); "
        f"{plan.per_run:,} digests recorded in one transaction, timed from its commit to the "
        "last arrival; lost and duplicated counted at the server by Message-ID; load: the "
        "machine's 1-minute load average as each run ended (the machine is shared).",
        "",
        "| workers | messages | s | msg/s | speed-up | ideal | of ideal | lost | dup. | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in table:
        lines.append(
            f"| {o.workers} | {o.messages:,} | {o.seconds:.1f} | {o.rate:.1f} "
            f"| {o.rate / base:.2f}× | {o.workers}× | {o.rate / (base * o.workers):.0%} "
            f"| {o.lost} | {o.duplicated} | {o.load:.1f} |"
        )
    lines += [
        "",
        f"- {plan.acceptance:,} digests: 1 worker {one.seconds:.1f} s, 4 workers "
        f"{four.seconds:.1f} s: {one.seconds / four.seconds:.2f}× faster (target ≥ 3×); "
        f"lost {one.lost + four.lost}, duplicated {one.duplicated + four.duplicated}.",
        f"- Global limit {plan.limit:g} msg/s, 4 workers, {plan.limited:,} messages: "
        f"{limited.rate:.1f} msg/s at the server; the busiest second "
        f"{limited.busiest_second} messages in any 1 s window, "
        f"{limited.busiest_clock_second} within one second of the clock; "
        f"lost {limited.lost}, duplicated "
        f"{limited.duplicated}.",
        MARK,
    ]
    return "\n".join(lines)


def splice(results: Path, text: str) -> None:
    """Put the section into RESULTS.md in place of the one there (or at the end)."""
    current = results.read_text(encoding="utf-8") if results.exists() else ""
    parts = current.split(MARK)
    if len(parts) == 3:
        updated = parts[0] + text + parts[2]
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    results.write_text(updated, encoding="utf-8")
