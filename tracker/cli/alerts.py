"""`tracker alerts list|retry|status|workers`, `tracker digest`, `tracker daemon`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tracker.cli import output
from tracker.cli.app import App

if TYPE_CHECKING:
    from tracker.outbox.cluster import Cluster

pass_app = click.make_pass_decorator(App)


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
    """Each channel's transport (ok, or paused since when and why) and its backlog; the
    polled calendars whose last poll failed; the planner and workers (`alerts workers`)."""
    from tracker.daemon.system import configured_notifiers
    from tracker.interchange.calendars import failing
    from tracker.outbox import transports

    channels = list(configured_notifiers(app.settings))
    with app.sessions() as session:
        found = transports.status(session.connection(), channels, app.clock.now())
        calendars = failing(session.connection())
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
    if not as_json:  # (JSON: `tracker source calendars --json`, `tracker alerts workers --json`)
        for calendar in calendars:
            click.echo(calendar.problem())
        _print_cluster(_read_cluster(app))


@alerts.command("workers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def alerts_workers(app: App, as_json: bool) -> None:
    """The active planner and its node, the backlog due, the oldest claim in hand, and each
    planner and worker: its heartbeat and what it sent (per minute since it started)."""
    nodes = _read_cluster(app)
    if as_json:
        output.emit_json(nodes.as_dict())
    else:
        _print_cluster(nodes)


def _read_cluster(app: App) -> Cluster:
    from sqlalchemy.engine import make_url

    from tracker.daemon.lock import ADVISORY_KEY, FileLock, lock_for
    from tracker.outbox import cluster

    url = app.settings.effective_database_url
    lock = (
        None
        if make_url(url).get_backend_name() == "postgresql"
        else lock_for(url, app.settings.data_dir)
    )
    lock_file = lock.path if isinstance(lock, FileLock) else None
    with app.sessions() as session:
        return cluster.read(
            session.connection(), app.clock.now(), lock_file=lock_file, advisory_key=ADVISORY_KEY
        )


def _print_cluster(nodes: Cluster) -> None:
    planner = nodes.planner
    node = f" on node {planner.node}" if planner and planner.node else ""
    click.echo(f"planner: {planner.name or 'active'}{node}" if planner else "planner: none active")
    oldest = nodes.oldest_claim_age_seconds
    claim = "" if oldest is None else f", oldest claim {oldest:.0f} s ({nodes.oldest_claim_by})"
    click.echo(f"deliveries: {nodes.backlog} due, {nodes.in_hand} in hand{claim}")
    if nodes.processes:
        output.table(
            ["process", "role", "host", "pid", "state", "seen", "sent", "failed", "sent/min"],
            [
                [
                    p.name,
                    p.role,
                    p.host,
                    p.pid,
                    "up" if p.up else "silent",
                    f"{p.seen_seconds_ago:.0f} s ago",
                    p.sent,
                    p.failed,
                    f"{p.sent_per_minute:.1f}",
                ]
                for p in nodes.processes
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
@click.option("--serve", is_flag=True, help="Also run `tracker serve`, in a child process.")
@click.option(
    "--role",
    type=click.Choice(["all", "planner"]),
    default="all",
    show_default=True,
    help="planner: record only, `tracker worker` processes deliver (PostgreSQL).",
)
@pass_app
def daemon(app: App, serve: bool, role: str) -> None:
    """Run the scheduler in the foreground: alerts, digests, deliveries, feeds."""
    from tracker.cli.worker import needs_postgres
    from tracker.clock import SystemClock
    from tracker.daemon.lock import lock_for
    from tracker.daemon.runner import Daemon
    from tracker.daemon.system import configure_logging
    from tracker.settings import load_settings

    settings = app.settings
    if role == "planner":
        needs_postgres(settings, "tracker daemon --role planner")
    configure_logging(settings.log_level)
    runner = Daemon(
        load_settings=lambda: load_settings(app.config_file, database_url=app.database_url),
        sessions=app.sessions,
        clock=SystemClock(),
        lock=lock_for(settings.effective_database_url, settings.data_dir),
        role=role,
    )
    if not serve:
        raise SystemExit(runner.run())
    from tracker.web.server import ServerProcess

    # A process of its own: a flood of connections cannot take the daemon's descriptors.
    web = ServerProcess.for_settings(settings, app.config_file, app.database_url).start()
    try:
        raise SystemExit(runner.run())
    finally:
        web.stop()


COMMANDS = [alerts, digest, daemon]
