"""Options shared by listings, editors and `show` commands, as decorator lists."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracker.cli.app import App

if TYPE_CHECKING:
    from tracker.catalog.queries import Filter

F = TypeVar("F", bound=Callable[..., Any])

as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
source = click.option("--source", metavar="URL")
treaty = click.option("--treaty", metavar="SLUG")
slug = click.option("--slug", help="Default: derived from the title.")
body = click.option(
    "--body",
    metavar="TEXT",
    help="The body or forum it belongs to, e.g. 'IAEA Board of Governors' ('' clears it).",
)
confirm_ahead = click.option(
    "--confirm-ahead",
    metavar="DAYS",
    help="How long before an imprecise date's first day a firm date is usually announced, "
    "e.g. 14d; subscribers are alerted if none is recorded by then. none clears it.",
)


def group(*options: Callable[[Any], Any]) -> Callable[[F], F]:
    """One decorator applying ``options`` in the order given (first is first in --help)."""

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


_listing_options = group(
    click.option("--treaty", metavar="SLUG", help="Only items of this treaty."),
    click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind."),
    click.option("--within", metavar="DURATION", help="Only within e.g. 90d of today."),
    click.option(
        "--upcoming", "scope", flag_value="upcoming", default=True, help="Not yet passed (default)."
    ),
    click.option("--past", "scope", flag_value="past", help="Already passed."),
    click.option("--all", "scope", flag_value="all", help="Everything."),
    as_json,
)


def listing(func: Callable[[App, Filter, bool], None]) -> Callable[..., None]:
    """--treaty, --kind, --within, --upcoming/--past/--all and --json, handed to ``func``
    as one ``Filter`` (its today the app's; items to be announced listed too, unless
    --past) and the JSON flag. Goes under ``pass_app``."""

    def command(app: App, as_json: bool, **given: Any) -> None:
        from tracker.catalog.queries import check_filter

        flt = build_filter(app.today, **given)
        with app.sessions() as session:
            check_filter(session, flt, _listed_type())
        func(app, flt, as_json)

    return _listing_options(functools.update_wrapper(command, func))


def _listed_type() -> str | None:
    """What a listing lists, by its group (``deadline list``, ``meeting list``): its
    --kind must be a kind of that type."""
    parent = click.get_current_context().parent
    name = parent.info_name if parent is not None else None
    return name if name in ("deadline", "meeting") else None


def build_filter(
    today: date,
    scope: str = "upcoming",
    within: str | None = None,
    treaty: str | None = None,
    kinds: tuple[str, ...] = (),
) -> Filter:
    from tracker.catalog.queries import Filter, Scope
    from tracker.dates import parse_duration

    # A date to be announced may be any day ahead: listed, last, unless only the past is.
    return Filter(
        today=today,
        scope=Scope(scope),
        within=parse_duration(within) if within else None,
        treaty=treaty,
        kinds=kinds,
        undated=scope != "past",
    )
