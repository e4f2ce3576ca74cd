"""A deadline on each message's whole SMTP exchange (smtp.deadline_seconds): a server
that drips one byte at a time, each read in time, stalls one delivery at most; a stop
cuts off the exchange in hand, which goes back to pending."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import FixedClock
from tracker.notifiers.base import DeliveryError
from tracker.notifiers.email import EmailNotifier
from tracker.outbox.delivery import deliver_due
from tracker.settings import Settings

from ..notifiers.messages import alert
from .conftest import ScriptedSmtp
from .daemons import wait_for
from .test_smtp_faults import NOW, PLANNED, deliveries, record_alerts


def dripping(
    scripted: type[ScriptedSmtp], tmp_path: Path, deadline: float
) -> tuple[ScriptedSmtp, EmailNotifier]:
    server = scripted("drip", drip_seconds=0.2).start()
    smtp = {"host": "127.0.0.1", "port": server.port, "timeout_seconds": 10}
    settings = Settings(data_dir=tmp_path, smtp=smtp | {"deadline_seconds": deadline})
    return server, EmailNotifier.from_settings(settings)


def test_a_dripping_server_is_cut_off_at_the_deadline_as_a_temporary_failure(
    scripted_smtp: type[ScriptedSmtp], tmp_path: Path
) -> None:
    server, notifier = dripping(scripted_smtp, tmp_path, deadline=1)
    try:
        with pytest.raises(DeliveryError) as failed:
            notifier.deliver(alert())
    finally:
        notifier.close()
    assert "smtp.deadline_seconds (1 s)" in str(failed.value)
    assert not failed.value.permanent and failed.value.kind == "message"
    assert server.connections == 1  # not reconnected and tried again


def test_abort_cuts_off_the_exchange_in_hand_from_another_thread(
    scripted_smtp: type[ScriptedSmtp], tmp_path: Path
) -> None:
    server, notifier = dripping(scripted_smtp, tmp_path, deadline=600)
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            notifier.deliver(alert())
        except DeliveryError as exc:
            outcome.append(exc)

    sending = threading.Thread(target=send)
    sending.start()
    assert wait_for(lambda: server.connections == 1, 30)
    notifier.abort()
    sending.join(10)
    notifier.close()
    assert not sending.is_alive()
    (error,) = outcome
    assert isinstance(error, DeliveryError) and error.kind == "interrupted"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_stalled_message_does_not_stall_the_rest_of_the_batch(
    session_factory: sessionmaker[Session], scripted_smtp: type[ScriptedSmtp], tmp_path: Path
) -> None:
    record_alerts(session_factory)
    server, notifier = dripping(scripted_smtp, tmp_path, deadline=1)
    try:
        deliver_due(session_factory, {"email": notifier}, FixedClock(NOW), Settings().delivery)
    finally:
        notifier.close()
    rows = deliveries(session_factory)
    assert len(rows) == PLANNED
    assert {(d.status, d.attempts) for d in rows} == {("pending", 1)}  # retried later
    assert server.connections == 1  # the others were not sent into the same stall


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stop_mid_message_gives_the_delivery_back_untouched(
    session_factory: sessionmaker[Session], scripted_smtp: type[ScriptedSmtp], tmp_path: Path
) -> None:
    record_alerts(session_factory)
    server, notifier = dripping(scripted_smtp, tmp_path, deadline=600)
    stop = threading.Event()

    def stopper() -> None:
        if wait_for(lambda: server.connections == 1, 30):
            stop.set()
            notifier.abort()

    threading.Thread(target=stopper).start()
    try:
        deliver_due(
            session_factory, {"email": notifier}, FixedClock(NOW), Settings().delivery, stop.is_set
        )
    finally:
        notifier.close()
    rows = deliveries(session_factory)
    assert {(d.status, d.attempts, d.next_attempt_at) for d in rows} == {("pending", 0, NOW)}
