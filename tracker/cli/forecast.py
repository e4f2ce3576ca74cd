"""`tracker forecast add|resolve|list`: forecasts sources make of a deadline or meeting,
resolved against what happened and scored (Brier), and each forecaster's record."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


@click.group()
def forecast() -> None:
    """Forecasts: mutually exclusive outcomes with probabilities, scored when resolved."""


@forecast.command("add")
@click.argument("slug")
@click.option("--by", "by", required=True, metavar="SOURCE_KEY", help="The source making it.")
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    metavar="NAME=P",
    help="An outcome and its probability (50%, 0.5) or range (15-20%); two or more, "
    "mutually exclusive, covering every case.",
)
@click.option("--made", metavar="DATE", help="The day (or moment) it was made (default: now).")
@click.option("--note", metavar="TEXT", help="What it says of the outcomes, quoted.")
@pass_app
def add(
    app: App, slug: str, by: str, outcomes: tuple[str, ...], made: str | None, note: str | None
) -> None:
    """Record SOURCE_KEY's forecast on the deadline or meeting SLUG."""
    from tracker.catalog import forecasting
    from tracker.db import transaction

    made_at = _moment(app, made) if made else app.as_of
    with transaction(app.sessions) as session:
        found = forecasting.add(
            session, slug, by=by, outcomes=outcomes, made_at=made_at, now=app.as_of, note=note
        )
        said = forecasting.written(forecasting.outcomes_of(found))
    click.echo(f"added {by}'s forecast on {slug}, made {made_at.date().isoformat()}: {said}")


def _moment(app: App, given: str) -> Any:
    from tracker.dates import parse
    from tracker.errors import InvalidInput

    window = parse(given)
    if not window.is_exact:
        raise InvalidInput(f"--made {given!r}: give the day it was made (e.g. 2023-07-01)")
    return window.start(app.settings.timezone)


@forecast.command("resolve")
@click.argument("slug")
@click.option("--outcome", metavar="NAME", help="The outcome that happened: scores them.")
@click.option(
    "--annul",
    metavar="REASON",
    help="It did not take place, or no source says what happened: scores nothing.",
)
@click.option("--by", "by", metavar="SOURCE_KEY", help="The source saying so.")
@click.option("--force", is_flag=True, help="Resolve those already resolved again, too.")
@pass_app
def resolve(
    app: App, slug: str, outcome: str | None, annul: str | None, by: str | None, force: bool
) -> None:
    """Resolve the open forecasts on SLUG: scored against --outcome, or --annul'led."""
    from tracker.catalog import forecasting
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        done = forecasting.resolve(
            session, slug, now=app.as_of, outcome=outcome, annul=annul, by=by, force=force
        )
        lines = [f"{f.source.key}'s forecast on {slug}: {_resolution(f)}" for f in done]
    for line in lines:
        click.echo(line)


def _resolution(found: Any) -> str:
    if found.brier is not None:
        return f"scored, {found.resolved_outcome} happened: Brier {found.brier:.4f}"
    return f"annulled ({found.resolution_reason})"


@forecast.command("list")
@click.option("--by", "by", metavar="SOURCE_KEY", help="Only this source's forecasts.")
@click.option("--slug", metavar="SLUG", help="Only the forecasts on this deadline or meeting.")
@options.as_json
@pass_app
def list_(app: App, by: str | None, slug: str | None, as_json: bool) -> None:
    """List forecasts (outcomes, ranges, normalised midpoints, resolution, Brier score)
    and each forecaster's record over those listed; with --known-at, those made by then,
    resolved only if resolved by then."""
    from tracker.views.forecasts import listing

    with app.sessions() as session:
        found = listing(session, by=by, slug=slug, known_at=app.known_at)
    if as_json:
        output.emit_json(found)
        return
    for shown in found["forecasts"]:
        _show(shown)
    if not found["forecasts"]:
        click.echo("no forecast")
        return
    output.table(
        ["forecaster", "made", "open", "scored", "annulled", "mean Brier"],
        [
            (r["source"], r["made"], r["open"], r["scored"], r["annulled"], _score(r["mean_brier"]))
            for r in found["records"]
        ],
        title="Record (Brier: 0 best, 2 worst)",
    )


def _show(shown: dict[str, Any]) -> None:
    click.echo(
        f"{shown['type']} {shown['slug']}: {shown['source']['key']}, made {shown['made_at'][:10]}"
    )
    width = max(len(o["name"]) for o in shown["outcomes"])
    for o in shown["outcomes"]:
        click.echo(f"  {o['name'].ljust(width)}  {o['probability']:>9}  p={o['normalised']:.3f}")
    if shown["resolution"] == "scored":
        state = f"scored: {shown['resolved_outcome']} happened, Brier {_score(shown['brier'])}"
    elif shown["resolution"] == "annulled":
        state = f"annulled: {shown['resolution_reason']}"
    else:
        state = "open"
    if shown["resolved_at"]:
        by = f"by {shown['resolved_by']}, " if shown["resolved_by"] else ""
        state += f" ({by}{shown['resolved_at'][:10]})"
    click.echo(f"  {state}")
    click.echo()


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


COMMANDS = [forecast]
