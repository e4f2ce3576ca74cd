"""The real ``tracker daemon`` in tests: due alerts in its database, a counting SMTP server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tracker.alerts.models import Subscriber
from tracker.catalog.models import Deadline
from tracker.db import make_engine, make_session_factory, transaction
from tracker.outbox.models import Delivery, Notice

from ..notifiers.conftest import Mailbox

TRACKER = str(Path(sys.executable).parent / "tracker")


class SlowMailbox(Mailbox):
    """Takes a moment over each message, so kills land while one is in hand."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.15)
        return await super().handle_DATA(server, session, envelope)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def add_due_alerts(url: str, first: int, count: int, *, digest: str = "none") -> None:
    """Deadlines an hour away with a 1-hour alert that fell due a minute ago."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    due = (now + timedelta(minutes=59)).replace(second=0, microsecond=0)
    with transaction(make_session_factory(engine)) as session:
        if first == 0:
            session.add(
                Subscriber(
                    email="ana@example.org",
                    immediate=True,
                    digest=digest,
                    tz="UTC",
                    treaties=[],
                    kinds=[],
                    created_at=now - timedelta(days=1),
                    confirmed_at=now - timedelta(days=1),
                )
            )
        for n in range(first, first + count):
            session.add(
                Deadline(
                    slug=f"kill-{n}",
                    title=f"Kill test {n}",
                    kind="notification",
                    due_text=f"{due:%Y-%m-%dT%H:%M} UTC",
                    due_earliest=due.date(),
                    due_latest=due.date(),
                    due_precision="time",
                    due_time=due.time(),
                    tz="UTC",
                    status="pending",
                    alert_leads="1h",
                    uid=f"kill-{n}@test",
                    sequence=0,
                    created_at=now - timedelta(days=1),
                    updated_at=now - timedelta(days=1),
                )
            )
    engine.dispose()


def start(data: Path, port: int, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= extra | {
        "TRACKER_DATA_DIR": str(data),
        "TRACKER_LOG_LEVEL": "INFO",
        "TRACKER_SMTP__HOST": "127.0.0.1",
        "TRACKER_SMTP__PORT": str(port),
    }
    with log.open("ab") as handle:
        return subprocess.Popen(
            [TRACKER, "daemon"], env=env, stderr=handle, stdout=subprocess.DEVNULL, cwd=data
        )


def working(log: Path) -> Callable[[], bool]:
    return lambda: "channels:" in log.read_text()


def email_deliveries(url: str) -> tuple[int, int]:
    """(planned email deliveries, of which sent)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        email = Delivery.channel == "email"
        planned = connection.scalar(select(func.count()).where(email))
        sent = connection.scalar(select(func.count()).where(email, Delivery.status == "sent"))
    engine.dispose()
    return int(planned or 0), int(sent or 0)


def digests(url: str) -> int:
    """Digest events recorded (each has one email delivery to the one subscriber)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Notice.kind == "digest"))
    engine.dispose()
    return int(count or 0)


def in_sending(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Delivery.status == "sending"))
    engine.dispose()
    return int(count or 0)


def stop(process: subprocess.Popen[bytes], log: Path, seconds: float) -> str | None:
    """SIGTERM, and wait ``seconds`` for the exit; None if it exited 0, else why not, with
    the log. A daemon still running is asked for its threads' stacks (SIGUSR1: the
    daemon's faulthandler writes them to its log), then killed."""
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1)
        process.kill()
        process.wait(10)
        return f"not stopped within {seconds:g} s of SIGTERM; its log:\n{log.read_text()}"
    if status != 0:
        return f"exit status {status}; its log:\n{log.read_text()}"
    return None
