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
    from tracker.web.server import make_server

    if build:
        from tracker.publish.build import build_feeds

        with app.sessions() as session:
            build_feeds(session, app.settings, as_of=app.as_of)
    given = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    listen = app.settings.server.model_copy(update=given)
    settings = app.settings.model_copy(update={"server": listen})
    server = make_server(settings, app.sessions, app.clock)
    url = f"http://{server.config.host}:{server.config.port}/"
    click.echo(f"serving {app.settings.feed_dir} on {url}", err=True)
    server.run()


COMMANDS = [serve]
