"""The daemon's surroundings: which notifier plugins it loads, systemd notification, logging."""

from __future__ import annotations

import logging
import os
import socket
import sys

from tracker.notifiers.base import Notifier, Publisher
from tracker.settings import Settings

log = logging.getLogger("tracker.daemon")


def configured_notifiers(settings: Settings) -> dict[str, Notifier]:
    """Notifier plugins from the ``tracker.notifiers`` entry points; broken ones are
    reported and skipped, so one bad plugin does not silence the others."""
    from tracker.notifiers.registry import load_notifiers

    loaded = load_notifiers(settings)
    for problem in loaded.problems:
        log.warning("notifier %s skipped: %s", problem.name, problem.message)
    return {notifier.name: notifier for notifier in loaded.notifiers}


def configured_publishers(settings: Settings) -> list[Publisher]:
    """The feed publishers, looked up once per set of settings rather than per build
    (the entry points cost 7-15 ms to read)."""
    from tracker.publish.build import installed_publishers

    return installed_publishers(settings)


def systemd_notify(state: str) -> None:
    """Tell systemd (``Type=notify``) about readiness; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.warning("systemd notification failed: %s", exc)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tracker")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").addHandler(handler)
