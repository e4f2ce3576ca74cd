"""Send-rate limits shared by every process that sends, kept in the database.

Each limit is a token bucket, a row of ``send_budgets``: ``"global"`` for every message
(``[delivery] max_per_second``) and ``"domain:<domain>"`` per recipient domain
(``max_per_second_per_domain``). Before a message goes out its process takes a token
from each bucket that applies, the rows locked (``SELECT ... FOR UPDATE``) for the
moment of the update, so workers on any number of machines share one budget.

A bucket holds at most one token: messages are paced evenly rather than let through in
bursts, since the relay's own limit is what we must stay under in every second. A token
not there yet is taken anyway, as a debt (the bucket goes below zero): the caller is
told how long to wait for it, and the next caller waits behind it. So each message has
its slot at once, and no worker polls the bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.outbox.leases import Lease
from tracker.outbox.models import SendBudget
from tracker.settings import DeliverySettings

GLOBAL = "global"
CAPACITY = 1.0  # tokens a bucket holds: no bursts (see the module's text)

_budgets = cast(Table, SendBudget.__table__)


def keys(settings: DeliverySettings, recipient: str) -> list[tuple[str, float]]:
    """The buckets a message to ``recipient`` draws on, with their rates (global first:
    every process locks them in the same order)."""
    found: list[tuple[str, float]] = []
    if settings.max_per_second > 0:
        found.append((GLOBAL, settings.max_per_second))
    domain = recipient.rpartition("@")[2].lower() if "@" in recipient else ""
    if settings.max_per_second_per_domain > 0 and domain:
        found.append((f"domain:{domain}"[:300], settings.max_per_second_per_domain))
    return found


def take(connection: Connection, key: str, per_second: float, now: datetime) -> float:
    """Take one token from ``key``'s bucket (not committed); the seconds to wait before
    the message may go out (0 when a token was there)."""
    locked = select(_budgets.c.tokens, _budgets.c.refilled_at).where(_budgets.c.key == key)
    if connection.dialect.name == "postgresql":
        locked = locked.with_for_update()
    row = connection.execute(locked).first()
    if row is None:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            insert(_budgets)
            .values(key=key, tokens=CAPACITY, refilled_at=now)
            .on_conflict_do_nothing(index_elements=[_budgets.c.key])
        )
        row = connection.execute(locked).one()
    tokens, refilled_at = float(row[0]), cast(datetime, row[1])
    # Another machine's clock may be ahead: time never runs backwards for a bucket.
    elapsed = max((now - refilled_at).total_seconds(), 0.0)
    tokens = min(CAPACITY, tokens + elapsed * per_second) - 1.0
    connection.execute(
        update(_budgets)
        .where(_budgets.c.key == key)
        .values(tokens=tokens, refilled_at=max(now, refilled_at))
    )
    return max(-tokens / per_second, 0.0)


@dataclass
class Throttle:
    """Holds each message back until every bucket it draws on has its token for it.
    ``wait`` sleeps up to the seconds given and says whether a stop came meanwhile; the
    holder's ``lease`` is renewed through a long wait, so its claims never run out while
    it waits its turn."""

    engine: Engine
    settings: DeliverySettings
    now: Callable[[], datetime]
    wait: Callable[[float], bool]
    lease: Lease | None = None

    @property
    def active(self) -> bool:
        return self.settings.max_per_second > 0 or self.settings.max_per_second_per_domain > 0

    def clear(self, recipient: str) -> bool:
        """Wait for the message to ``recipient`` to be allowed out; False if a stop came
        while waiting (its tokens are spent: a slot lost, never a limit passed)."""
        buckets = keys(self.settings, recipient)
        if not buckets:
            return True
        with self.engine.begin() as connection:
            now = self.now()
            delay = max(take(connection, key, rate, now) for key, rate in buckets)
        step = self.lease.seconds / 4 if self.lease is not None else delay
        while delay > 0:
            if self.wait(min(delay, step)):
                return False
            delay -= step
            if delay > 0 and self.lease is not None:
                with self.engine.begin() as connection:
                    self.lease.renew(connection, self.now())
        return True
