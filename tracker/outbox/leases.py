"""Who holds the deliveries in hand, until when; and each running process's heartbeat.

A claim names its holder (``deliveries.claimed_by``: a worker's name, or
``"daemon <host> <pid>"``) and holds its rows until ``lease_until``. A live holder
renews the lease as it sends (every quarter of a lease at most), so only a holder that
died lets it run out; then any worker or planner gives those rows back to pending
(:func:`requeue_expired`), and the one message that was in hand may go out twice.

The one active daemon gives back every row a daemon held when it takes over
(:func:`recover`): the daemon before it is gone, it held the lock. A worker's rows are
given back only when their lease runs out: other workers are alive.

Each process that plans or delivers writes its row in ``workers`` every few seconds
(:func:`beat`): its role, host, pid, and what it claimed, sent and failed since it
started, for the status page and the metrics.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from tracker import plan
from tracker.db import transaction
from tracker.outbox.models import Delivery, DeliveryStatus, RunningProcess

# The transaction-scoped advisory lock that queues claims (see claims.claim_batch):
# "trac" "clam", apart from the daemon's lock.
CLAIM_KEY = 0x7472_6163_636C_616D
DAEMON_PREFIX = "daemon "
LEASE_SECONDS = 120
FORGET_AFTER = timedelta(days=7)  # a process not seen for this long leaves ``workers``

_deliveries = cast(Table, Delivery.__table__)
_processes = cast(Table, RunningProcess.__table__)


def daemon_claimant() -> str:
    """The holder's name for this daemon process (no worker's name has a space)."""
    return f"{DAEMON_PREFIX}{socket.gethostname()} {os.getpid()}"[:120]


@dataclass
class Lease:
    """What a process's claims say about it: its name, and how long a claim holds."""

    holder: str
    seconds: float = LEASE_SECONDS
    renewed_at: datetime | None = field(default=None, compare=False)

    def claimed(self, now: datetime) -> datetime:
        """The end of a claim made ``now`` (which counts as a renewal)."""
        self.renewed_at = now
        return now + timedelta(seconds=self.seconds)

    def lapsed(self, now: datetime) -> bool:
        """Whether the last renewal is a whole lease ago: the claims may be another's by
        now (given back, claimed again), so nothing more of them may be sent."""
        return self.renewed_at is not None and now >= self.renewed_at + timedelta(
            seconds=self.seconds
        )

    def renew(self, connection: Connection, now: datetime) -> bool:
        """Move the end of every claim this holder has in hand to a lease from ``now``,
        when a quarter of a lease has passed since the last renewal (not committed:
        the caller commits it with its next outcome); whether it did. A lease that has
        lapsed is not renewed: its rows may be another's (see :meth:`lapsed`)."""
        if self.renewed_at is not None and (
            now - self.renewed_at < timedelta(seconds=self.seconds / 4) or self.lapsed(now)
        ):
            return False
        connection.execute(
            update(_deliveries)
            .where(
                _deliveries.c.status == DeliveryStatus.SENDING.value,
                _deliveries.c.claimed_by == self.holder,
            )
            .values(lease_until=self.claimed(now))
        )
        return True


def requeue_expired(connection: Connection, now: datetime) -> int:
    """Give back to pending the rows whose holder let its lease run out (it died, or lost
    the database); their attempt stands: the message in hand may have gone out."""
    result = connection.execute(
        update(_deliveries)
        .where(
            _deliveries.c.status == DeliveryStatus.SENDING.value,
            _deliveries.c.lease_until < now,
        )
        .values(status=DeliveryStatus.PENDING.value, claimed_by=None, lease_until=None)
    )
    if result.rowcount:
        plan.mark(connection, [(plan.Work.DELIVERY.value, "", plan.DUE_NOW)])
    return int(result.rowcount)


def recover(connection: Connection, now: datetime) -> int:
    """Give back what daemons held (and rows from before leases, held by nobody named),
    and whatever lease ran out: for the one active daemon as it takes over."""
    result = connection.execute(
        update(_deliveries)
        .where(
            _deliveries.c.status == DeliveryStatus.SENDING.value,
            or_(
                _deliveries.c.claimed_by.is_(None),
                _deliveries.c.claimed_by.startswith(DAEMON_PREFIX, autoescape=True),
                _deliveries.c.lease_until < now,
            ),
        )
        .values(status=DeliveryStatus.PENDING.value, claimed_by=None, lease_until=None)
    )
    plan.mark(connection, [(plan.Work.DELIVERY.value, "", plan.DUE_NOW)])
    return int(result.rowcount)


@dataclass
class Tally:
    """What a process did since it started, written with each heartbeat."""

    name: str
    role: str
    started_at: datetime
    sent: int = 0
    failed: int = 0
    claimed: int = 0


def beat(connection: Connection, tally: Tally, now: datetime) -> None:
    """Write the process's row in ``workers`` (an upsert by name), and forget processes
    not seen for ``FORGET_AFTER`` (a default name has the pid: each start adds one).
    Not committed."""
    row: dict[str, Any] = {
        "name": tally.name,
        "role": tally.role,
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "started_at": tally.started_at,
        "seen_at": now,
        "sent": tally.sent,
        "failed": tally.failed,
        "claimed": tally.claimed,
    }
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_processes).values(row)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[_processes.c.name],
            set_={key: value for key, value in row.items() if key != "name"},
        )
    )
    connection.execute(delete(_processes).where(_processes.c.seen_at < now - FORGET_AFTER))


def heartbeat(factory: sessionmaker[Session], tally: Tally, now: datetime) -> int:
    """One heartbeat of a process: its row written and, on PostgreSQL (where workers run
    side by side), the claims whose lease ran out given back; how many, in one
    transaction."""
    with transaction(factory) as session:
        connection = session.connection()
        beat(connection, tally, now)
        if connection.dialect.name != "postgresql":
            return 0
        return requeue_expired(connection, now)
