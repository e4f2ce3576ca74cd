"""`tracker treaty add|list|show|edit`."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


def _fields(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--short-name"),
            click.option("--kind", help="bilateral or multilateral."),
            click.option(
                "--status", help="in-force, expired, suspended, not-in-force, terminated."
            ),
            click.option("--signed", metavar="DATE"),
            click.option("--in-force", "entered_into_force", metavar="DATE"),
            click.option("--expires", metavar="DATE"),
            click.option("--depositary"),
            click.option("--summary"),
            click.option("--source", metavar="URL"),
        ]
    ):
        func = option(func)
    return func


@click.group()
def treaty() -> None:
    """Treaties, their status and their parties."""


@treaty.command("add")
@click.argument("name")
@_fields
@click.option("--slug", help="Default: derived from the short name.")
@pass_app
def add(app: App, /, name: str, slug: str | None, source: str | None, **values: str | None) -> None:
    """Add a treaty."""
    from tracker.catalog import treaty_editing as service
    from tracker.db import transaction

    parsed = service.treaty_values(name=name, **values)
    with transaction(app.sessions) as session:
        item = service.add_treaty(session, parsed, now=app.as_of, slug=slug, source=source)
        click.echo(f"added treaty {item.slug}")


@treaty.command("edit")
@click.argument("slug")
@click.option("--name")
@_fields
@pass_app
def edit(app: App, /, slug: str, source: str | None, **values: str | None) -> None:
    """Change a treaty's facts."""
    from tracker.catalog import treaty_editing as service
    from tracker.db import transaction

    parsed = service.treaty_values(**values)
    with transaction(app.sessions) as session:
        service.edit_treaty(session, slug, parsed, now=app.as_of, source=source)
    click.echo(f"updated treaty {slug}: {', '.join(parsed) or 'nothing changed'}")


@treaty.command("list")
@click.option("--status", help="Only treaties with this status.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_(app: App, status: str | None, as_json: bool) -> None:
    """List treaties with their status and US/Russia standing."""
    from tracker.catalog import treaty_editing as service

    with app.sessions() as session:
        rows = [service.treaty_dict(t, app.today) for t in service.list_treaties(session, status)]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["slug", "treaty", "status", "signed", "in force", "expires", "US", "Russia"],
        [
            (
                r["slug"],
                r["short_name"],
                r["status"],
                r["signed"],
                r["entered_into_force"],
                r["expires"],
                r["standing"]["US"],
                r["standing"]["RU"],
            )
            for r in rows
        ],
    )


@treaty.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, slug: str, as_json: bool) -> None:
    """Show a treaty with its participation events and sources."""
    from tracker.catalog import queries
    from tracker.catalog import treaty_editing as service
    from tracker.cli.history import print_sources_and_history

    with app.sessions() as session:
        data = service.treaty_dict(queries.treaty(session, slug), app.today, events=True)
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            ("treaty", data["name"]),
            ("short name", data["short_name"]),
            ("slug", slug),
            ("kind", data["kind"]),
            ("status", data["status"]),
            ("signed", data["signed"]),
            ("in force", data["entered_into_force"]),
            ("expires", data["expires"]),
            ("depositary", data["depositary"]),
            ("summary", data["summary"]),
        ]
    )
    if data["events"]:
        click.echo("participation:")
        for event in data["events"]:
            click.echo(
                f"  {event['date']}  {event['state']:<4} {event['event']}"
                + (f"  ({event['note']})" if event["note"] else "")
            )
    print_sources_and_history(data)


COMMANDS = [treaty]
