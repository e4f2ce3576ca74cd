"""End to end (issue 14, item 5): the real daemon against an SMTP server that accepts and
then sends one byte every 5 s. Alerts are still recorded on time (sending is on its own
thread), each stalled message ends at its deadline, SIGTERM stops the daemon within 10 s,
and nothing is lost: once the server is well, each alert arrives once."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tracker import migrations
from tracker.catalog.models import Deadline
from tracker.db import make_engine, make_session_factory, transaction
from tracker.outbox.models import Delivery, Notice

from .conftest import ScriptedSmtp
from .daemons import SlowMailbox, add_due_alerts, start, wait_for, working

pytestmark = pytest.mark.slow
DEADLINE = 8  # seconds: smtp.deadline_seconds for this test
LATER = 6  # seconds after the start: when the second alert falls due


def add_alert_due_in(url: str, seconds: int) -> None:
    """A deadline whose 1-hour alert falls due ``seconds`` from now."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    due = (now + timedelta(hours=1, seconds=seconds)).replace(microsecond=0)
    with transaction(make_session_factory(engine)) as session:
        session.add(
            Deadline(
                slug="later",
                title="Later",
                kind="notification",
                due_text=f"{due:%Y-%m-%dT%H:%M} UTC",
                due_earliest=due.date(),
                due_latest=due.date(),
                due_precision="time",
                due_time=due.time(),
                tz="UTC",
                status="pending",
                alert_leads="1h",
                uid="later@test",
                sequence=0,
                created_at=now - timedelta(days=1),
                updated_at=now - timedelta(days=1),
            )
        )
    engine.dispose()


def rows(url: str) -> list[tuple[str, datetime, datetime, str, int, datetime | None, str | None]]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        found = session.execute(
            select(
                Notice.subject_slug,
                Notice.due_at,
                Notice.recorded_at,
                Delivery.status,
                Delivery.attempts,
                Delivery.claimed_at,
                Delivery.last_error,
            )
            .join(Delivery.notice)
            .where(Delivery.channel == "email")
            .order_by(Notice.due_at)
        ).all()
    engine.dispose()
    return [tuple(row) for row in found]  # type: ignore[misc]


def test_a_dripping_server_stalls_one_delivery_at_most_and_sigterm_loses_nothing(
    tmp_path: Path, scripted_smtp: type[ScriptedSmtp], mailbox: tuple[SlowMailbox, int]
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    add_due_alerts(url, 0, 1)  # due already: its delivery stalls at once
    add_alert_due_in(url, LATER)  # falls due while that delivery is stalled
    drip = scripted_smtp("drip", drip_seconds=5).start()
    log = tmp_path / "daemon.log"
    started = time.monotonic()
    daemon = start(
        tmp_path,
        drip.port,
        log,
        TRACKER_SMTP__DEADLINE_SECONDS=str(DEADLINE),
        TRACKER_DELIVERY__FIRST_RETRY_SECONDS="1",
    )
    try:
        assert wait_for(working(log), 30), log.read_text()
        # recorded on time, although the first delivery is stalled on the drip
        assert wait_for(lambda: len(rows(url)) == 2, LATER + 10), log.read_text()
        (_, due, recorded, *_) = rows(url)[1]
        assert recorded - due < timedelta(seconds=2), (due, recorded)
        assert time.monotonic() - started < DEADLINE + 3  # before the stall could end
        # the stalled message ends at its deadline; the next is tried then, not later
        assert wait_for(lambda: rows(url)[1][4] >= 1, DEADLINE + 10), log.read_text()
        first, second = rows(url)
        assert "deadline" in (first[6] or "")
        assert second[5] is not None and second[5] - recorded < timedelta(seconds=DEADLINE + 3)

        # SIGTERM while a delivery is in hand (on the drip): gone within 10 s
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
        assert time.monotonic() - stopping < 10
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(5)
    assert {row[3] for row in rows(url)} == {"pending"}, log.read_text()  # nothing lost
    assert "stopping" in log.read_text() and "released" in log.read_text()

    box, port = mailbox  # the server is well again: each alert arrives once
    again = start(tmp_path, port, log)
    try:
        assert wait_for(lambda: {row[3] for row in rows(url)} == {"sent"}, 30), log.read_text()
        time.sleep(1)
        assert sorted(str(m["Subject"]) for m in box.received) == sorted(
            {str(m["Subject"]) for m in box.received}
        )
        assert len(box.received) == 2
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(15)
