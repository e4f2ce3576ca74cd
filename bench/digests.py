"""Digest delivery against bare smtplib."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import (
    DIGEST_AT,
    copy_db,
    free_port,
    ratio_row,
)
from bench.generate import sqlite_url
from bench.harness import Row, timed
from tracker.alerts.models import Event
from tracker.alerts.worker import Worker
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory
from tracker.settings import Settings


class _Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def _prebuilt(copy: Path, sender: str) -> list[EmailMessage]:
    engine = make_engine(sqlite_url(copy))
    with make_session_factory(engine)() as session:
        events = session.scalars(select(Event).where(Event.kind == "digest")).all()
        messages = []
        for event in events:
            for delivery in event.deliveries:
                mail = EmailMessage()
                mail["From"], mail["To"], mail["Subject"] = sender, delivery.recipient, event.title
                mail.set_content(event.body)
                messages.append(mail)
    engine.dispose()
    return messages


def run(path: Path, work: Path, subscribers: int, repeat: int) -> list[Row]:
    from aiosmtpd.controller import Controller

    from tracker.notifiers.email import EmailNotifier

    counter = _Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    mine: list[float] = []
    floor: list[float] = []
    sent_counts: list[int] = []
    try:
        for i in range(repeat):
            copy = copy_db(path, work, f"digest-{i}")
            settings = Settings(
                database_url=sqlite_url(copy),
                data_dir=work / "digest-home",
                smtp={"host": "127.0.0.1", "port": port},
                digest={"send_when_empty": True},
            )
            engine = make_engine(sqlite_url(copy))
            notifier = EmailNotifier.from_settings(settings)
            worker = Worker(
                make_session_factory(engine), settings, FixedClock(DIGEST_AT), {"email": notifier}
            )
            before = counter.received
            elapsed = timed(worker.tick)
            notifier.close()
            engine.dispose()
            sent = counter.received - before
            sent_counts.append(sent)
            mine.append(sent / (elapsed / 1000))
            messages = _prebuilt(copy, settings.smtp.sender)

            def bare(messages: list[EmailMessage] = messages) -> None:
                with smtplib.SMTP("127.0.0.1", port) as connection:
                    for mail in messages:
                        connection.send_message(mail)

            floor.append(len(messages) / (timed(bare) / 1000))
    finally:
        controller.stop()
    row = ratio_row(
        "3 digest delivery",
        f"{subscribers:,} subscribers, {sent_counts[0]:,} digests",
        mine,
        floor,
        "msg/s",
        "≥ 0.8× floor's msg/s",
    )
    row.met = row.ratio is not None and row.ratio >= 0.8
    row.note = (
        f"scaled down from 10k subscribers to {subscribers:,} to keep `make bench` under 15 "
        "min; the rate does not depend on the count (built and sent one by one)"
        if subscribers < 10_000
        else ""
    )
    print(f"digests: {row.tracker.text()} vs {row.floor.text() if row.floor else ''}")
    return [row]
