"""`tracker source list|show|edit`: the sources facts rest on, their grades and caveats."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)


@click.group()
def source() -> None:
    """Sources: graded primary, established, secondary or unverified, with caveats."""


@source.command("list")
@options.as_json
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List sources with their grades and caveats."""
    from tracker.catalog import source_editing

    with app.sessions() as session:
        found = [row.as_dict() for row in source_editing.all_sources(session)]
    output.listing(
        as_json,
        found,
        ["key", "title", "publisher", "grade", "caveat", "url"],
        [
            tuple(row[name] for name in ("key", "title", "publisher", "grade", "caveat", "url"))
            for row in found
        ],
    )


@source.command("show")
@click.argument("key")
@options.as_json
@pass_app
def show(app: App, key: str, as_json: bool) -> None:
    """Show a source, its grade and caveat, and what cites it."""
    from tracker.catalog import source_editing

    with app.sessions() as session:
        found = source_editing.find(session, key)
        data: dict[str, Any] = found.as_dict() | {
            "cited_by": source_editing.cited_by(session, found)
        }
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            (label.replace("_", " "), data[name])
            for label, name in (
                ("source", "title"),
                ("key", "key"),
                ("publisher", "publisher"),
                ("url", "url"),
                ("published", "published"),
                ("grade", "grade"),
                ("caveat", "caveat"),
            )
        ]
    )
    if data["cited_by"]:
        click.echo("cited by:")
        for cited in data["cited_by"]:
            click.echo(f"  {cited}")


@source.command("edit")
@click.argument("key")
@click.option("--grade", help="primary, established, secondary or unverified.")
@click.option("--caveat", metavar="TEXT", help="What a reader must know of it ('' removes it).")
@pass_app
def edit(app: App, key: str, grade: str | None, caveat: str | None) -> None:
    """Regrade a source or set its caveat."""
    from tracker.catalog import source_editing
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        changed = source_editing.edit(session, key, grade=grade, caveat=caveat)
    described = [f"{name} {old or '—'} -> {new or '—'}" for name, old, new in changed]
    click.echo(f"{key}: " + (", ".join(described) or "nothing changed"))


COMMANDS = [source]
