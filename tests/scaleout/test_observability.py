"""Across nodes, from the database: ``/metrics`` and ``tracker alerts status|workers`` show
each planner and worker (heartbeat, counters, sent per minute), the backlog due, the
oldest claim in hand and the active planner's node."""

from __future__ import annotations

import json
import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker.clock import FixedClock
from tracker.daemon.lock import lock_for
from tracker.db import transaction
from tracker.outbox.models import Delivery, Notice, RunningProcess
from tracker.settings import Settings
from tracker.web.app import create_app

from ..conftest import CURRENT_TIME
from ..process import tracker

AS_OF = CURRENT_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return Settings(data_dir=tmp_path / "var", database_url=url)


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def add_process(
    session: Session, name: str, *, lived: timedelta, seen_ago: timedelta, sent: int
) -> None:
    seen = CURRENT_TIME - seen_ago
    session.add(
        RunningProcess(
            name=name,
            role="worker",
            host="node1",
            pid=4242,
            started_at=seen - lived,
            seen_at=seen,
            sent=sent,
            failed=2,
            claimed=sent + 5,
        )
    )


def add_delivery(
    session: Session,
    number: int,
    status: str,
    *,
    due_in: timedelta,
    claimed: tuple[str, int] | None = None,
) -> None:
    notice = Notice(
        identity=f"test:{number}",
        kind="digest",
        title="t",
        body="b",
        payload={},
        due_at=CURRENT_TIME,
        recorded_at=CURRENT_TIME,
    )
    by, seconds_ago = claimed or (None, 0)
    session.add(notice)
    session.add(
        Delivery(
            notice=notice,
            channel="email",
            recipient=f"r{number}@example.org",
            status=status,
            next_attempt_at=CURRENT_TIME + due_in,
            created_at=CURRENT_TIME - timedelta(hours=1),
            claimed_at=CURRENT_TIME - timedelta(seconds=seconds_ago) if by else None,
            claimed_by=by,
        )
    )


@pytest.fixture
def busy(session_factory: sessionmaker[Session]) -> None:
    """Two workers (one silent for five minutes), two due deliveries and one later, two
    claims in hand (the older one 45 s old, node1-a's)."""
    with transaction(session_factory) as session:
        add_process(
            session, "node1-a", lived=timedelta(minutes=10), seen_ago=timedelta(seconds=3), sent=300
        )
        add_process(
            session, "node2-b", lived=timedelta(minutes=2), seen_ago=timedelta(minutes=5), sent=10
        )
        add_delivery(session, 1, "pending", due_in=timedelta(minutes=-5))
        add_delivery(session, 2, "pending", due_in=timedelta())
        add_delivery(session, 3, "pending", due_in=timedelta(minutes=5))
        add_delivery(session, 4, "sending", due_in=timedelta(), claimed=("node2-b", 5))
        add_delivery(session, 5, "sending", due_in=timedelta(), claimed=("node1-a", 45))
        add_delivery(session, 6, "sent", due_in=timedelta(minutes=-9))


def test_metrics_show_each_worker_the_backlog_the_oldest_claim_and_the_active_planner(
    settings: Settings, session_factory: sessionmaker[Session], busy: None
) -> None:
    app = TestClient(create_app(settings, session_factory, FixedClock(CURRENT_TIME)))
    idle = samples(app.get("/metrics").text)
    lock = lock_for(settings.effective_database_url, settings.data_dir)
    assert lock.acquire() and lock.healthy()  # as the active planner holds it
    try:
        found = samples(app.get("/metrics").text)
    finally:
        lock.release()

    a = frozenset({"process": "node1-a", "role": "worker", "host": "node1"}.items())
    b = frozenset({"process": "node2-b", "role": "worker", "host": "node1"}.items())
    assert found[("tracker_process_sent_per_minute", a)] == 30.0  # 300 in 10 minutes
    assert found[("tracker_process_sent_per_minute", b)] == 5.0
    assert found[("tracker_process_sent_total", a)] == 300
    assert found[("tracker_process_failed_total", a)] == 2
    assert found[("tracker_process_claimed_total", a)] == 305
    assert found[("tracker_process_up", a)] == 1
    assert found[("tracker_process_up", b)] == 0
    assert found[("tracker_process_heartbeat_age_seconds", b)] == 300
    assert found[("tracker_outbox_backlog", frozenset())] == 2
    assert found[("tracker_outbox_in_hand", frozenset())] == 2
    assert found[("tracker_outbox_oldest_claim_age_seconds", frozenset())] == 45
    (planner,) = [labels for name, labels in found if name == "tracker_planner_active"]
    holder = dict(planner)
    assert str(os.getpid()) in holder["holder"]
    if settings.effective_database_url.startswith("postgresql"):
        assert holder["node"] == socket.gethostname()
    assert not [name for name, _ in idle if name == "tracker_planner_active"]


def test_metrics_without_claims_say_the_oldest_claim_is_0(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = TestClient(create_app(settings, session_factory, FixedClock(CURRENT_TIME)))
    found = samples(app.get("/metrics").text)

    assert found[("tracker_outbox_oldest_claim_age_seconds", frozenset())] == 0
    assert found[("tracker_outbox_backlog", frozenset())] == 0
    assert not [name for name, _ in found if name.startswith("tracker_process_")]


def run(home: Path, settings: Settings, *args: str) -> str:
    url = settings.effective_database_url
    result = tracker(home, "--as-of", AS_OF, *args, TRACKER_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_alerts_status_names_the_planner_the_backlog_and_each_workers_throughput(
    settings: Settings, busy: None, tmp_path: Path
) -> None:
    lock = lock_for(settings.effective_database_url, settings.data_dir)
    assert lock.acquire() and lock.healthy()
    try:
        text = run(tmp_path, settings, "alerts", "status")
    finally:
        lock.release()
    idle = run(tmp_path, settings, "alerts", "status")

    lines = [" ".join(line.split()) for line in text.splitlines()]
    (planner,) = [line for line in lines if line.startswith("planner:")]
    assert str(os.getpid()) in planner
    if settings.effective_database_url.startswith("postgresql"):
        assert planner.endswith(f"on node {socket.gethostname()}")
    assert "deliveries: 2 due, 2 in hand, oldest claim 45 s (node1-a)" in lines
    assert "node1-a worker node1 4242 up 3 s ago 300 2 30.0" in lines
    assert "node2-b worker node1 4242 silent 300 s ago 10 2 5.0" in lines
    assert "planner: none active" in idle


def test_alerts_workers_json_is_the_same_state(
    settings: Settings, busy: None, tmp_path: Path
) -> None:
    state = json.loads(run(tmp_path, settings, "alerts", "workers", "--json"))

    assert state["planner"] is None
    assert (state["backlog"], state["in_hand"]) == (2, 2)
    assert (state["oldest_claim_age_seconds"], state["oldest_claim_by"]) == (45.0, "node1-a")
    by_name = {process["name"]: process for process in state["processes"]}
    assert by_name["node1-a"]["sent_per_minute"] == 30.0
    assert by_name["node1-a"]["up"] is True
    assert by_name["node2-b"]["up"] is False
    assert by_name["node2-b"]["seen_seconds_ago"] == 300.0
