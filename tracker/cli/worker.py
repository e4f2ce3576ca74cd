"""`tracker worker`: deliver the outbox alongside other workers (PostgreSQL only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracker.cli.app import App

if TYPE_CHECKING:
    from tracker.settings import Settings

pass_app = click.make_pass_decorator(App)


@click.command()
@click.option("--name", help="This worker's name in claims and status (default: host-pid).")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(1, 5000),
    default=50,
    show_default=True,
    help="Deliveries claimed at a time.",
)
@pass_app
def worker(app: App, name: str | None, batch_size: int) -> None:
    """Claim and deliver due deliveries, beside any number of other workers, until
    stopped (SIGTERM). Needs PostgreSQL; a planner (`tracker daemon --role planner`)
    records what they send."""
    import os
    import socket

    from tracker.clock import SystemClock
    from tracker.daemon.delivery_worker import DeliveryWorker, checked_name
    from tracker.daemon.system import configure_logging
    from tracker.settings import load_settings

    settings = app.settings
    needs_postgres(settings, "tracker worker")
    host = "".join(c if c.isalnum() or c in "._-" else "-" for c in socket.gethostname())
    name = checked_name(name if name is not None else f"{host}-{os.getpid()}"[-100:])
    configure_logging(settings.log_level)
    runner = DeliveryWorker(
        load_settings=lambda: load_settings(app.config_file, database_url=app.database_url),
        sessions=app.sessions,
        clock=SystemClock(),
        name=name,
        batch_size=batch_size,
    )
    raise SystemExit(runner.run())


def needs_postgres(settings: Settings, command: str) -> None:
    """Refuse ``command`` in one line unless the database is PostgreSQL."""
    from sqlalchemy.engine import make_url

    from tracker.errors import InvalidInput

    if make_url(settings.effective_database_url).get_backend_name() != "postgresql":
        raise InvalidInput(
            f"{command} needs PostgreSQL; on SQLite `tracker daemon` records and delivers "
            "in one process"
        )


COMMANDS = [worker]
