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
    *,
    base_url: str,
) -> None:
    """Items as their agenda JSON (each with the ``link`` of its page under ``base_url``),
    else a table of their ``columns`` and countdown."""
    listing(
        as_json,
        [item.as_dict(base_url) for item in found],
        headers,
        [(*columns(item), item.countdown.human) for item in found],
        title=title,
    )


def days(item: Item) -> str:
    """An item's days to go as a table cell: ``35`` for a day, ``40–404`` for a wider
    window (to its first and last day), nothing for a date to be announced."""
    counted = item.countdown
    if counted.days_min is None or counted.days_max is None:
        return ""
    if counted.days_remaining is not None:
        return str(counted.days_remaining)
    return f"{counted.days_min}–{counted.days_max}"


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
    """A show command's output: ``data`` as JSON, else the fields named by ``shown``, the
    item's confidence (and a series' end and occurrences), the ``details``, its claims,
    sources and history.

    ``shown`` is ``label=key`` words (a bare word is both; ``_`` in a label is a space);
    ``label=key:text`` prints ``text`` when the value is empty. Empty fields are left out.
    A status, a treaty, an end and a confidence are said in words.
    """
    if as_json:
        emit_json(data)
        return
    pairs, keys = [], set()
    for word in shown.split():
        label, _, key = word.partition("=")
        key, _, instead = (key or label).partition(":")
        keys.add(key)
        pairs.append((label.replace("_", " "), _said(data, key) or instead or None))
    if "treaty" not in keys and data.get("treaty"):
        pairs.append(("treaty", _said(data, "treaty")))
    fields(pairs + _more(data))
    if details is not None:
        details(data)
    _claims(data)
    _sources_and_history(data)


def _said(data: dict[str, Any], key: str) -> Any:
    """A shown field's value as a reader says it."""
    from tracker.views.wording import status_phrase

    value = data.get(key)
    if key == "status" and value:
        return status_phrase(value)
    if key == "treaty" and value and data.get("treaty_name"):
        return f"{data['treaty_name']} ({value})"
    if isinstance(value, dict):  # a meeting's end
        return value.get("when")
    return value


def _more(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The confidence; a recurring meeting's first day, end, next and remaining ones."""
    from tracker.views.wording import confidence_phrase

    more: list[tuple[str, Any]] = []
    if data.get("confidence"):
        more.append(("confidence", confidence_phrase(data["confidence"])))
    more += [("track record", r["note"]) for r in data.get("track_record") or () if r["poor"]]
    if not data.get("recurrence") or "remaining_occurrences" not in data:
        return more
    following = data.get("next_occurrence")
    left = [o["when"] for o in data["remaining_occurrences"]]
    count = data.get("remaining_count")
    if count is None:
        remaining = ", ".join(left) + (", … (no end)" if left else "")
    else:
        more_left = ", …" if count > len(left) else ""
        remaining = f"{count}" + (f": {', '.join(left)}{more_left}" if left else "")
    more += [
        ("first", data.get("recurrence_starts")),
        ("series ends", _series_end(data.get("recurrence_end"))),
        ("next", f"{following['when']} ({following['human']})" if following else "none left"),
        ("remaining", remaining),
    ]
    return more


def _series_end(end: dict[str, Any] | None) -> str:
    if end is None:
        return "no end"
    said = f"on {end['until']}" if end.get("until") else f"after {end['count']} occurrences"
    return said + (f" (last: {end['last']})" if end.get("last") else "")


def _claims(data: dict[str, Any]) -> None:
    """Each field's claims side by side, flagged where the sources disagree."""
    from tracker.views.wording import source_phrase

    if not data.get("claims"):
        return
    click.echo("claims:" + (" (sources disagree)" if data.get("conflicting") else ""))
    for field in data["claims"]:
        current = field["current"] if field["current"] is not None else "not set"
        flag = " — sources disagree" if field["conflicting"] else ""
        click.echo(f"  {field['field']}: tracker has {current}{flag}")
        for claim in field["claims"]:
            note = f" ({claim['note']})" if claim.get("note") else ""
            click.echo(f"    {claim['value']}  per {source_phrase(claim['source'])}{note}")


def _sources_and_history(data: dict[str, Any]) -> None:
    from tracker.views.wording import source_phrase

    if data.get("sources"):
        click.echo("sources:")
        for source in data["sources"]:
            click.echo(f"  - {source_phrase(source)}")
            if source.get("url"):
                click.echo(f"    {source['url']}")
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
