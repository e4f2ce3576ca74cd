"""``tracker notifiers`` (list, test) and ``tracker feed build``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli import output

if TYPE_CHECKING:
    from tracker.cli.app import App


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


COMMANDS = [notifiers, feed]
