"""Printing sources and change history under `show` commands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tracker.catalog.models import Change


def changes_as_dicts(changes: Iterable[Change]) -> list[dict[str, Any]]:
    return [
        {
            "field": c.field,
            "old": c.old,
            "new": c.new,
            "at": c.changed_at.isoformat(),
            "source": c.source.as_dict() if c.source else None,
            "note": c.note,
        }
        for c in changes
    ]


def print_sources_and_history(data: dict[str, Any]) -> None:
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
            line = f"  {change['at'][:10]}  {change['field']}: {change['old']} -> {change['new']}"
            click.echo(line + (f"  ({change['source']['title']})" if change["source"] else ""))
