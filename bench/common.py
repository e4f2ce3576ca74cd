"""What several benchmarks share: instants, environments, copies, ports and ratio rows."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.generate import AS_OF
from bench.harness import Figure, Row

NOTES: list[str] = []
# The daemon's tick and the digests run "as of" instants after the generated data.
TICK_AT = AS_OF + timedelta(hours=9)
DIGEST_AT = datetime(2026, 11, 23, 12, tzinfo=UTC)  # a Monday: weekly digests fall due


def tracker_env(home: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=url, TRACKER_DATA_DIR=str(home / "var"), **extra)
    return env


def ratio_row(
    bench: str, case: str, mine: list[float], floor: list[float], unit: str, target: str
) -> Row:
    tracker_fig, floor_fig = Figure(mine, unit), Figure(floor, unit)
    ratio = tracker_fig.median / floor_fig.median
    return Row(bench, case, tracker_fig, floor_fig, target, ratio, None)


def copy_db(path: Path, work: Path, name: str) -> Path:
    target = work / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(path, target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class OffersPipelining:
    """An aiosmtpd handler's EHLO offering PIPELINING (RFC 2920), as Postfix, Exim, Gmail
    and SES do (aiosmtpd takes pipelined commands but does not say so); ``pipelining``
    False leaves its reply as it is."""

    pipelining: bool = True

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself without this hook
        if not self.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def _serve_smtp(handler: Any, port: int, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def smtp_in_child(handler: Any) -> Iterator[int]:
    """An aiosmtpd server with ``handler`` in a child process of its own (so it does not
    take the bench's GIL): its port. Forked before any engine exists in this process
    (spawn would re-run the caller's main): the handler shares what it records through
    multiprocessing values or queues it was made with."""
    context = multiprocessing.get_context("fork")
    ready, stop = context.Event(), context.Event()
    port = free_port()
    process = context.Process(target=_serve_smtp, args=(handler, port, ready, stop), daemon=True)
    process.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the SMTP sink did not start")
        yield port
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()
