"""``tracker notifiers`` (list, test), ``tracker feed build``, and what ``tracker digest``
does (the command itself is declared in ``cli/alerts.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli import output

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tracker.cli.app import App
    from tracker.outbox.digest_notices import DueDigest


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def notifiers(ctx: click.Context, as_json: bool) -> None:
    """List the notifier plugins: configured or not, where from, and any problem."""
    if ctx.invoked_subcommand is not None:
        return
    from tracker.notifiers.registry import statuses

    app: App = ctx.obj
    found = statuses(app.settings)
    if as_json:
        output.emit_json(
            [
                {
                    "name": s.name,
                    "configured": s.configured,
                    "audience": s.audience,
                    "origin": s.origin,
                    "target": s.target,
                    "problem": s.problem,
                }
                for s in found
            ]
        )
        return
    rows = [
        (
            s.name,
            "broken" if s.problem else "yes" if s.configured else "no",
            s.audience or "",
            f"{s.origin} ({s.target})",
            s.problem or "",
        )
        for s in found
    ]
    output.table(("name", "configured", "audience", "from", "problem"), rows)


@notifiers.command("test")
@click.argument("name")
@click.option(
    "--to",
    "address",
    metavar="EMAIL",
    help="Recipient: an email address (email), or one service's name (apprise: else all).",
)
@click.pass_obj
def test_notifier(app: App, name: str, address: str | None) -> None:
    """Send a test message through the notifier NAME."""
    from dataclasses import replace

    from tracker.errors import InvalidInput, TrackerError
    from tracker.notifiers.base import DeliveryError, Message, Publisher, Recipient
    from tracker.notifiers.registry import plugin

    notifier = plugin(name).build(app.settings)
    if notifier is None:
        raise TrackerError(f"notifier {name!r} is not configured (see `tracker notifiers`)")
    if isinstance(notifier, Publisher):
        notifier.close()
        raise TrackerError(f"{name!r} publishes a feed and sends nothing: try `tracker feed build`")
    if notifier.audience == "subscriber" and not address:
        raise InvalidInput(f"notifier {name!r} sends to a person: give --to EMAIL")
    now = app.as_of
    message = Message(
        kind="test",
        identity=f"test:{name}:{now.isoformat()}",
        subject="Test message from the arms control treaty tracker",
        text=f"This is a test of the {name!r} notifier, sent {now:%Y-%m-%d %H:%M} UTC.\n",
        created_at=now,
    )
    # A broadcast notifier sends to each of its services, addressed by name.
    names = [address] if address else list(notifier.recipients())
    try:
        for to in names:
            notifier.deliver(replace(message, recipient=Recipient(to)))
    except DeliveryError as exc:
        kind = "permanent" if exc.permanent else "temporary"
        raise TrackerError(f"{name}: {kind} failure: {exc}") from None
    finally:
        notifier.close()
    click.echo(f"{name}: test message sent" + (f" to {', '.join(names)}" if names else ""))


@click.group()
def feed() -> None:
    """RSS, Atom and iCalendar feeds."""


@feed.command("build")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into (default: the feed directory of the settings).",
)
@click.pass_obj
def build(app: App, out: Path | None) -> None:
    """Write feed.xml, atom.xml, calendar.ics and the per-treaty feeds now."""
    from tracker.publish.build import build_feeds

    with app.sessions() as session:
        report = build_feeds(session, app.settings, out, as_of=app.as_of)
    click.echo(
        f"{report.directory}: {len(report.written)} written, {len(report.unchanged)} unchanged"
    )


def _chosen(session: Session, email: str | None) -> list[str] | None:
    """The one subscriber asked for (who must have digests), or everyone (None)."""
    if email is None:
        return None
    from tracker.alerts import subscribers
    from tracker.errors import InvalidInput

    sub = subscribers.get(session, email)
    if sub.digest == "none":
        raise InvalidInput(f"{sub.email} gets no digests (subscriber edit --digest weekly|daily)")
    return [sub.email]


def _said(found: DueDigest, done: str = "recorded") -> str:
    """What became (or would become: ``done``) of one digest, in one line."""
    sub, key = found.subscriber, found.period.key
    if found.notice is None:
        return f"{key} for {sub.email}: nothing new, not sent (no --empty-digests)"
    if found.resend:
        again = "resent" if done == "recorded" else "to be resent"
        return f"{key} for {sub.email}: {again} (resend {found.resend})"
    return f"{key} for {sub.email}: " + (f"{done} (forced)" if found.forced else done)


def preview_digests(app: App, email: str | None, *, force: bool) -> None:
    """Print the text part of each digest ``send_digests`` would send now (what each
    became on stderr); nothing is written."""
    from tracker.alerts import tokens
    from tracker.notifiers.compose import render
    from tracker.outbox.digest_notices import due

    now, mailto = app.as_of, app.settings.smtp.list_unsubscribe
    links = tokens.from_settings(app.settings).links(app.settings.feeds.base_url)
    with app.sessions() as session:
        found = due(session, app.settings, now, _chosen(session, email), force=force)
        for digest in found:
            click.echo(_said(digest, "due"), err=True)
            if digest.notice is not None:
                message = digest.message()
                assert message.recipient is not None
                click.echo(render(message, links(message.recipient), mailto)[0], nl=False)
        session.rollback()
    if not found:
        click.echo("no digest due now" + (f" for {email.lower()}" if email else ""), err=True)


def send_digests(app: App, email: str | None, *, force: bool) -> None:
    """Record the digests due and not yet sent (``force``: and a resend of the latest of
    those who had it), then deliver the outbox. Without ``email``, the daemon's round
    too (alerts and change notices are recorded), as a daemon would."""
    from tracker.daemon.system import configured_notifiers
    from tracker.db import transaction
    from tracker.outbox.digest_notices import record_digests
    from tracker.outbox.worker import Worker

    worker = Worker(app.sessions, app.settings, app.clock, configured_notifiers(app.settings))
    now = app.as_of
    with transaction(app.sessions) as session:
        found, recorded = record_digests(
            session, app.settings, worker.channels, now, _chosen(session, email), force=force
        )
        lines = [_said(digest) for digest in found]
    if email is None:
        worker.record()  # its digests are the ones recorded above: none is left due
    sent = worker.deliver()
    for line in lines:
        click.echo(line)
    resent = sum(1 for digest in found if digest.resend)
    click.echo(
        f"recorded {recorded} digest(s)"
        + (f" ({resent} resent)" if resent else "")
        + f"; sent {sent} delivery(ies)"
    )


COMMANDS = [notifiers, feed]
