"""Scaled out on one PostgreSQL: two planners (one active), three workers and two web
servers, all real ``tracker`` processes, deliver to an SMTP server here that counts what
it receives. ``kill -9`` of a worker and of the active planner during the run: every
planned delivery arrives, at most one twice per killed process, and the standby planner
takes over and records what falls due after the kill.

The server takes a moment over each message (concurrently, as a relay does), so the
worker is killed with deliveries in hand: they come back when their lease runs out.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select

from tracker import migrations, plan
from tracker.alerts.models import Subscriber
from tracker.catalog.models import Deadline
from tracker.daemon.lock import ADVISORY_KEY
from tracker.db import make_engine, make_session_factory, transaction
from tracker.outbox import cluster
from tracker.outbox.models import Delivery

from ..conftest import POSTGRES_URL, _reset_postgres
from ..faults.daemons import TRACKER, stop, wait_for
from ..notifiers.conftest import Mailbox, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="set TRACKER_TEST_DATABASE_URL to run"),
]
SUBSCRIBERS = 40
FIRST_WAVE = 3  # deadlines whose alerts are due at the start: SUBSCRIBERS alerts each
SECOND_WAVE = 1  # added once the standby planner took over
LEASE_SECONDS = 10  # the least a lease may be: a killed worker's claims come back after it


class CountingMailbox(Mailbox):
    """Takes 30 ms over each message, serving its connections concurrently."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.03)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mailbox() -> Iterator[tuple[CountingMailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = CountingMailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def database() -> Iterator[Engine]:
    assert POSTGRES_URL
    _reset_postgres(POSTGRES_URL)
    engine = make_engine(POSTGRES_URL)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


def add_subscribers(engine: Engine, count: int, now: datetime) -> None:
    with transaction(make_session_factory(engine)) as session:
        for n in range(count):
            session.add(
                Subscriber(
                    email=f"reader{n}@example.org",
                    immediate=True,
                    digest="daily",
                    tz="UTC",
                    treaties=[],
                    kinds=[],
                    created_at=now - timedelta(days=1),
                    confirmed_at=now - timedelta(days=1),
                )
            )


def add_due_deadlines(engine: Engine, first: int, count: int, now: datetime) -> None:
    """Deadlines 59 minutes away with a 1-hour alert (due now), and the plan marked for a
    sweep, as an edit marks it: the active planner records their alerts at its next look."""
    due = (now + timedelta(minutes=59)).replace(second=0, microsecond=0)
    with transaction(make_session_factory(engine)) as session:
        for n in range(first, first + count):
            session.add(
                Deadline(
                    slug=f"cluster-{n}",
                    title=f"Cluster test {n}",
                    kind="notification",
                    due_text=f"{due:%Y-%m-%dT%H:%M} UTC",
                    due_earliest=due.date(),
                    due_latest=due.date(),
                    due_precision="time",
                    due_time=due.time(),
                    tz="UTC",
                    status="pending",
                    alert_leads="1h",
                    uid=f"cluster-{n}@test",
                    sequence=0,
                    created_at=now - timedelta(days=1),
                    updated_at=now - timedelta(days=1),
                )
            )
        session.flush()
        plan.mark(session.connection(), [(plan.Work.SWEEP.value, "", plan.DUE_NOW)])


def deliveries(engine: Engine) -> tuple[int, int]:
    """(email deliveries planned, of which sent)."""
    with engine.connect() as connection:
        email = Delivery.channel == "email"
        planned = connection.scalar(select(func.count()).where(email))
        sent = connection.scalar(select(func.count()).where(email, Delivery.status == "sent"))
    return int(planned or 0), int(sent or 0)


def claims(engine: Engine) -> Counter[str]:
    """Deliveries in hand, by the worker holding them."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Delivery.claimed_by, func.count())
            .where(Delivery.status == "sending", Delivery.claimed_by.is_not(None))
            .group_by(Delivery.claimed_by)
        ).all()
    return Counter({str(holder): int(count) for holder, count in rows})


def planner_pid(engine: Engine) -> int | None:
    """The pid of the process holding the daemon lock (its connection names it)."""
    with engine.connect() as connection:
        holder = cluster.active_planner(connection, None, ADVISORY_KEY)
    if holder is None:
        return None
    return int(holder.name.split(" pid ")[1].split()[0])


class Cluster:
    """The processes of the test, each logging to a file of its own."""

    def __init__(self, home: Path, smtp_port: int, started: list[subprocess.Popen[bytes]]):
        self.home, self.started = home, started
        self.logs: dict[int, Path] = {}
        assert POSTGRES_URL
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "TRACKER_DATABASE_URL": POSTGRES_URL,
            "TRACKER_DATA_DIR": str(home / "var"),
            "TRACKER_LOG_LEVEL": "INFO",
            "TRACKER_SMTP__HOST": "127.0.0.1",
            "TRACKER_SMTP__PORT": str(smtp_port),
            "TRACKER_SERVER__SECRET": "a cluster test secret of 32 characters or more",
            "TRACKER_DELIVERY__LEASE_SECONDS": str(LEASE_SECONDS),
            # a daily digest at this hour: one falls due for each subscriber as it starts
            "TRACKER_DIGEST__LOCAL_HOUR": str(datetime.now(UTC).hour),
            "TRACKER_DIGEST__SEND_WHEN_EMPTY": "true",
        }

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.home / f"{name}.log"
        with log.open("ab") as handle:
            process = subprocess.Popen(
                [TRACKER, *args],
                env=self.env,
                cwd=self.home,
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        self.started.append(process)
        self.logs[process.pid] = log
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return self.logs[process.pid].read_text()

    def all_logs(self) -> str:
        return "\n".join(f"== {path.name}\n{path.read_text()}" for path in self.logs.values())


def get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body: bytes = response.read()
    return body


def get_json(port: int, path: str) -> Any:
    return json.loads(get(port, path))


def serving(port: int) -> bool:
    try:
        get_json(port, "/healthz")
    except OSError:
        return False
    return True


def test_planners_workers_and_web_servers_lose_nothing_when_a_worker_and_the_planner_die(
    tmp_path: Path,
    database: Engine,
    mailbox: tuple[CountingMailbox, int],
    daemons: list[subprocess.Popen[bytes]],
) -> None:
    box, smtp_port = mailbox
    now = datetime.now(UTC)
    add_subscribers(database, SUBSCRIBERS, now)
    add_due_deadlines(database, 0, FIRST_WAVE, now)
    nodes = Cluster(tmp_path, smtp_port, daemons)
    web_ports = [free_port(), free_port()]
    webs = [nodes.start(f"serve-{n}", "serve", "--port", str(p)) for n, p in enumerate(web_ports)]
    workers = [nodes.start(f"worker-{n}", "worker", "--name", f"w{n}") for n in range(3)]
    first = nodes.start("planner-a", "daemon", "--role", "planner")
    assert wait_for(lambda: planner_pid(database) == first.pid, 30), nodes.all_logs()
    second = nodes.start("planner-b", "daemon", "--role", "planner")
    assert wait_for(lambda: "standing by" in nodes.log(second), 30), nodes.log(second)

    # A worker dies with deliveries in hand (the one holding most), while the others go on.
    assert wait_for(lambda: len(box.received) >= 30 and bool(claims(database)), 30), (
        nodes.all_logs()
    )
    holder, in_hand = claims(database).most_common(1)[0]
    victim = workers[int(holder.removeprefix("w"))]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    survivors = [f"w{n}" for n, worker in enumerate(workers) if worker is not victim]
    # The active planner dies; the standby takes the lock and records what falls due next.
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = time.monotonic()
    assert wait_for(lambda: planner_pid(database) == second.pid, 30), nodes.log(second)
    takeover = time.monotonic() - killed_at
    add_due_deadlines(database, FIRST_WAVE, SECOND_WAVE, datetime.now(UTC))

    planned_least = SUBSCRIBERS * (FIRST_WAVE + SECOND_WAVE + 1)  # alerts and a digest each
    finished = wait_for(
        lambda: (p := deliveries(database))[0] >= planned_least and p[0] == p[1], 45
    )
    assert finished, f"{deliveries(database)}\n{nodes.all_logs()}"
    assert all(serving(port) for port in web_ports), nodes.all_logs()
    views = [get_json(port, "/healthz") for port in web_ports]
    metrics = [get(port, "/metrics").decode() for port in web_ports]
    for process in [second, *(worker for worker in workers if worker is not victim)]:
        assert stop(process, nodes.logs[process.pid], 15) is None
    for web in webs:  # uvicorn ends by raising the signal again once it has shut down
        web.send_signal(signal.SIGTERM)
        assert web.wait(15) in (0, -signal.SIGTERM), nodes.log(web)

    planned, _ = deliveries(database)
    copies = Counter(str(mail["Message-ID"]) for mail in box.received)
    duplicated = sum(n - 1 for n in copies.values())
    lost = planned - len(copies)
    print(
        f"\ncluster: planned={planned} delivered={len(copies)} duplicated={duplicated} "
        f"lost={lost}; {holder} killed with {in_hand} in hand; the standby took over "
        f"{takeover:.1f} s after the kill"
    )
    assert lost == 0
    assert duplicated <= 2  # at most the message in hand of each killed process
    subjects = {str(mail["Subject"]) for mail in box.received}
    assert any(f"Cluster test {FIRST_WAVE}" in subject for subject in subjects)
    # Every web node sees the same active planner: the standby, now.
    assert all(f" pid {second.pid} " in view["daemon"]["holder"] for view in views), views
    # ... and the same workers at work, with what each sent.
    for exposition in metrics:
        found = {
            (sample.name, sample.labels.get("process")): sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
        }
        assert [found[("tracker_process_up", name)] for name in survivors] == [1, 1]
        # (counters are as of each worker's last heartbeat)
        assert sum(found[("tracker_process_sent_total", name)] for name in survivors) > 0
