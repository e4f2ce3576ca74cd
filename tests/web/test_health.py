"""``/healthz`` and ``/metrics``: the database, the daemon's lock and lag, the outbox, and
requests counted by route template; each app on a registry of its own."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from tracker import plan
from tracker.catalog import revision
from tracker.catalog.revision import Revision
from tracker.clock import FixedClock
from tracker.daemon.lock import lock_for
from tracker.db import make_engine, make_session_factory, transaction
from tracker.outbox import transports
from tracker.outbox.models import Delivery, Notice
from tracker.settings import Settings
from tracker.web.app import create_app

from ..conftest import CURRENT_TIME


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return Settings(data_dir=tmp_path / "var", database_url=url)


def client(settings: Settings, sessions: sessionmaker[Session]) -> TestClient:
    return TestClient(create_app(settings, sessions, FixedClock(CURRENT_TIME)))


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def add_delivery(
    session: Session, number: int, status: str, created_ago: timedelta, channel: str = "email"
) -> None:
    notice = Notice(
        identity=f"test:{number}",
        kind="alert",
        title="t",
        body="b",
        payload={},
        due_at=CURRENT_TIME,
        recorded_at=CURRENT_TIME,
    )
    session.add(notice)
    session.add(
        Delivery(
            notice=notice,
            channel=channel,
            recipient=f"r{number}@example.org",
            status=status,
            next_attempt_at=CURRENT_TIME,
            created_at=CURRENT_TIME - created_ago,
        )
    )


def test_healthz_is_200_but_degraded_while_no_daemon_is_active(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    response = client(settings, session_factory).get("/healthz")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["no active daemon"]
    assert body["database"] == "ok"
    assert body["daemon"]["active"] is False
    assert body["outbox"] == {"pending": 0, "failed": 0, "oldest_pending_age_seconds": None}


def test_healthz_names_the_daemon_holding_the_lock(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    lock = lock_for(settings.effective_database_url, settings.data_dir)
    assert lock.acquire() and lock.healthy()  # what the active daemon does, beat included
    try:
        body = client(settings, session_factory).get("/healthz").json()
    finally:
        lock.release()

    assert body["status"] == "ok"
    assert body["daemon"]["active"] is True
    assert str(os.getpid()) in body["daemon"]["holder"]
    if settings.effective_database_url.startswith("postgresql"):
        assert 0 <= body["daemon"]["heartbeat_age_seconds"] < 5
    else:  # a file lock has no heartbeat the database sees
        assert body["daemon"]["heartbeat_age_seconds"] is None
    # The probe let go of the file lock at once: the daemon can take it again.
    assert lock.acquire()
    lock.release()


def test_healthz_says_how_long_since_the_daemon_ran_a_round_and_when_that_is_too_long(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    lock = lock_for(settings.effective_database_url, settings.data_dir)
    assert lock.acquire()
    try:
        with transaction(session_factory) as session:  # as the daemon's round records it
            revision.bump(session.connection(), CURRENT_TIME - timedelta(seconds=8), "daemon-tick")
        recent = client(settings, session_factory).get("/healthz").json()
        with transaction(session_factory) as session:
            session.execute(
                update(Revision)
                .where(Revision.name == revision.DAEMON_TICK)
                .values(changed_at=CURRENT_TIME - timedelta(minutes=10))
            )
        stale = client(settings, session_factory).get("/healthz").json()
        metrics = client(settings, session_factory).get("/metrics").text
    finally:
        lock.release()
    assert recent["status"] == "ok" and recent["daemon"]["last_tick_age_seconds"] == 8
    assert stale["status"] == "degraded"
    assert "the daemon has not run a round for 600 s" in stale["problems"]
    assert "tracker_daemon_last_tick_age_seconds 600.0" in metrics


def test_healthz_counts_the_outbox_backlog_and_its_oldest_pending(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        add_delivery(session, 1, "pending", timedelta(minutes=5))
        add_delivery(session, 2, "pending", timedelta(minutes=1), channel="apprise")
        add_delivery(session, 3, "sending", timedelta(seconds=10))
        add_delivery(session, 4, "failed", timedelta(days=2))
        add_delivery(session, 5, "sent", timedelta(days=3))

    outbox = client(settings, session_factory).get("/healthz").json()["outbox"]

    assert outbox == {"pending": 3, "failed": 1, "oldest_pending_age_seconds": 300.0}


def test_work_left_due_for_minutes_is_tick_lag_and_makes_it_degraded(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        plan.mark(
            session.connection(),
            [
                (plan.Work.DELIVERY.value, "", CURRENT_TIME - timedelta(minutes=10)),
                (plan.Work.SWEEP.value, "", plan.DUE_NOW),  # an edit's mark: no time to age
                (plan.Work.DIGEST.value, "daily:UTC", CURRENT_TIME + timedelta(hours=1)),
            ],
        )

    body = client(settings, session_factory).get("/healthz").json()

    assert body["daemon"]["tick_lag_seconds"] == 600.0
    assert "due work waiting 600 s" in body["problems"]


def test_healthz_is_503_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'tracker.db'}"
    settings = Settings(data_dir=tmp_path / "var", database_url=url)
    engine = make_engine(url)
    try:
        app = client(settings, make_session_factory(engine))
        response = app.get("/healthz")
        metrics = samples(app.get("/metrics").text)
    finally:
        engine.dispose()

    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert metrics[("tracker_database_up", frozenset())] == 0


def test_metrics_count_requests_by_route_template_never_by_raw_path(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = client(settings, session_factory)
    for path in ("/meetings/one", "/meetings/two", "/api/upcoming", "/no/such/page"):
        app.get(path)
    app.post("/api/upcoming")

    found = samples(app.get("/metrics").text)

    def requests(route: str, method: str, status: str) -> float:
        labels = frozenset({"route": route, "method": method, "status": status}.items())
        return found.get(("tracker_http_requests_total", labels), 0.0)

    assert requests("/meetings/{name}", "GET", "404") == 2
    assert requests("/api/upcoming", "GET", "200") == 1
    assert requests("/api/upcoming", "POST", "405") == 1
    assert requests("unmatched", "GET", "404") == 1
    assert not any("one" in value for _, labels in found for _, value in labels)


def test_metrics_read_the_outbox_and_transports_at_scrape_time(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = client(settings, session_factory)
    before = samples(app.get("/metrics").text)
    delivered = CURRENT_TIME - timedelta(minutes=3)
    with transaction(session_factory) as session:
        add_delivery(session, 1, "pending", timedelta(minutes=2))
        add_delivery(session, 2, "failed", timedelta(days=1))
        transports.succeeded(session.connection(), "email", delivered)

    after = samples(app.get("/metrics").text)

    email = frozenset({("transport", "email")})
    assert before[("tracker_outbox_pending", email)] == 0
    assert after[("tracker_outbox_pending", email)] == 1
    assert after[("tracker_outbox_oldest_pending_age_seconds", email)] == 120
    assert after[("tracker_outbox_failed", frozenset())] == 1
    assert after[("tracker_last_successful_delivery_timestamp_seconds", email)] == (
        delivered.timestamp()
    )
    assert after[("tracker_transport_paused", email)] == 0
    assert after[("tracker_daemon_active", frozenset())] == 0
    assert after[("tracker_daemon_tick_lag_seconds", frozenset())] == 0
    assert after[("tracker_database_up", frozenset())] == 1


def test_each_app_counts_its_own_requests(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    first, second = client(settings, session_factory), client(settings, session_factory)
    first.get("/api/upcoming")

    labels = frozenset({"route": "/api/upcoming", "method": "GET", "status": "200"}.items())
    assert samples(first.get("/metrics").text)[("tracker_http_requests_total", labels)] == 1
    assert ("tracker_http_requests_total", labels) not in samples(second.get("/metrics").text)
