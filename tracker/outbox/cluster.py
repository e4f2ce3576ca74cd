"""The processes that plan and deliver, as the database sees them: for ``tracker alerts
status`` and ``/metrics`` on any node.

- Each planner and worker keeps a heartbeat row (``workers``) with counters since it
  started; a worker's throughput is what it sent per minute over that time (Prometheus
  takes its own rate of the counters).
- The backlog is what is due and not yet claimed; the oldest claim is the delivery held
  longest by some worker (a claim older than the lease is a worker that died with it).
- The active planner is whoever holds the daemon lock: on PostgreSQL the advisory lock
  in ``pg_locks``, named by the holder's connection (``... on <host>``); elsewhere the file
  lock beside the database, tried for an instant with a shared lock.
"""

from __future__ import annotations

import fcntl
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, func, select, text

from tracker.outbox.models import Delivery, DeliveryStatus, RunningProcess

# A process whose heartbeat is older than this is taken for gone (it beats every few
# seconds; its row stays until another process of its name starts).
SILENT_AFTER_SECONDS = 30.0

_LOCK_HOLDER = text(
    "SELECT a.application_name, a.client_addr,"
    " EXTRACT(EPOCH FROM clock_timestamp() - a.query_start) AS heartbeat_age"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " JOIN pg_database d ON d.oid = l.database AND d.datname = current_database()"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = :high AND l.objid = :low"
)
_ON_HOST = re.compile(r" on (\S+)$")


@dataclass(frozen=True)
class Holder:
    """Who holds the daemon lock, and the node it runs on when that can be told."""

    name: str
    node: str | None
    heartbeat_age_seconds: float | None  # PostgreSQL: since the lock's connection beat


@dataclass(frozen=True)
class Process:
    name: str
    role: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    sent: int
    failed: int
    claimed: int
    seen_seconds_ago: float
    sent_per_minute: float  # over its life so far

    @property
    def up(self) -> bool:
        return self.seen_seconds_ago <= SILENT_AFTER_SECONDS

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role,
            "host": self.host,
            "pid": self.pid,
            "up": self.up,
            "started_at": self.started_at.isoformat(),
            "seen_at": self.seen_at.isoformat(),
            "seen_seconds_ago": round(self.seen_seconds_ago, 1),
            "sent": self.sent,
            "failed": self.failed,
            "claimed": self.claimed,
            "sent_per_minute": round(self.sent_per_minute, 1),
        }


@dataclass(frozen=True)
class Cluster:
    planner: Holder | None
    processes: list[Process]
    backlog: int  # pending deliveries due now
    in_hand: int  # deliveries claimed (``sending``)
    oldest_claim_age_seconds: float | None
    oldest_claim_by: str | None

    def as_dict(self) -> dict[str, object]:
        planner = self.planner
        return {
            "planner": None if planner is None else {"name": planner.name, "node": planner.node},
            "backlog": self.backlog,
            "in_hand": self.in_hand,
            "oldest_claim_age_seconds": self.oldest_claim_age_seconds,
            "oldest_claim_by": self.oldest_claim_by,
            "processes": [process.as_dict() for process in self.processes],
        }


def read(
    connection: Connection, now: datetime, *, lock_file: Path | None, advisory_key: int
) -> Cluster:
    """The state at ``now``. The daemon lock is ``lock_file`` (None on PostgreSQL), else
    the advisory lock ``advisory_key`` (the daemon's; given by the edge that asks)."""
    backlog = connection.scalar(
        select(func.count()).where(
            Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now
        )
    )
    in_hand, oldest = connection.execute(
        select(func.count(), func.min(Delivery.claimed_at)).where(
            Delivery.status == DeliveryStatus.SENDING.value
        )
    ).one()
    holder_of_oldest = None
    if oldest is not None:
        holder_of_oldest = connection.scalar(
            select(Delivery.claimed_by)
            .where(Delivery.status == DeliveryStatus.SENDING.value, Delivery.claimed_at == oldest)
            .limit(1)
        )
    return Cluster(
        planner=active_planner(connection, lock_file, advisory_key),
        processes=processes(connection, now),
        backlog=int(backlog or 0),
        in_hand=int(in_hand or 0),
        oldest_claim_age_seconds=None if oldest is None else _age(now, oldest),
        oldest_claim_by=holder_of_oldest,
    )


def processes(connection: Connection, now: datetime) -> list[Process]:
    table = RunningProcess.__table__
    found = []
    for row in connection.execute(select(table).order_by(table.c.name)):
        lived = max((row.seen_at - row.started_at).total_seconds(), 1.0)
        found.append(
            Process(
                name=row.name,
                role=row.role,
                host=row.host,
                pid=row.pid,
                started_at=row.started_at,
                seen_at=row.seen_at,
                sent=row.sent,
                failed=row.failed,
                claimed=row.claimed,
                seen_seconds_ago=_age(now, row.seen_at),
                sent_per_minute=row.sent * 60.0 / lived,
            )
        )
    return found


def active_planner(
    connection: Connection, lock_file: Path | None, advisory_key: int
) -> Holder | None:
    """Who holds the daemon lock now; None when nobody does."""
    if lock_file is not None:
        pid = _file_lock_holder(lock_file)
        return None if pid is None else Holder(f"pid {pid}" if pid else "", None, None)
    row = connection.execute(
        _LOCK_HOLDER, {"high": advisory_key >> 32, "low": advisory_key & 0xFFFF_FFFF}
    ).first()
    if row is None:
        return None
    name = f"{row.application_name} ({row.client_addr or 'local socket'})"
    on_host = _ON_HOST.search(row.application_name or "")
    node = on_host.group(1) if on_host else (str(row.client_addr) if row.client_addr else None)
    age = float(row.heartbeat_age) if row.heartbeat_age is not None else None
    return Holder(name, node, age)


def _file_lock_holder(path: Path) -> str | None:
    """The pid written in the lock file (or ``""``) while a daemon holds the file lock;
    None when none does. A shared lock held for an instant: a standby trying just then
    tries again later."""
    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None


def _age(now: datetime, then: datetime) -> float:
    return max((now - then).total_seconds(), 0.0)
