"""`tracker history`: every change across the catalogue, newest first."""

from __future__ import annotations

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


@click.command()
@click.option(
    "--since",
    metavar="MOMENT",
    help="Only changes at or after this moment: a date or instant (2026-12-01, "
    "2026-12-01T09:00Z, its midnight in the settings' zone for a day) or a duration back "
    "from now (7d).",
)
@click.option("--treaty", metavar="SLUG", help="Only changes to items of this treaty.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind of item.")
@click.option(
    "--type",
    "type_",
    type=click.Choice(["deadline", "meeting"]),
    help="Only deadlines or meetings.",
)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N changes.")
@options.as_json
@pass_app
def history(
    app: App,
    since: str | None,
    treaty: str | None,
    kinds: tuple[str, ...],
    type_: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Every change to deadlines and meetings, newest first: the item, the field, old → new,
    its source, its note, what made it (cli, web, seed, import, poll; unknown for changes
    recorded before that was kept) and when it happened and was recorded."""
    from tracker.views import changelog

    moment = None
    if since is not None:
        moment = changelog.since_moment(since, app.settings.timezone, now=app.as_of)
    flt = changelog.ChangeFilter(
        since=moment, treaty=treaty, kinds=kinds, type=type_, limit=limit, known_at=app.known_at
    )
    with app.sessions() as session:
        flt.check(session)
        entries = changelog.changes(session, flt)
    if as_json:
        output.emit_json(changelog.as_dicts(entries, app.settings.feeds.base_url))
        return
    if not entries:
        click.echo(
            "No change recorded" + (f" since {moment:%Y-%m-%d %H:%M %Z}." if moment else ".")
        )
        return
    for entry in entries:
        click.echo(entry.line())
    if limit is not None and len(entries) == limit:
        click.echo(f"(the newest {limit}; a larger --limit for more)")


COMMANDS = [history]
