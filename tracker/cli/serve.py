"""`tracker serve`: the board, a page for every item, the feeds and the JSON API over HTTP,
rendered from the database on request (nothing needs building first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tracker.cli.app import App


@click.command()
@click.option("--host", help="Address to bind (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: server.port).")
@click.option("--parent-pid", type=int, hidden=True, help="Stop when this process is gone.")
@click.pass_obj
def serve(app: App, host: str | None, port: int | None, parent_pid: int | None) -> None:
    """Serve the board, the pages, feed.xml, atom.xml, calendar.ics, the per-treaty feeds
    and /api/, within the limits of [server]."""
    from tracker.web.server import (
        base_url_mismatch,
        configure_logging,
        make_server,
        raise_file_limit,
        stop_when_orphaned,
    )

    given = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    listen = app.settings.server.model_copy(update=given)
    settings = app.settings.model_copy(update={"server": listen})
    configure_logging(settings.log_level)
    # Connections accepted in one go (the backlog) before any is refused, the database, logs.
    raise_file_limit(2 * listen.max_connections + 100)
    server = make_server(settings, app.sessions, app.clock)
    mismatch = base_url_mismatch(settings.feeds.base_url, listen.host, listen.port)
    if mismatch is not None:
        click.echo(f"warning: {mismatch}", err=True)
    click.echo(f"serving on http://{server.config.host}:{server.config.port}/", err=True)
    if parent_pid is not None:  # the server of `daemon --serve`: it ends with its daemon
        stop_when_orphaned(server, parent_pid)
    server.run()


COMMANDS = [serve]
