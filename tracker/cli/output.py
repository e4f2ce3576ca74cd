"""Printing: rich tables on a terminal, plain aligned text when piped, JSON on request."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tracker.views.items import Item


def is_terminal() -> bool:
    return sys.stdout.isatty()


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if is_terminal():
        from rich.console import Console
        from rich.table import Table

        rich_table = Table(*headers, title=title, title_justify="left")
        for row in cells:
            rich_table.add_row(*row)
        Console().print(rich_table)
        return
    if title:
        click.echo(title)
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def listing(
    as_json: bool,
    data: Sequence[Any],
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
) -> None:
    """A list command's output: ``data`` as JSON, else ``rows`` as a table."""
    if as_json:
        emit_json(list(data))
    else:
        table(headers, rows, title=title)


def agenda(
    as_json: bool,
    found: Sequence[Item],
    headers: Sequence[str],
    columns: Callable[[Item], tuple[Any, ...]],
    title: str | None = None,
) -> None:
    """Items as their agenda JSON, else a table of their ``columns`` and countdown."""
    listing(
        as_json,
        [item.as_agenda() for item in found],
        headers,
        [(*columns(item), item.countdown.human) for item in found],
        title=title,
    )


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        if value not in (None, "", []):
            click.echo(f"{label.ljust(width)}  {value}")


def record(
    as_json: bool,
    data: dict[str, Any],
    shown: str,
    details: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """A show command's output: ``data`` as JSON, else the fields named by ``shown``,
    the ``details``, its sources and its history.

    ``shown`` is ``label=key`` words (a bare word is both; ``_`` in a label is a space);
    ``label=key:text`` prints ``text`` when the value is empty. Empty fields are left out.
    """
    if as_json:
        emit_json(data)
        return
    pairs = []
    for word in shown.split():
        label, _, key = word.partition("=")
        key, _, instead = (key or label).partition(":")
        pairs.append((label.replace("_", " "), data.get(key) or instead or None))
    fields(pairs)
    if details is not None:
        details(data)
    _sources_and_history(data)


def _sources_and_history(data: dict[str, Any]) -> None:
    if data.get("sources"):
        click.echo("sources:")
        for source in data["sources"]:
            parts = [source["title"], source.get("publisher"), source.get("url")]
            click.echo("  - " + " — ".join(p for p in parts if p))
    if data.get("history"):
        click.echo("history:")
        for change in data["history"]:
            if change["field"] == "created":
                click.echo(f"  {change['at'][:10]}  created")
                continue
            old, new = (change[key] if change[key] is not None else "—" for key in ("old", "new"))
            line = f"  {change['at'][:10]}  {change['field']}: {old} -> {new}"
            click.echo(line + (f"  ({change['source']['title']})" if change["source"] else ""))


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback: a bar on a terminal, silence when piped."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def changes(slug: str, changed: Sequence[Any]) -> None:
    described = [f"{c.field} {c.old or '—'} -> {c.new or '—'}" for c in changed]
    click.echo(f"{slug}: " + (", ".join(described) or "nothing changed"))
