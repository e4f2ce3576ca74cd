"""`tracker serve`: the feeds, the board and the JSON API over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tracker.cli.app import App


@click.command()
@click.option("--host", help="Address to bind (default: server.host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: server.port).")
@click.option("--build/--no-build", default=True, show_default=True, help="Build the feeds first.")
@click.pass_obj
def serve(app: App, host: str | None, port: int | None, build: bool) -> None:
    """Serve feed.xml, atom.xml, calendar.ics, the per-treaty feeds, the board and /api/."""
    import uvicorn

    from tracker.web.app import create_app

    if build:
        from tracker.feeds.build import build_feeds

        with app.sessions() as session:
            build_feeds(session, app.settings, as_of=app.as_of)
    web = create_app(app.settings, app.sessions, app.clock)
    host = host or app.settings.server.host
    port = app.settings.server.port if port is None else port
    click.echo(f"serving {app.settings.feed_dir} on http://{host}:{port}/", err=True)
    uvicorn.run(web, host=host, port=port, log_level="warning", server_header=False)


COMMANDS = [serve]
