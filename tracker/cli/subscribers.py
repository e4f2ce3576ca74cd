"""`tracker subscriber add|edit|remove|list|show`: who receives alerts and digests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from tracker.cli import output
from tracker.cli.app import App

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.alerts.models import Subscriber

pass_app = click.make_pass_decorator(App)


def _subscriber_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--name"),
            click.option("--tz", metavar="ZONE", help="IANA zone for digests, e.g. Europe/Geneva."),
            click.option("--digest", type=click.Choice(["daily", "weekly", "none"])),
            click.option(
                "--digest-day",
                metavar="DAY",
                help="Weekly digests: the weekday (mon … sun; 'default': [digest] weekday).",
            ),
            click.option(
                "--digest-hour",
                metavar="HOUR",
                help="Local hour of the digest, 0–23 ('default': [digest] local_hour).",
            ),
            click.option(
                "--empty-digests/--no-empty-digests",
                default=None,
                help="Send a digest with nothing in it ('nothing new'); default: [digest].",
            ),
            click.option(
                "--immediate/--no-immediate",
                default=None,
                help="Send each alert and change as it happens.",
            ),
            click.option(
                "--treaty",
                "treaties",
                multiple=True,
                metavar="SLUG",
                help="Only items of these treaties (repeat).",
            ),
            click.option(
                "--kind",
                "kinds",
                multiple=True,
                metavar="KIND",
                help="Only items of these kinds (repeat).",
            ),
            click.option("--lead", metavar="LEADS", help="Own alert lead times, e.g. 30d,7d."),
        ]
    ):
        func = option(func)
    return func


def _fields(
    name: str | None,
    tz: str | None,
    digest: str | None,
    immediate: bool | None,
    treaties: tuple[str, ...],
    kinds: tuple[str, ...],
    lead: str | None,
    digest_day: str | None,
    digest_hour: str | None,
    empty_digests: bool | None,
    digest_defaults: bool = False,
) -> Any:
    from tracker.alerts import subscribers

    return subscribers.values(
        name=name,
        tz=tz,
        digest=digest,
        digest_day=digest_day,
        digest_hour=digest_hour,
        empty_digests=empty_digests,
        digest_defaults=digest_defaults,
        immediate=immediate,
        treaties=treaties or None,
        kinds=kinds or None,
        leads=lead,
    )


@click.group()
def subscriber() -> None:
    """People who receive alerts and digests."""


@subscriber.command("add")
@click.argument("email")
@_subscriber_options
@pass_app
def subscriber_add(app: App, /, email: str, **options: Any) -> None:
    """Add a subscriber (weekly digest, no immediate alerts unless told)."""
    from tracker.alerts import subscribers

    fields, now = _fields(**options), app.clock.now()
    international = app.settings.smtp.smtputf8
    _save(
        app,
        "added",
        lambda session: subscribers.add(
            session, email, fields, now=now, international=international
        ),
    )


@subscriber.command("edit")
@click.argument("email")
@_subscriber_options
@click.option("--resume", is_flag=True, help="Lift a suspension (after bounces).")
@click.option(
    "--digest-defaults",
    is_flag=True,
    help="Forget their own digest day, hour and empty digests: follow [digest].",
)
@pass_app
def subscriber_edit(app: App, /, email: str, resume: bool, **options: Any) -> None:
    """Change a subscriber's settings or filters."""
    from tracker.alerts import subscribers

    fields = _fields(**options) | (subscribers.values(resume=True) if resume else {})
    _save(app, "updated", lambda session: subscribers.edit(session, email, fields))


def _save(app: App, done: str, change: Callable[[Session], Subscriber]) -> None:
    """Make ``change`` in one transaction (the plan marked with it), then say so."""
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        sub = change(session)
    click.echo(f"{done} subscriber {sub.email}")


@subscriber.command("remove")
@click.argument("email")
@pass_app
def subscriber_remove(app: App, email: str) -> None:
    """Remove a subscriber; their pending deliveries fail."""
    from tracker.alerts import subscribers
    from tracker.db import transaction

    with transaction(app.sessions) as session:
        subscribers.remove(session, email)
    click.echo(f"removed subscriber {email.lower()}")


@subscriber.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def subscriber_list(app: App, as_json: bool) -> None:
    """List subscribers."""
    from tracker.alerts import subscribers

    with app.sessions() as session:
        rows = [subscribers.as_dict(s, app.settings.digest) for s in subscribers.listing(session)]
    output.listing(
        as_json,
        rows,
        ["email", "name", "digest", "immediate", "treaties", "kinds", "leads", "state"],
        [
            [
                r["email"],
                r["name"],
                r["schedule"],
                "yes" if r["immediate"] else "no",
                ",".join(r["treaties"]),
                ",".join(r["kinds"]),
                r["leads"],
                _state(r),
            ]
            for r in rows
        ],
    )


@subscriber.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def subscriber_show(app: App, email: str, as_json: bool) -> None:
    """Show one subscriber."""
    from tracker.alerts import subscribers

    with app.sessions() as session:
        row = subscribers.as_dict(subscribers.get(session, email), app.settings.digest)
    if as_json:
        output.emit_json(row)
        return
    shown = {k: v for k, v in row.items() if k != "digest_schedule"}
    if defaults := row["digest_schedule"]["defaults"]:
        shown["schedule"] += f" ({', '.join(defaults)}: the [digest] default)"
    output.fields([(key, ",".join(v) if isinstance(v, list) else v) for key, v in shown.items()])


def _state(row: dict[str, Any]) -> str:
    """Active, pending confirmation, unsubscribed or suspended, with since when."""
    if row["state"] == "suspended":
        return f"suspended since {row['suspended_at'][:16]} ({row['bounces']} bounces)"
    if row["state"] == "unsubscribed":
        return f"unsubscribed since {row['unsubscribed_at'][:16]}"
    if row["state"] == "pending confirmation":
        return f"pending confirmation since {row['created_at'][:16]}"
    return "active"


COMMANDS = [subscriber]
