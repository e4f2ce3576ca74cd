"""What `tracker deadline`, `tracker meeting` and `tracker treaty` share: adding, editing
and removing an item given its type, and the `show` and `remove` commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tracker.cli import options, output
from tracker.cli.app import App

pass_app = click.make_pass_decorator(App)

# What deadline and meeting add/edit share beyond their own options.
shared_options = options.group(
    click.option("--confidence", help="confirmed, announced (default), expected or reported."),
    click.option(
        "--status-on",
        metavar="DATE",
        help="The day the status was reached (default: when recording it; a meeting held: "
        "its last day).",
    ),
    options.source,
    click.option(
        "--source-grade",
        metavar="GRADE",
        help="A new --source's grade: primary, established, secondary (default), unverified.",
    ),
)


def _fields(type_: str) -> Any:
    """The item type's fields, which know its model."""
    from tracker.catalog import editing

    return editing.DeadlineFields if type_ == "deadline" else editing.MeetingFields


def add(app: App, type_: str, said: Callable[[Any], str], values: dict[str, Any]) -> None:
    """Add a deadline or meeting from its options (``--slug``, ``--treaty``, ``--source``
    and ``--source-grade`` among them) and print ``said`` of the new row, once saved."""
    from tracker.catalog import editing
    from tracker.db import transaction

    where = {name: values.pop(name, None) for name in ("slug", "treaty", "source", "source_grade")}
    fields = _fields(type_).parse(recorded_on=app.as_of.date(), **values)
    with transaction(app.sessions) as session:
        line = said(editing.add(session, fields, now=app.as_of, origin="cli", **where))
    click.echo(_with(line, fields.said))


def edit(app: App, type_: str, slug: str, **values: str | None) -> None:
    """Change a deadline or meeting and print what changed, once saved."""
    from tracker.catalog import editing
    from tracker.db import transaction

    where = {name: values.pop(name, None) for name in ("treaty", "source", "source_grade")}
    fields = _fields(type_).parse(recorded_on=app.as_of.date(), **values)
    with transaction(app.sessions) as session:
        _, changes = editing.edit(session, slug, fields, now=app.as_of, origin="cli", **where)
        described = [f"{c.field} {c.old or '—'} -> {c.new or '—'}" for c in changes]
    click.echo(_with(f"{slug}: " + (", ".join(described) or "nothing changed"), fields.said))


def _with(line: str, said: list[str]) -> str:
    """A success line with what the edit adds to it, in brackets."""
    return f"{line} ({'; '.join(said)})" if said else line


def add_command(
    group: click.Group,
    type_: str,
    editing: Callable[[Any], Any],
    said: Callable[[Any], str],
) -> None:
    """``GROUP add TITLE [options]``: add an item and print ``said`` of it."""

    @group.command("add", help=f"Add a {type_}.")
    @click.argument("title")
    @editing
    @shared_options
    @options.slug
    @pass_app
    def add_(app: App, /, **values: Any) -> None:
        add(app, type_, said, values)


def edit_command(group: click.Group, type_: str, editing: Callable[[Any], Any]) -> None:
    """``GROUP edit SLUG [options]``: change an item, each change kept in its history."""

    @group.command("edit", help=f"Change a {type_}; each change is recorded in its history.")
    @click.argument("slug")
    @click.option("--title")
    @editing
    @shared_options
    @pass_app
    def edit_(app: App, /, slug: str, **values: str | None) -> None:
        edit(app, type_, slug, **values)


def remove_command(group: click.Group, type_: str) -> None:
    """``GROUP remove SLUG``: remove the item, keep its history."""

    @group.command("remove", help=f"Remove a {type_} (its history stays).")
    @click.argument("slug")
    @pass_app
    def remove(app: App, slug: str) -> None:
        from tracker.catalog import editing, queries
        from tracker.db import transaction

        find = queries.deadline if type_ == "deadline" else queries.meeting
        with transaction(app.sessions) as session:
            editing.remove(session, find(session, slug), now=app.as_of, origin="cli")
        click.echo(f"removed {type_} {slug}")


def show_command(
    group: click.Group,
    description: str,
    load: Callable[[App, str], dict[str, Any]],
    shown: str,
    details: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """``GROUP show SLUG [--json]``: what ``load`` gives, as JSON or as the fields
    ``shown`` names (see :func:`output.record`), its ``details``, sources and history."""

    @group.command("show", help=description)
    @click.argument("slug")
    @options.as_json
    @pass_app
    def show(app: App, slug: str, as_json: bool) -> None:
        data = load(app, slug)
        output.record(as_json, data, shown, details)


def load_item(type_: str) -> Callable[[App, str], dict[str, Any]]:
    """A deadline's or meeting's data in full, as `show` prints it."""

    def load(app: App, slug: str) -> dict[str, Any]:
        from tracker.views import service

        with app.sessions() as session:
            base_url = app.settings.feeds.base_url
            return service.item(session, type_, slug, app.as_of, base_url, app.known_at)

    return load


def claim_command(group: click.Group, type_: str) -> None:
    """``GROUP claim SLUG --field F --value V --source URL|KEY``: what one source says."""
    fields = "due" if type_ == "deadline" else "starts, ends or location"

    @group.command("claim", help=f"Record what one source says of a {type_}'s field.")
    @click.argument("slug")
    @click.option("--field", "field_", required=True, metavar="FIELD", help=fields)
    @click.option("--value", required=True, metavar="TEXT", help="A date, or TBA; a place.")
    @click.option("--source", required=True, metavar="URL|KEY")
    @click.option("--note")
    @pass_app
    def claim(app: App, slug: str, field_: str, value: str, source: str, note: str | None) -> None:
        from tracker.catalog import source_editing
        from tracker.db import transaction

        with transaction(app.sessions) as session:
            claimed = source_editing.claim(
                session, type_, slug, field_, value, source=source, now=app.as_of, note=note
            )
            line = f"{slug}: {field_} {claimed.claim.value} according to {claimed.claim.source.key}"
        if claimed.conflicting:
            line += f" (its sources disagree on {field_}: see `tracker {type_} show {slug}`)"
        click.echo(line)


def item_commands(
    group: click.Group,
    type_: str,
    editing: Callable[[Any], Any],
    said: Callable[[Any], str],
    show: tuple[str, str],
    details: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """A deadline's or meeting's add, edit, remove and show commands; ``show`` is the show
    command's help and the fields it prints."""
    add_command(group, type_, editing, said)
    edit_command(group, type_, editing)
    remove_command(group, type_)
    claim_command(group, type_)
    show_command(group, show[0], load_item(type_), show[1], details)
