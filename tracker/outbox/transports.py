"""Transports paused and resumed: a channel whose connection fails as a whole.

When the SMTP server refuses our login (535, 530), TLS fails or the connection is
refused, no message is at fault: the channel's transport is *paused* (a row in
``transports``, and one in ``transport_pauses`` for the pause), its deliveries stay
pending and are not claimed, and one batch probes it again on a backoff (1, 2, 4… minutes
up to ``delivery.max_retry_seconds``). The first message sent resumes it, and the backlog
goes out. The give-up window of a delivery does not count the time its channel was
paused (:func:`paused_within`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker import plan
from tracker.db import UTCDateTime
from tracker.outbox.models import Delivery, DeliveryStatus, Transport, TransportPause
from tracker.settings import DeliverySettings

log = logging.getLogger("tracker.outbox")

_TRANSPORTS = cast(Table, Transport.__table__)
_PAUSES = cast(Table, TransportPause.__table__)

Pauses = Sequence[tuple[datetime, datetime | None]]


def resting(now: datetime) -> Select[tuple[str]]:
    """The channels paused and not due for a probe at ``now``: not to be claimed (a
    subquery of the claim, so an idle claim stays one statement)."""
    return select(_TRANSPORTS.c.name).where(
        _TRANSPORTS.c.paused_since.is_not(None), _TRANSPORTS.c.next_probe_at > now
    )


def pauses(
    connection: Connection, name: str, since: datetime
) -> list[tuple[datetime, datetime | None]]:
    """The channel's pauses that end after ``since`` (or have not ended)."""
    rows = connection.execute(
        select(_PAUSES.c.started_at, _PAUSES.c.ended_at).where(
            _PAUSES.c.transport == name,
            or_(_PAUSES.c.ended_at.is_(None), _PAUSES.c.ended_at > since),
        )
    )
    return [(start, end) for start, end in rows]


def paused_within(periods: Pauses, start: datetime, end: datetime) -> timedelta:
    """How much of ``start``…``end`` fell within the pauses."""
    total = timedelta()
    for began, ended in periods:
        overlap = min(end, ended or end) - max(start, began)
        if overlap > timedelta():
            total += overlap
    return total


def _state(connection: Connection, name: str) -> Any:
    return connection.execute(select(_TRANSPORTS).where(_TRANSPORTS.c.name == name)).first()


def _ensure(connection: Connection, name: str) -> Any:
    row = _state(connection, name)
    if row is None:  # several workers may meet here at once: the first one's row stands
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(_TRANSPORTS)
            .values(name=name, probes=0, paused_seconds=0.0)
            .on_conflict_do_nothing(index_elements=[_TRANSPORTS.c.name])
        )
        row = _state(connection, name)
    return row


def fault(
    connection: Connection, name: str, error: str, now: datetime, settings: DeliverySettings
) -> datetime:
    """The transport failed as a whole: pause it (or keep it paused, the next probe
    later); when it is probed next. The caller commits."""
    row = _ensure(connection, name)
    probes = row.probes + 1 if row.paused_since is not None else 1
    delay = min(settings.first_retry_seconds * 2 ** (probes - 1), settings.max_retry_seconds)
    probe_at = now + timedelta(seconds=delay)
    values: dict[str, Any] = {
        "probes": probes,
        "next_probe_at": probe_at,
        "last_error": error[:2000],
    }
    if row.paused_since is None:
        values["paused_since"] = now
        connection.execute(
            insert(_PAUSES).values(transport=name, started_at=now, error=error[:2000])
        )
        log.error(
            "transport %s paused: %s; deliveries wait, probed again at %s", name, error, probe_at
        )
    else:
        log.warning("transport %s still failing: %s; probed again at %s", name, error, probe_at)
    connection.execute(update(_TRANSPORTS).where(_TRANSPORTS.c.name == name).values(**values))
    plan.mark(connection, [(plan.Work.DELIVERY.value, "", probe_at)])
    return probe_at


def succeeded(connection: Connection, name: str, now: datetime, *, sent: bool = True) -> None:
    """A message went through the transport (``sent``, or refused on its own account):
    the transport works, resumed if it was paused. The caller commits."""
    row = _ensure(connection, name)
    values: dict[str, Any] = {"last_success_at": now} if sent else {}
    if row.paused_since is not None:
        paused = (now - row.paused_since).total_seconds()
        values |= {
            "paused_since": None,
            "next_probe_at": None,
            "probes": 0,
            "paused_seconds": row.paused_seconds + max(paused, 0.0),
        }
        connection.execute(
            update(_PAUSES)
            .where(_PAUSES.c.transport == name, _PAUSES.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        log.warning(
            "transport %s resumed after %s paused; sending its backlog",
            name,
            now - row.paused_since,
        )
    if values:
        connection.execute(update(_TRANSPORTS).where(_TRANSPORTS.c.name == name).values(**values))


@dataclass(frozen=True)
class Status:
    name: str
    paused_since: datetime | None
    next_probe_at: datetime | None
    last_error: str | None
    last_success_at: datetime | None
    paused_seconds: float
    pending: int
    oldest_pending: datetime | None

    @property
    def state(self) -> str:
        return "paused" if self.paused_since is not None else "ok"


def status(connection: Connection, channels: Sequence[str], now: datetime) -> list[Status]:
    """Each channel (configured, or with a row or a pending delivery) and its backlog."""
    window = func.coalesce(Delivery.requeued_at, Delivery.created_at, type_=UTCDateTime())
    backlog = {
        channel: (count, oldest)
        for channel, count, oldest in connection.execute(
            select(Delivery.channel, func.count(), func.min(window, type_=UTCDateTime()))
            .where(
                Delivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value])
            )
            .group_by(Delivery.channel)
        )
    }
    rows = {row.name: row for row in connection.execute(select(_TRANSPORTS))}
    found = []
    for name in sorted({*channels, *rows, *backlog}):
        row = rows.get(name)
        count, oldest = backlog.get(name, (0, None))
        paused_since = row.paused_since if row is not None else None
        total = row.paused_seconds if row is not None else 0.0
        if paused_since is not None:
            total += max((now - paused_since).total_seconds(), 0.0)
        found.append(
            Status(
                name,
                paused_since,
                row.next_probe_at if row is not None else None,
                row.last_error if row is not None else None,
                row.last_success_at if row is not None else None,
                total,
                int(count),
                oldest,
            )
        )
    return found
