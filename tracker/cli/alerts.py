"""`tracker subscriber ...`, `tracker alerts list|retry|status`, `tracker digest`,
`tracker daemon`."""

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
                f"suspended since {r['suspended_at'][:16]} ({r['bounces']} bounces)"
                if r["suspended_at"]
                else "active",
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


@click.group()
def alerts() -> None:
    """The outbox: deliveries of alerts, changes and digests."""


@alerts.command("list")
@click.option("--failed", is_flag=True, help="Only deliveries that gave up.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def alerts_list(app: App, failed: bool, as_json: bool) -> None:
    """List deliveries, newest first."""
    from tracker.outbox import notices as outbox

    with app.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": d.id,
                "event": d.notice.identity,
                "kind": d.notice.kind,
                "title": d.notice.title,
                "channel": d.channel,
                "recipient": d.recipient,
                "status": d.status,
                "attempts": d.attempts,
                "late": d.notice.late,
                "due_at": d.notice.due_at.isoformat(),
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                "last_error": d.last_error,
            }
            for d in outbox.listing(session, status="failed" if failed else None)
        ]
    output.listing(
        as_json,
        rows,
        ["id", "status", "channel", "recipient", "attempts", "title", "error"],
        [
            [
                r["id"],
                r["status"],
                r["channel"],
                r["recipient"],
                r["attempts"],
                r["title"][:60],
                (r["last_error"] or "")[:60],
            ]
            for r in rows
        ],
    )


@alerts.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Requeue every failed delivery.")
@pass_app
def alerts_retry(app: App, ids: tuple[int, ...], all_failed: bool) -> None:
    """Requeue failed deliveries; the daemon sends them at its next tick."""
    from tracker.db import transaction
    from tracker.errors import InvalidInput
    from tracker.outbox import notices as outbox

    if not ids and not all_failed:
        raise InvalidInput("name delivery IDs or use --all-failed")
    with transaction(app.sessions) as session:
        count = outbox.retry(session, ids, all_failed=all_failed, now=app.clock.now())
    click.echo(f"requeued {count} delivery(ies)")


@alerts.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def alerts_status(app: App, as_json: bool) -> None:
    """Each channel's transport (ok, or paused since when and why) and its backlog."""
    from tracker.daemon.system import configured_notifiers
    from tracker.outbox import transports

    channels = list(configured_notifiers(app.settings))
    with app.sessions() as session:
        found = transports.status(session.connection(), channels, app.clock.now())
    rows: list[dict[str, Any]] = [
        {
            "transport": t.name,
            "state": t.state,
            "paused_since": _iso(t.paused_since),
            "next_probe_at": _iso(t.next_probe_at),
            "last_error": t.last_error,
            "pending": t.pending,
            "oldest_pending": _iso(t.oldest_pending),
            "last_success_at": _iso(t.last_success_at),
            "paused_seconds": round(t.paused_seconds),
        }
        for t in found
    ]
    output.listing(
        as_json,
        rows,
        ["transport", "state", "pending", "oldest pending", "last success", "error"],
        [
            [
                r["transport"],
                f"paused since {r['paused_since'][:16]}" if r["paused_since"] else "ok",
                r["pending"],
                (r["oldest_pending"] or "")[:16],
                (r["last_success_at"] or "never")[:16],
                (r["last_error"] or "")[:80] if r["paused_since"] else "",
            ]
            for r in rows
        ],
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@click.command()
@click.option("--preview", is_flag=True, help="Print the text of the digests --send would send.")
@click.option("--send", is_flag=True, help="Record and send the digests due and not yet sent.")
@click.option("--force", is_flag=True, help="Also resend the latest digest (a new message).")
@click.option("--subscriber", "email", metavar="EMAIL", help="Only this subscriber's digest.")
@pass_app
def digest(app: App, preview: bool, send: bool, force: bool, email: str | None) -> None:
    """Preview or send the digests due now, each subscriber's on their own schedule."""
    from tracker.errors import InvalidInput

    if preview == send:
        raise InvalidInput("use exactly one of --preview and --send")
    from tracker.cli.notify import preview_digests, send_digests

    (preview_digests if preview else send_digests)(app, email, force=force)


@click.command()
@click.option("--serve", is_flag=True, help="Also run `tracker serve` in this process.")
@pass_app
def daemon(app: App, serve: bool) -> None:
    """Run the scheduler in the foreground: alerts, digests, deliveries, feeds."""
    from tracker.clock import SystemClock
    from tracker.daemon.lock import lock_for
    from tracker.daemon.runner import Daemon
    from tracker.daemon.system import configure_logging
    from tracker.settings import load_settings

    settings = app.settings
    configure_logging(settings.log_level)
    runner = Daemon(
        load_settings=lambda: load_settings(app.config_file, database_url=app.database_url),
        sessions=app.sessions,
        clock=SystemClock(),
        lock=lock_for(settings.effective_database_url, settings.data_dir),
    )
    if not serve:
        raise SystemExit(runner.run())
    from tracker.web.server import make_server, start_in_thread

    web = start_in_thread(make_server(settings, app.sessions, SystemClock()))
    try:
        raise SystemExit(runner.run())
    finally:
        web.stop()


COMMANDS = [subscriber, alerts, digest, daemon]
