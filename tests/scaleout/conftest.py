"""Delivery workers on one PostgreSQL database, as real processes, and a counting SMTP
server that takes a moment over each message. Needs TRACKER_TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Table, func, insert, select

from tracker import migrations
from tracker.alerts.models import Subscriber
from tracker.db import make_engine
from tracker.outbox.models import Delivery, Notice

from ..conftest import POSTGRES_URL, _reset_postgres
from ..notifiers.conftest import Mailbox, free_port

TRACKER = str(Path(sys.executable).parent / "tracker")
DELIVERIES = cast(Table, Delivery.__table__)


@dataclass
class TimedMailbox(Mailbox):
    """Takes ``delay`` seconds over each message, as a relay does, and notes when each
    arrived (``time.monotonic``), to measure a rate at the server."""

    delay: float = 0.05
    arrivals: list[float] = field(default_factory=list)
    # Each message's recipients and when its DATA began and ended (received or not).
    spans: list[tuple[str, float, float]] = field(default_factory=list)

    began: list[float] = field(default_factory=list)  # when each DATA began

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        began = time.monotonic()
        self.began.append(began)
        await asyncio.sleep(self.delay)
        self.arrivals.append(time.monotonic())
        self.spans.append((",".join(envelope.rcpt_tos), began, time.monotonic()))
        return str(await super().handle_DATA(server, session, envelope))

    def copies(self) -> Counter[str]:
        """How many times each message (subject and recipient) arrived."""
        return Counter(f"{mail['Subject']} -> {mail['To']}" for mail in self.received)


@pytest.fixture
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TRACKER_TEST_DATABASE_URL to run")
    _reset_postgres(POSTGRES_URL)
    engine = make_engine(POSTGRES_URL)
    migrations.upgrade(engine)
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def relay() -> Iterator[tuple[TimedMailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = TimedMailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def add_due_messages(url: str, count: int, *, per_recipient: int = 1) -> None:
    """``count`` alerts due a minute ago, each with one email delivery, to
    ``count // per_recipient`` confirmed subscribers (at example.org and example.net)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        insert_due(connection, count, datetime.now(UTC), per_recipient=per_recipient)
    engine.dispose()


def insert_due(
    connection: Connection, count: int, now: datetime, *, per_recipient: int = 1
) -> list[int]:
    """As :func:`add_due_messages`, on ``connection`` as of ``now``; the deliveries' ids
    (message n goes to subscriber ``n % (count // per_recipient)``)."""
    people = max(count // per_recipient, 1)
    connection.execute(
        insert(Subscriber),
        [
            {
                "email": _address(n),
                "immediate": True,
                "digest": "none",
                "tz": "UTC",
                "treaties": [],
                "kinds": [],
                "created_at": now - timedelta(days=1),
                "confirmed_at": now - timedelta(days=1),
            }
            for n in range(people)
        ],
    )
    ids = connection.scalars(
        insert(Notice).returning(Notice.id),
        [
            {
                "identity": f"scale-{n}",
                "kind": "alert",
                "title": f"Scale test {n}",
                "body": f"Message {n}.",
                "payload": {},
                "due_at": now - timedelta(minutes=1),
                "recorded_at": now - timedelta(minutes=1),
            }
            for n in range(count)
        ],
    ).all()
    return list(
        connection.scalars(
            insert(DELIVERIES).returning(DELIVERIES.c.id),
            [
                {
                    "event_id": notice_id,
                    "channel": "email",
                    "recipient": _address(n % people),
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now - timedelta(minutes=1),
                    "created_at": now - timedelta(minutes=1),
                }
                for n, notice_id in enumerate(ids)
            ],
        )
    )


def _address(n: int) -> str:
    return f"reader{n}@example.{'org' if n % 2 else 'net'}"


def sent(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Delivery.status == "sent"))
    engine.dispose()
    return int(count or 0)


def start_worker(
    home: Path, url: str, port: int, name: str, *args: str, **extra: str
) -> subprocess.Popen[bytes]:
    """``tracker worker --name NAME ARGS``, its log in ``home/NAME.log``."""
    return start(home, url, port, name, ["worker", "--name", name, *args], **extra)


def start(
    home: Path, url: str, port: int, name: str, command: list[str], **extra: str
) -> subprocess.Popen[bytes]:
    """``tracker COMMAND`` on ``url``, sending to the SMTP server at ``port``, its log in
    ``home/NAME.log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env |= extra | {
        "TRACKER_DATA_DIR": str(home),
        "TRACKER_DATABASE_URL": url,
        "TRACKER_LOG_LEVEL": "INFO",
        "TRACKER_SMTP__HOST": "127.0.0.1",
        "TRACKER_SMTP__PORT": str(port),
    }
    log = home / f"{name}.log"
    with log.open("ab") as handle:
        return subprocess.Popen(
            [TRACKER, *command],
            env=env,
            stderr=handle,
            stdout=subprocess.DEVNULL,
            cwd=home,
        )


def stop_all(processes: list[subprocess.Popen[bytes]], seconds: float = 15) -> list[int]:
    """SIGTERM each still running, and their exit statuses (-9 for one killed before)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    statuses = []
    for process in processes:
        try:
            statuses.append(process.wait(seconds))
        except subprocess.TimeoutExpired:
            process.kill()
            statuses.append(process.wait(10))
    return statuses
