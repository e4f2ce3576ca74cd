"""`tracker stats`: how well the dates of each series and each body held."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)

HEADERS = ["of", "name", "items", "dated", "moved", "refined", "postponed", "cancelled",
           "extended", "median slip", "worst slip", "median lead"]  # fmt: skip


@click.command()
@click.option("--series", metavar="NAME", help="Only the meetings of this series.")
@click.option("--body", metavar="NAME", help="Only the items of this body.")
@options.treaty
@options.as_json
@pass_app
def stats(
    app: App, series: str | None, body: str | None, treaty: str | None, as_json: bool
) -> None:
    """Slip statistics: for everything, each series and each body, how many dated items
    moved (a narrowing inside the old window is a refinement, not a move), how often
    they were postponed or cancelled, how many expiries were extended (a term extended,
    not a move), the median and worst slip of a date's first day (days, later positive)
    and the median days from announcing a final date to it.

    A series or body with a poor record (at least half of three or more dated items moved,
    or two postponements) is marked, and its items say so beside their confidence.
    """
    from tracker.views import slip_stats

    scope = slip_stats.Scope(series=series, body=body, treaty=treaty, known_at=app.known_at)
    with app.sessions() as session:
        found = slip_stats.report(session, scope)
    if as_json:
        output.emit_json(found)
        return
    rows = [found["overall"], *found["series"], *found["bodies"]]
    output.table(HEADERS, [_row(row) for row in rows], title="Slip statistics")
    for row in rows:
        if row["poor"]:
            named = f"{row['of']} {row['name']}" if row["name"] else "overall"
            click.echo(f"poor record ({named}): {row['note']}")


def _row(row: dict[str, Any]) -> list[Any]:
    """A table line; a median or worst slip in days, with its sign."""
    return [
        row["of"],
        row["name"] or "(all)",
        row["items"],
        row["dated"],
        f"{row['moved']} ({row['moves']}×)" if row["moves"] else 0,
        row["refinements"],
        row["postponed"],
        row["cancelled"],
        row["extended"],
        _signed(row["median_slip_days"]),
        _signed(row["worst_slip_days"]),
        "" if row["median_lead_days"] is None else f"{row['median_lead_days']}d",
    ]


def _signed(days: float | None) -> str:
    return "" if days is None else f"{days:+}d"


COMMANDS = [stats]
