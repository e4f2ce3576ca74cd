"""Delivery workers as real processes on one PostgreSQL database, with an SMTP server
here that counts what it receives: each message arrives once whatever the number of
workers, a worker killed mid-run loses nothing (its claims come back when its lease runs
out, the message in hand at most twice), no reader gets two messages at once, SIGTERM
gives the delivery in hand back, and a planner records what the workers send. On SQLite
``tracker worker`` is refused."""

from __future__ import annotations

import signal
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, func, select

from tracker.db import make_engine
from tracker.outbox.models import Delivery, RunningProcess

from ..faults.daemons import add_due_alerts, email_deliveries, wait_for
from ..process import tracker
from .conftest import TimedMailbox, add_due_messages, sent, start, start_worker, stop_all

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def counts(url: str, *where: ColumnElement[bool]) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(Delivery).where(*where))
    engine.dispose()
    return int(found or 0)


def process_rows(url: str) -> dict[str, tuple[str, int, int]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            name: (role, sent, claimed)
            for name, role, sent, claimed in connection.execute(
                select(
                    RunningProcess.name,
                    RunningProcess.role,
                    RunningProcess.sent,
                    RunningProcess.claimed,
                )
            )
        }
    engine.dispose()
    return found


def logs(home: Path) -> str:
    return "".join(path.read_text() for path in sorted(home.glob("*.log")))


def test_three_workers_deliver_every_message_exactly_once(
    tmp_path: Path, postgres_url: str, relay: tuple[TimedMailbox, int]
) -> None:
    box, port = relay
    add_due_messages(postgres_url, 300)
    workers = [start_worker(tmp_path, postgres_url, port, f"w{n}") for n in range(3)]
    try:
        assert wait_for(lambda: sent(postgres_url) == 300, 120), logs(tmp_path)
    finally:
        assert stop_all(workers) == [0, 0, 0], logs(tmp_path)
    copies = box.copies()
    assert len(copies) == 300 and set(copies.values()) == {1}
    rows = process_rows(postgres_url)  # each wrote its tally as it stopped
    assert set(rows) == {"w0", "w1", "w2"} and {role for role, _, _ in rows.values()} == {"worker"}
    assert sum(sent for _, sent, _ in rows.values()) == 300


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_at_most_one(
    tmp_path: Path, postgres_url: str, relay: tuple[TimedMailbox, int]
) -> None:
    box, port = relay
    box.delay = 0.2  # a kill lands while a message is in hand
    add_due_messages(postgres_url, 120)
    short_lease = {"TRACKER_DELIVERY__LEASE_SECONDS": "10"}
    victim = start_worker(tmp_path, postgres_url, port, "victim", "--batch", "20", **short_lease)
    assert wait_for(lambda: len(box.arrivals) >= 3, 60), logs(tmp_path)
    others = [
        start_worker(tmp_path, postgres_url, port, f"w{n}", "--batch", "20", **short_lease)
        for n in range(2)
    ]
    try:
        assert wait_for(
            lambda: (
                counts(postgres_url, Delivery.claimed_by == "victim", Delivery.status == "sending")
                > 0
            ),
            30,
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        held = counts(postgres_url, Delivery.claimed_by == "victim", Delivery.status == "sending")
        assert held > 0  # claims it will never finish: they wait for their lease
        assert wait_for(lambda: sent(postgres_url) == 120, 120), logs(tmp_path)
    finally:
        assert stop_all(others) == [0, 0], logs(tmp_path)
    copies = box.copies()
    duplicated = sum(n - 1 for n in copies.values())
    print(f"\nkill -9 of a worker holding {held}: {len(copies)} of 120 arrived, {duplicated} twice")
    assert len(copies) == 120  # nothing lost
    assert duplicated <= 1  # the one in hand at the kill
    assert "whose worker's lease ran out" in logs(tmp_path)


def test_no_reader_gets_two_messages_at_once_from_two_workers(
    tmp_path: Path, postgres_url: str, relay: tuple[TimedMailbox, int]
) -> None:
    box, port = relay
    add_due_messages(postgres_url, 120, per_recipient=6)  # 20 readers, 6 messages each
    workers = [
        start_worker(tmp_path, postgres_url, port, f"w{n}", "--batch", "2") for n in range(3)
    ]
    try:
        assert wait_for(lambda: sent(postgres_url) == 120, 120), logs(tmp_path)
    finally:
        assert stop_all(workers) == [0, 0, 0], logs(tmp_path)
    by_reader: dict[str, list[tuple[float, float]]] = {}
    for reader, began, ended in box.spans:
        by_reader.setdefault(reader, []).append((began, ended))
    assert len(by_reader) == 20
    for reader, spans in by_reader.items():
        spans.sort()
        overlapping = [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]
        assert not overlapping, reader


def test_sigterm_gives_the_delivery_in_hand_back(
    tmp_path: Path, postgres_url: str, relay: tuple[TimedMailbox, int]
) -> None:
    box, port = relay
    box.delay = 30  # the message in hand never gets its answer before the stop
    add_due_messages(postgres_url, 3)
    worker = start_worker(tmp_path, postgres_url, port, "w0")
    try:
        assert wait_for(lambda: box.began != [], 60), logs(tmp_path)  # one in hand
    finally:
        worker.send_signal(signal.SIGTERM)
        status = worker.wait(15)
    assert status == 0, logs(tmp_path)
    assert counts(postgres_url, Delivery.status == "sending") == 0
    assert counts(postgres_url, Delivery.status == "pending", Delivery.attempts == 0) == 3
    assert "SIGTERM: stopping; the delivery in hand goes back to pending" in logs(tmp_path)


def test_a_planner_records_what_the_workers_deliver(
    tmp_path: Path, postgres_url: str, relay: tuple[TimedMailbox, int]
) -> None:
    box, port = relay
    add_due_alerts(postgres_url, 0, 3)
    planner = start(tmp_path, postgres_url, port, "planner", ["daemon", "--role", "planner"])
    planner_log = tmp_path / "planner.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        # Recorded by the planner, sent by nobody yet: the planner does not deliver.
        assert wait_for(lambda: email_deliveries(postgres_url)[0] == 3, 60), logs(tmp_path)
        assert "role: planner" in planner_log.read_text()
        workers = [start_worker(tmp_path, postgres_url, port, f"w{n}") for n in range(2)]
        assert wait_for(lambda: email_deliveries(postgres_url) == (3, 3), 60), logs(tmp_path)
    finally:
        assert stop_all([planner, *workers]) == [0, 0, 0], logs(tmp_path)
    assert len(box.received) == 3
    assert counts(postgres_url, Delivery.claimed_by.in_(["w0", "w1"])) == 3
    roles = {role for role, _, _ in process_rows(postgres_url).values()}
    assert roles == {"planner", "worker"}


def test_a_worker_or_a_planner_on_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    for command in (["worker"], ["daemon", "--role", "planner"]):
        result = tracker(tmp_path, *command)
        assert result.returncode != 0
        assert result.stderr.count("\n") == 1 and "needs PostgreSQL" in result.stderr
        assert "Traceback" not in result.stderr
