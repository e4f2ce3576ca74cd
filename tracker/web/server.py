"""Running the app with uvicorn: in the foreground (``tracker serve``) or in a thread beside
the scheduler (``tracker daemon --serve``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from tracker.web.app import create_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.clock import Clock
    from tracker.settings import Settings


def make_server(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> uvicorn.Server:
    """A server on ``[server] host`` and ``port`` (the CLI's --host and --port are applied
    to the settings at the edge)."""
    config = uvicorn.Config(
        create_app(settings, sessions, clock),
        host=settings.server.host,
        port=settings.server.port,
        log_level="warning",
        server_header=False,
    )
    return uvicorn.Server(config)


@dataclass
class Background:
    """A server in a daemon thread; uvicorn installs no signal handlers off the main thread."""

    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(server: uvicorn.Server, timeout: float = 10) -> Background:
    """Start ``server`` in a daemon thread and wait until it listens."""
    thread = threading.Thread(target=server.run, name="tracker-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise RuntimeError("the web server did not start (is the port in use?)")
    return Background(server, thread)
