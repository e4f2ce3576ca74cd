"""Running the app with uvicorn, within limits (:mod:`tracker.web.guard`): in the
foreground (``tracker serve``), in a child process the daemon watches
(``tracker daemon --serve``: a flood of connections there cannot take the daemon's file
descriptors or its event loop, so deliveries go on), or in a thread (tests)."""

from __future__ import annotations

import ipaddress
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import uvicorn

from tracker.web.app import create_app
from tracker.web.guard import BodyLimit, Limits, RepeatFilter, guarded_protocol
from tracker.web.headers import SecurityHeaders

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from tracker.clock import Clock
    from tracker.settings import ServerSettings, Settings

log = logging.getLogger("tracker.web")

GRACEFUL_SHUTDOWN_SECONDS = 5  # requests in hand are given this, then cut
STOP_SECONDS = 8.0  # a child server not gone by then is killed
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after each crash in a row
STEADY_SECONDS = 60.0  # a child that ran this long before dying starts the delays over


def limits(server: ServerSettings) -> Limits:
    return Limits(
        header_timeout=server.header_timeout_seconds,
        max_connections=server.max_connections,
        max_body_bytes=server.max_body_bytes,
    )


def make_server(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> uvicorn.Server:
    """A server on ``[server] host`` and ``port`` (the CLI's --host and --port are applied
    to the settings at the edge), with the limits of ``[server]``."""
    bounds = limits(settings.server)
    app = SecurityHeaders(BodyLimit(create_app(settings, sessions, clock), bounds.max_body_bytes))
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        http=guarded_protocol(bounds),
        timeout_keep_alive=int(max(1, settings.server.keepalive_seconds)),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        backlog=min(2048, bounds.max_connections),
        log_config=None,  # ours: see configure_logging
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    return uvicorn.Server(config)


def configure_logging(level: str = "WARNING") -> None:
    """Server logs to stderr, an error repeated in a flood said once a minute with a count."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatFilter())
    for name in ("uvicorn", "asyncio", "tracker"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("uvicorn").setLevel("WARNING")
    logging.getLogger("tracker").setLevel(level)


def raise_file_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` connections (and its own files) if the hard limit
    allows: a soft limit of 1,024 would run out before the connection cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


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


@dataclass
class ServerProcess:
    """``tracker serve`` as a child process, started again when it dies (after a delay
    that grows while it keeps dying), stopped with SIGTERM by :meth:`stop`.

    The child reads the same settings (the config file and database URL are handed down
    in its environment, never on its command line); it has a session of its own, so a
    Ctrl-C at the terminal reaches the daemon alone, which then stops it.
    """

    command: list[str]
    env: dict[str, str]
    address: tuple[str, int]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    @classmethod
    def for_settings(
        cls, settings: Settings, config_file: Path | None, database_url: str | None
    ) -> ServerProcess:
        env = dict(os.environ)
        if config_file is not None:
            env["TRACKER_CONFIG"] = str(config_file)
        if database_url is not None:
            env["TRACKER_DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "tracker", "serve", "--parent-pid", str(os.getpid())]
        return cls(command, env, (settings.server.host, settings.server.port))

    def start(self, timeout: float = 15) -> ServerProcess:
        """Start the child and wait until it listens; raise if it does not."""
        self.process = self._spawn()
        deadline = time.monotonic() + timeout
        # Listening is not enough: another process on the port (an earlier server, say)
        # answers too, while ours has died of it.
        while not self._listening() or self.process.poll() is not None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._end(self.process)
                raise RuntimeError("the web server did not start (is the port in use?)")
            time.sleep(0.05)
        self._watcher = threading.Thread(
            target=self._watch, name="tracker-serve-watch", daemon=True
        )
        self._watcher.start()
        log.info("serving on http://%s:%d/ (process %d)", *self.address, self.process.pid)
        return self

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        self._stopping.set()
        if self._watcher is not None:  # it notices within half a second: no new child
            self._watcher.join(timeout)
        if self.process is not None:
            self._end(self.process, timeout)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command, env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def _listening(self) -> bool:
        host = "127.0.0.1" if self.address[0] in ("0.0.0.0", "") else self.address[0]
        host = "::1" if host == "::" else host
        try:
            with socket.create_connection((host, self.address[1]), timeout=0.5):
                return True
        except OSError:
            return False

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            began = time.monotonic()
            while process.poll() is None:
                if self._stopping.wait(0.5):
                    return
            if self._stopping.is_set():
                return
            failures = 0 if time.monotonic() - began > STEADY_SECONDS else failures + 1
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS)) - 1] if failures else 0.0
            log.error(
                "the web server (process %d) ended with status %s; starting it again in %gs",
                process.pid,
                process.returncode,
                delay,
            )
            if self._stopping.wait(delay):
                return
            self.process = self._spawn()
            self.restarts += 1

    @staticmethod
    def _end(process: subprocess.Popen[bytes], timeout: float = STOP_SECONDS) -> None:
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


ORPHAN_CHECK_SECONDS = 1.0


def stop_when_orphaned(server: uvicorn.Server, parent_pid: int) -> None:
    """Stop ``server`` once the process ``parent_pid`` is gone (a daemon killed with -9
    cannot stop its server): it would go on holding the port the next daemon serves on."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        log.warning("the daemon (process %d) is gone: the web server stops", parent_pid)
        server.should_exit = True

    threading.Thread(target=watch, name="tracker-orphan-watch", daemon=True).start()


LOOPBACK_NAMES = frozenset(("localhost", "localhost.localdomain", "ip6-localhost"))


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_mismatch(base_url: str, host: str, port: int) -> str | None:
    """Why ``feeds.base_url`` does not point at a server on ``host:port``, or None.

    A base URL with a public name is taken as meant (a proxy may well stand in front);
    one on this machine's loopback is checked: it must name the served port, and a
    server listening beyond loopback is not reached through it by anyone else.
    """
    parts = urlsplit(base_url)
    named = parts.hostname or ""
    if not _loopback(named):
        return None
    try:
        base_port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"feeds.base_url {base_url} has no valid port"
    if base_port != port:
        return (
            f"feeds.base_url {base_url} points at port {base_port}, but this server listens "
            f"on {port}: links in feeds and emails will not reach it (set feeds.base_url)"
        )
    if not _loopback(host):
        return (
            f"feeds.base_url {base_url} is this machine only, but the server listens on "
            f"{host}:{port}: links in feeds and emails will not reach other readers "
            "(set feeds.base_url to the public address)"
        )
    return None
