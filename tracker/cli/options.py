"""Options shared by listings and editors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def listing(func: F) -> F:
    """--treaty, --kind, --within, --upcoming/--past/--all, --json."""
    for option in reversed(
        [
            click.option("--treaty", metavar="SLUG", help="Only items of this treaty."),
            click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind."),
            click.option("--within", metavar="DURATION", help="Only within e.g. 90d of today."),
            click.option(
                "--upcoming",
                "scope",
                flag_value="upcoming",
                default=True,
                help="Not yet passed (default).",
            ),
            click.option("--past", "scope", flag_value="past", help="Already passed."),
            click.option("--all", "scope", flag_value="all", help="Everything."),
            click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        ]
    ):
        func = option(func)
    return func


def build_filter(
    today: Any, scope: str, within: str | None, treaty: str | None, kinds: tuple[str, ...]
) -> Any:
    from tracker.catalog.queries import Filter, Scope
    from tracker.dates import parse_duration

    return Filter(
        today=today,
        scope=Scope(scope),
        within=parse_duration(within) if within else None,
        treaty=treaty,
        kinds=kinds,
    )
