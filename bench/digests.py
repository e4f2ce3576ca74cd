"""Digest delivery against bare smtplib, both to an aiosmtpd server in its own process.

Set-up (not timed): every subscriber wants a digest and has exactly the digest of one
period due at ``DIGEST_AT`` (``digest_through`` is the start of that period), nobody gets
immediate alerts, and a week of alerts and changes is in the outbox so the digests say
something (and differ with the subscribers' filters and zones).

The server offers PIPELINING, as real relays do: we send MAIL, RCPT and DATA in one
write; smtplib ignores the offer, so the floor's exchange is what it would be without.

Timed: recording the due digests (one transaction, as the daemon's tick does) and
delivering them. The floor then sends the very bytes we sent, as many messages of the
same sizes, with ``smtplib.SMTP.sendmail`` over one connection. The server runs in a
separate process so it does not take the client's GIL: both sides get a core each.

The timed run also measures where each message's time goes (record, claim, load,
compose, send, outcome, the rest) by wrapping those steps' functions with a clock: two
``perf_counter`` calls a step, about 1 µs a message in all.
"""

from __future__ import annotations

import multiprocessing
import random
import smtplib
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench.common import DIGEST_AT, OffersPipelining, copy_db, ratio_row, smtp_in_child
from bench.generate import KINDS, ZONES, sqlite_url
from bench.harness import Row, timed
from tracker.alerts import tokens
from tracker.alerts.digests import latest_period
from tracker.alerts.models import Subscriber
from tracker.clock import FixedClock
from tracker.db import make_engine, make_session_factory, transaction
from tracker.notifiers.base import Message
from tracker.notifiers.mime import Encoder
from tracker.outbox import delivery
from tracker.outbox.digest_notices import record_due_digests
from tracker.outbox.models import Delivery, Notice
from tracker.outbox.notices import Channels
from tracker.settings import Settings

RECENT_EVENTS = 60
TARGET = 0.75  # of the floor's rate (issue 12)


class _Counter(OffersPipelining):
    def __init__(self, received: Any, pipelining: bool) -> None:
        self.received = received
        self.pipelining = pipelining

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.received.get_lock():
            self.received.value += 1
        return "250 OK"


@contextmanager
def smtp_sink(pipelining: bool = True) -> Iterator[tuple[int, Any]]:
    """An aiosmtpd server counting messages, in a child process: (port, counter)."""
    received = multiprocessing.get_context("fork").Value("l", 0)
    with smtp_in_child(_Counter(received, pipelining)) as port:
        yield port, received


def prepare(session: Session, settings: Settings) -> None:
    """One digest period due for every subscriber, and a week of alerts and changes."""
    session.execute(update(Subscriber).values(immediate=False))
    session.execute(update(Subscriber).where(Subscriber.digest == "none").values(digest="weekly"))
    for frequency in ("daily", "weekly"):
        for tz in ZONES:
            period = latest_period(
                frequency,
                weekday=settings.digest.weekday,
                local_hour=settings.digest.local_hour,
                tz=tz,
                as_of=DIGEST_AT,
            )
            assert period is not None
            session.execute(
                update(Subscriber)
                .where(Subscriber.digest == frequency, Subscriber.tz == tz)
                .values(digest_through=period.starts_at)
            )
    rng = random.Random(20261123)
    treaties = sorted({t for ts in session.scalars(select(Subscriber.treaties)) for t in ts})
    rows = []
    for i in range(RECENT_EVENTS):
        kind = "alert" if i % 3 else "change"
        at = DIGEST_AT - timedelta(hours=rng.randint(1, 8 * 24))
        title = f"{'In 7 days' if kind == 'alert' else 'Moved'}: bench item {i}"
        rows.append(
            {
                "identity": f"{kind}:bench-digest:{i}",
                "kind": kind,
                "subject_type": "deadline",
                "subject_slug": f"deadline-{i}",
                "subject_kind": rng.choice(KINDS),
                "treaty_slug": rng.choice([*treaties, None]) if treaties else None,
                "title": title,
                "body": title + "\n",
                "payload": {},
                "due_at": at,
                "recorded_at": at,
                "late": False,
            }
        )
    session.execute(insert(Notice), rows)


def _sent_bytes(session: Session, settings: Settings) -> list[tuple[str, bytes]]:
    """What we sent, byte for byte but the MIME boundary and the Date: header (composing
    is deterministic): each with its recipient's own signed links."""
    ids = session.scalars(
        select(Delivery.id).where(Delivery.status == "sent").order_by(Delivery.id)
    ).all()
    links = tokens.from_settings(settings).links(settings.feeds.base_url)
    encoder = Encoder(settings.smtp.sender, links=links)
    sent = []
    for held in delivery.load(session, ids, ["email"]):
        assert isinstance(held.message, Message)
        sent.append((held.recipient, encoder(held.message)))
    return sent


def _floor(port: int, sender: str, messages: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for recipient, data in messages:
            connection.sendmail(sender, [recipient], data)
    return time.perf_counter() - start


STEPS = ("record", "claim", "load", "compose", "send", "outcome", "rest")


class Costs:
    """Seconds spent in each step of the timed run, by wrapping the steps' functions."""

    def __init__(self) -> None:
        self.spent = dict.fromkeys(STEPS, 0.0)
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: object, name: str, step: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[step] += time.perf_counter() - start

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def unwrap(self) -> None:
        while self._undo:
            self._undo.pop()()

    def per_message(self, total: float, sent: int) -> dict[str, float]:
        """Milliseconds a message for each step; "rest" is what no step accounts for."""
        self.spent["rest"] = total - sum(v for k, v in self.spent.items() if k != "rest")
        return {step: self.spent[step] / sent * 1000 for step in STEPS}


def _ours(factory: sessionmaker[Session], settings: Settings, notifier: Any, costs: Costs) -> None:
    """What the daemon's tick does for digests: record them, then deliver the outbox."""
    costs.wrap(delivery, "claim_batch", "claim")
    costs.wrap(delivery, "load", "load")
    costs.wrap(notifier, "email", "compose")
    for step in ("begin", "write", "finish"):  # a message's exchange, in its steps
        costs.wrap(notifier.transport, step, "send")
    costs.wrap(delivery, "write_outcome", "outcome")
    clock = FixedClock(DIGEST_AT)
    try:
        start = time.perf_counter()
        with transaction(factory) as session:
            record_due_digests(session, settings, Channels(("email",)), clock.now())
        costs.spent["record"] += time.perf_counter() - start
        delivery.deliver_due(factory, {"email": notifier}, clock, settings.delivery)
        notifier.close()
    finally:
        costs.unwrap()


def run(
    path: Path, work: Path, subscribers: int, repeat: int, *, pipelining: bool = True
) -> list[Row]:
    from tracker.notifiers.email import EmailNotifier

    mine: list[float] = []
    floor: list[float] = []
    breakdowns: list[dict[str, float]] = []
    sent_counts: list[int] = []
    sizes: list[int] = []
    with smtp_sink(pipelining) as (port, received):
        for i in range(repeat):
            copy = copy_db(path, work, f"digest-{i}")
            settings = Settings(
                database_url=sqlite_url(copy),
                data_dir=work / "digest-home",
                smtp={"host": "127.0.0.1", "port": port},
                digest={"send_when_empty": True},
            )
            engine = make_engine(sqlite_url(copy))
            factory = make_session_factory(engine)
            with transaction(factory) as session:
                prepare(session, settings)
            notifier = EmailNotifier.from_settings(settings)

            before = received.value
            costs = Costs()
            elapsed = timed(partial(_ours, factory, settings, notifier, costs)) / 1000
            sent = received.value - before
            breakdowns.append(costs.per_message(elapsed, max(sent, 1)))
            if sent != subscribers:
                raise RuntimeError(
                    f"{sent} digests for {subscribers} subscribers: one each expected"
                )
            sent_counts.append(sent)
            mine.append(sent / elapsed)
            with factory() as session:
                messages = _sent_bytes(session, settings)
            engine.dispose()
            if len(messages) != sent:
                raise RuntimeError(f"{sent} received but {len(messages)} marked sent")
            sizes.append(sum(len(data) for _, data in messages) // max(len(messages), 1))
            before = received.value
            seconds = _floor(port, settings.smtp.sender, messages)
            if received.value - before != len(messages):
                raise RuntimeError("the floor's messages did not all arrive")
            floor.append(len(messages) / seconds)
            print(
                f"digests {i}: {sent} in {elapsed:.2f} s ({mine[-1]:.0f} msg/s), "
                f"floor {floor[-1]:.0f} msg/s; per message: {_breakdown(breakdowns[-1])}, "
                f"floor's send {1000 / floor[-1]:.3f} ms",
                flush=True,
            )
    row = ratio_row(
        "3 digest delivery",
        f"{subscribers:,} subscribers, {sent_counts[0]:,} digests (~{sizes[0] // 1024} kB)",
        mine,
        floor,
        "msg/s",
        f"≥ {TARGET}× floor's msg/s",
    )
    row.met = row.ratio is not None and row.ratio >= TARGET
    row.note = (
        "recorded and sent vs the same bytes by smtplib.sendmail over one connection; "
        "aiosmtpd in its own process, "
        + (
            "offering PIPELINING as relays do (smtplib does not use it)"
            if pipelining
            else "not offering PIPELINING"
        )
    )
    median = {step: statistics.median(b[step] for b in breakdowns) for step in STEPS}
    row.extra["ms_per_message"] = median
    row.note += f"; per message (ms): {_breakdown(median)}"
    if row.ratio is not None and not row.met:
        row.note += f"; misses by {TARGET - row.ratio:.2f}: see the profile in the notes"
    print(f"digests: {row.tracker.text()} vs {row.floor.text() if row.floor else ''}")
    return [row]


def _breakdown(costs: dict[str, float]) -> str:
    return ", ".join(f"{step} {ms:.3f}" for step, ms in costs.items())
