"""`tracker deadline add|list|show|edit|done|remove`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracker.cli import items, options, output
from tracker.cli.app import App

if TYPE_CHECKING:
    from tracker.catalog.queries import Filter

pass_app = click.make_pass_decorator(App)

editing_options = options.group(
    click.option("--due", metavar="EXPR", help="Date expression, e.g. 'Q3 2027', or TBA."),
    options.treaty,
    options.body,
    click.option(
        "--kind",
        help="expiry, review-conference, data-exchange, notification, "
        "ratification, decision or other.",
    ),
    click.option("--alert", metavar="LEADS", help="Lead times, e.g. 90d,30d,7d."),
    options.confirm_ahead,
    click.option("--note"),
    click.option("--tz", metavar="ZONE", help="IANA time zone of the deadline."),
    click.option(
        "--status",
        help="pending, met (early too), missed (once its window closed), superseded or "
        "cancelled; open follows from the dates.",
    ),
)


@click.group()
def deadline() -> None:
    """Deadlines: expiries, review conferences, notifications."""


@deadline.command("done")
@click.argument("slug")
@click.option("--missed", is_flag=True, help="Mark it missed instead of met.")
@click.option("--on", "status_on", metavar="DATE", help="The day it was met (default: today).")
@pass_app
def done(app: App, slug: str, missed: bool, status_on: str | None) -> None:
    """Mark a deadline met (or --missed)."""
    items.edit(app, "deadline", slug, status="missed" if missed else "met", status_on=status_on)


@deadline.command("list")
@pass_app
@options.listing
def list_(app: App, flt: Filter, as_json: bool) -> None:
    """List deadlines with their countdowns."""
    from tracker.views import service

    with app.sessions() as session:
        found = service.deadlines(session, flt, app.as_of, app.known_at)
    output.agenda(
        as_json,
        found,
        ["slug", "due", "precision", "treaty", "body", "kind", "status", "countdown"],
        lambda i: (i.slug, i.when.text, i.when.precision, i.treaty, i.body, i.kind, i.status),
        base_url=app.settings.feeds.base_url,
    )


items.item_commands(
    deadline,
    "deadline",
    editing_options,
    lambda d: f"added deadline {d.slug} due {d.due_text or 'TBA'}, {d.confidence}",
    (
        "Show a deadline, its sources and its history.",
        "deadline=title slug due=when precision countdown=human treaty body kind status"
        " alerts=alert_leads confirm_by=confirmation_due notes",
    ),
)

COMMANDS = [deadline]
