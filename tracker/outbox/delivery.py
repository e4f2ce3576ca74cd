"""Delivering the outbox in batches: claim, send over one connection, record outcomes.

A batch of due deliveries is claimed (:mod:`tracker.outbox.claims`), so two workers
never send the same row. Each outcome is written as soon as the notifier gives it, before
the next message goes out, so a killed worker repeats at most the one delivery in hand
(writing outcomes in groups was a few per cent faster, and repeated a group). Claimed rows
a stopped worker never tried go back to pending; a killed worker's claims go back when
their lease runs out (:mod:`tracker.outbox.leases`), which a live worker renews as it
sends. Send-rate limits are shared through the database (:mod:`tracker.outbox.budgets`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from datetime import timedelta
from typing import cast

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.clock import Clock
from tracker.notifiers.base import DeliveryError, Message, Notifier
from tracker.outbox import transports
from tracker.outbox.budgets import Throttle
from tracker.outbox.claims import BATCH, InHand, Outcome, claim_batch, release, write_outcome
from tracker.outbox.leases import Lease, Tally, daemon_claimant
from tracker.outbox.messages import OPERATOR, load, operator_recipient
from tracker.settings import DeliverySettings

log = logging.getLogger("tracker.outbox")
__all__ = ["OPERATOR", "deliver_due", "load", "operator_recipient", "outcomes"]
# Pauses that ended longer ago than any give-up window can reach back do not matter.
_LOOK_BACK = timedelta(days=400)


def outcomes(
    notifier: Notifier | None, channel: str, batch: Iterable[InHand]
) -> Generator[tuple[InHand, Outcome], None, None]:
    """Each delivery taken from ``batch`` with its outcome, once the notifier is done with
    it; through the notifier's optional ``deliver_each`` (a batch over one connection)
    when it has one. ``batch`` is taken lazily, so it can end early."""
    batch = iter(batch)  # shared by the notifier and the fallback below: each taken once
    if notifier is None:
        for held in batch:
            yield held, DeliveryError(f"channel {channel!r} is not configured")
        return
    each: Callable[[Iterable[Message]], Iterator[Outcome]] | None = getattr(
        notifier, "deliver_each", None
    )  # optional: see DeliversEach
    if each is None:
        for held in batch:
            message = held.message
            yield held, message if isinstance(message, DeliveryError) else _one(notifier, message)
        return
    given: list[InHand] = []  # to the notifier, in order
    unsendable: list[InHand] = []

    def messages() -> Iterator[Message]:
        for held in batch:
            if isinstance(held.message, DeliveryError):
                unsendable.append(held)
            else:
                given.append(held)
                yield held.message

    done = 0
    try:
        for outcome in each(messages()):
            yield given[done], outcome
            done += 1
            while unsendable:
                held = unsendable.pop()
                yield held, cast(DeliveryError, held.message)
    except Exception as exc:  # a broken notifier must not stop the others
        error = (
            exc if isinstance(exc, DeliveryError) else DeliveryError(f"{type(exc).__name__}: {exc}")
        )
        for held in given[done:]:  # in its hands: maybe sent, so retried later
            yield held, error
        for held in batch:  # what it never took, one at a time
            message = held.message
            yield held, message if isinstance(message, DeliveryError) else _one(notifier, message)
    for held in unsendable:
        yield held, cast(DeliveryError, held.message)


def _one(notifier: Notifier, message: Message) -> Outcome:
    try:
        notifier.deliver(message)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a broken notifier must not stop the others
        return DeliveryError(f"{type(exc).__name__}: {exc}")
    return None


def _engine(factory: sessionmaker[Session]) -> Engine:
    bind = factory.kw["bind"]
    assert isinstance(bind, Engine), "the session factory is bound to one engine"
    return bind


def deliver_due(
    factory: sessionmaker[Session],
    notifiers: Mapping[str, Notifier],
    clock: Clock,
    settings: DeliverySettings,
    stop: Callable[[], bool] = lambda: False,
    *,
    lease: Lease | None = None,
    batch_size: int = BATCH,
    wait: Callable[[float], bool] | None = None,
    tally: Tally | None = None,
) -> int:
    """Deliver every due pending delivery, a batch at a time, channel by channel, writing
    each outcome as it comes; the number sent. Claimed rows not tried (a stop came, or
    their channel's transport failed) are given back. A paused channel is left alone
    until its next probe (:mod:`tracker.outbox.transports`).

    Claims are held under ``lease`` (the daemon's, by default) and renewed as outcomes
    are written; a message waits for the send-rate limits, sleeping with ``wait`` (which
    says whether a stop came meanwhile); ``tally`` counts what was claimed and sent."""
    personal = [name for name, n in notifiers.items() if n.audience == "subscriber"]
    engine = _engine(factory)
    lease = lease or Lease(daemon_claimant(), settings.lease_seconds)
    tally = tally or Tally("", "", clock.now())
    throttle = Throttle(engine, settings, clock.now, wait or _sleep(stop), lease)
    sent = 0
    answered: set[int] = set()  # deliveries whose outcome is written

    def until_stopped(group: list[InHand]) -> Iterator[InHand]:
        for held in group:
            if stop():
                return
            if lease.lapsed(clock.now()):  # stalled past its lease: the rest may be another's
                log.warning("the lease of %s ran out mid-batch: leaving the rest", lease.holder)
                return
            if (
                throttle.active
                and isinstance(held.message, Message)
                and not throttle.clear(held.recipient)
            ):
                return
            yield held

    while not stop():
        ids = claim_batch(factory, clock.now(), batch_size, lease)
        if not ids:
            break
        tally.claimed += len(ids)
        with factory() as session:
            batch = load(session, ids, personal)
        by_channel: dict[str, list[InHand]] = {}
        for held in batch:
            by_channel.setdefault(held.channel, []).append(held)
        try:
            for channel, group in by_channel.items():
                # One connection for the channel's batch, one commit per outcome.
                with engine.connect() as connection:
                    sent += _deliver_group(
                        connection,
                        notifiers.get(channel),
                        channel,
                        until_stopped(group),
                        clock,
                        settings,
                        answered,
                        lease,
                        tally,
                    )
                if stop():
                    break
        finally:
            # Given back: those not answered (a stop came, their transport failed, the
            # notifier had taken them ahead and not sent them yet, or an error ends this).
            release(factory, [held for held in batch if held.id not in answered], lease.holder)
    return sent


def _sleep(stop: Callable[[], bool]) -> Callable[[float], bool]:
    def wait(seconds: float) -> bool:
        time.sleep(seconds)
        return stop()

    return wait


def _deliver_group(
    connection: Connection,
    notifier: Notifier | None,
    channel: str,
    group: Iterator[InHand],
    clock: Clock,
    settings: DeliverySettings,
    answered: set[int],
    lease: Lease,
    tally: Tally,
) -> int:
    """Deliver one channel's part of a batch; stops at a fault of its transport (which
    pauses it) or at a stop mid-message. The number sent; each delivery whose outcome is
    written is added to ``answered``."""
    sent = 0
    reached = False  # some message reached the transport: it works
    pauses = transports.pauses(connection, channel, clock.now() - _LOOK_BACK)
    with closing(outcomes(notifier, channel, group)) as answers:
        for held, error in answers:
            now = clock.now()
            write_outcome(connection, held, error, now, settings, pauses, lease.holder)
            answered.add(held.id)
            if lease.renew(connection, now):
                connection.commit()
            if error is not None and error.kind == "transport":
                transports.fault(connection, channel, str(error), now, settings)
                connection.commit()
                break
            if error is not None and error.kind == "interrupted":
                break
            sent += error is None
            tally.sent += error is None
            tally.failed += error is not None
            if not reached and isinstance(held.message, Message):
                reached = True  # resumed, if it was paused, even by a message refused
                transports.succeeded(connection, channel, now, sent=error is None)
                connection.commit()
            if lease.lapsed(now):
                # The message the notifier holds next must not go: its row may be
                # another's by now. Closing the answers cancels it unsent.
                log.warning("the lease of %s ran out mid-batch: leaving the rest", lease.holder)
                break
    if sent:
        transports.succeeded(connection, channel, clock.now(), sent=True)
        connection.commit()
    return sent
