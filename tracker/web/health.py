"""``/healthz`` and ``/metrics``: is this node fit to serve, and how is the system doing.

``/healthz`` answers 200 whenever the database answers (503 when it does not): a web node
serves the catalogue from the database alone, so a load balancer must not pull it because
the daemon is down. Whatever else is wrong (no active daemon, its heartbeat or its work
late) makes the status ``degraded``, with the problems named, still 200.

``/metrics`` is Prometheus text: requests counted by route template (never the raw path:
one series per slug would be unbounded), method and status, and the state read from the
database at scrape time by a collector of this app's own registry (no process-wide state).

The daemon's liveness comes from what the database can see, so every node answers alike:
- active: its lock is held (PostgreSQL: the advisory lock in ``pg_locks``; SQLite: the
  file lock beside the database, tried for an instant with a shared lock);
- heartbeat age (PostgreSQL): the lock's connection runs ``SELECT 1`` every heartbeat, so
  the server's ``query_start`` for it is the last heartbeat, aged by the server's clock;
- tick lag: how long the earliest work the plan says is due has waited (0 when nothing
  is overdue). A daemon that ticks takes due rows within a sweep; a stalled one lets this
  grow. Marks of "due now" from edits carry no time and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from tracker.catalog import revision
from tracker.daemon.lock import ADVISORY_KEY, FileLock, lock_for
from tracker.interchange.calendars import Failing, failing
from tracker.outbox import cluster, transports
from tracker.outbox.models import Delivery, DeliveryStatus
from tracker.plan import DUE_NOW, PlanEntry
from tracker.web.cluster_metrics import cluster_metrics

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.applications import Starlette

    from tracker.clock import Clock
    from tracker.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

# Late beyond these, the daemon is a problem: it beats every 5 s and takes due work
# within a sweep (30 s at most), so these are several periods missed, not one slow one.
HEARTBEAT_LATE_SECONDS = 30.0
TICK_LATE_SECONDS = 120.0
UNMATCHED = "unmatched"  # the route label of a path no route knows (a 404)


@dataclass(frozen=True)
class DaemonState:
    active: bool
    holder: str | None  # who holds the lock, when it can be told
    heartbeat_age_seconds: float | None  # PostgreSQL only
    tick_lag_seconds: float
    last_tick_age_seconds: float | None  # since a daemon last said it ran a round


@dataclass(frozen=True)
class Outbox:
    pending: int
    failed: int
    oldest_pending_age_seconds: float | None
    transports: list[transports.Status]


@dataclass(frozen=True)
class Health:
    daemon: DaemonState
    outbox: Outbox
    calendars: list[Failing]  # polled calendars whose last poll failed
    cluster: cluster.Cluster  # workers, claims, backlog, the active planner

    def problems(self) -> list[str]:
        daemon, found = self.daemon, []
        if not daemon.active:
            found.append("no active daemon")
        if (daemon.heartbeat_age_seconds or 0.0) > HEARTBEAT_LATE_SECONDS:
            found.append(f"daemon heartbeat {daemon.heartbeat_age_seconds:.0f} s old")
        if daemon.tick_lag_seconds > TICK_LATE_SECONDS:
            found.append(f"due work waiting {daemon.tick_lag_seconds:.0f} s")
        last_tick = daemon.last_tick_age_seconds
        if daemon.active and last_tick is not None and last_tick > TICK_LATE_SECONDS:
            found.append(f"the daemon has not run a round for {last_tick:.0f} s")
        found += [f"transport {t.name} paused" for t in self.outbox.transports if t.state != "ok"]
        return found + [calendar.problem() for calendar in self.calendars]


class Probe:
    """Reads the health of the system from the database, for both endpoints."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock
        url = settings.effective_database_url
        lock = (
            None
            if make_url(url).get_backend_name() == "postgresql"
            else lock_for(url, settings.data_dir)
        )
        self.lock_file = lock.path if isinstance(lock, FileLock) else None
        self.settings = settings

    @cached_property
    def channels(self) -> list[str]:
        """The configured channels, looked up once (entry points are slow to read)."""
        from tracker.daemon.system import configured_notifiers

        return list(configured_notifiers(self.settings))

    def read(self) -> Health:
        """The state now; raises whatever the database raises when it cannot be read."""
        now = self.clock.now()
        with self.sessions() as session:
            connection = session.connection()
            nodes = cluster.read(
                connection, now, lock_file=self.lock_file, advisory_key=ADVISORY_KEY
            )
            daemon = self._daemon(connection, now, nodes.planner)
            found = transports.status(connection, self.channels, now)
            failed = connection.scalar(
                select(func.count()).where(Delivery.status == DeliveryStatus.FAILED.value)
            )
            calendars = failing(connection)
        oldest = min((t.oldest_pending for t in found if t.oldest_pending), default=None)
        outbox = Outbox(
            pending=sum(t.pending for t in found),
            failed=int(failed or 0),
            oldest_pending_age_seconds=_age(now, oldest),
            transports=found,
        )
        return Health(daemon, outbox, calendars, nodes)

    def _daemon(
        self, connection: Connection, now: datetime, holder: cluster.Holder | None
    ) -> DaemonState:
        earliest = connection.scalar(
            select(func.min(PlanEntry.due_at)).where(
                PlanEntry.due_at > DUE_NOW, PlanEntry.due_at <= now
            )
        )
        lag = _age(now, earliest) or 0.0
        last_tick = _age(now, revision.stamp(connection, revision.DAEMON_TICK).changed_at)
        if holder is None:
            return DaemonState(False, None, None, lag, last_tick)
        return DaemonState(True, holder.name or None, holder.heartbeat_age_seconds, lag, last_tick)


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


class StateCollector(Collector):
    """The outbox and the daemon as gauges, read from the database at each scrape."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tracker_database_up", "1 when the database answered this scrape")
        try:
            health = self.probe.read()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        daemon = health.daemon
        yield GaugeMetricFamily(
            "tracker_daemon_active", "1 while a daemon holds the lock", value=int(daemon.active)
        )
        if daemon.heartbeat_age_seconds is not None:
            yield GaugeMetricFamily(
                "tracker_daemon_heartbeat_age_seconds",
                "Age of the active daemon's last heartbeat (PostgreSQL)",
                value=daemon.heartbeat_age_seconds,
            )
        if daemon.last_tick_age_seconds is not None:
            yield GaugeMetricFamily(
                "tracker_daemon_last_tick_age_seconds",
                "Seconds since a daemon last said it ran a round (written every 10 s)",
                value=daemon.last_tick_age_seconds,
            )
        yield GaugeMetricFamily(
            "tracker_daemon_tick_lag_seconds",
            "How long the earliest due work has waited for a tick (0: none overdue)",
            value=daemon.tick_lag_seconds,
        )
        by_transport = {
            "tracker_outbox_pending": "Deliveries pending or being sent",
            "tracker_outbox_oldest_pending_age_seconds": "Age of the oldest pending delivery",
            "tracker_transport_paused": "1 while the transport is paused",
            "tracker_last_successful_delivery_timestamp_seconds": "Unix time of the last delivery",
        }
        families = {
            name: GaugeMetricFamily(name, doc, labels=["transport"])
            for name, doc in by_transport.items()
        }
        now = self.probe.clock.now()
        for t in health.outbox.transports:
            values = {
                "tracker_outbox_pending": float(t.pending),
                "tracker_outbox_oldest_pending_age_seconds": _age(now, t.oldest_pending),
                "tracker_transport_paused": float(t.state != "ok"),
                "tracker_last_successful_delivery_timestamp_seconds": (
                    t.last_success_at.timestamp() if t.last_success_at else None
                ),
            }
            for name, value in values.items():
                if value is not None:
                    families[name].add_metric([t.name], value)
        yield from families.values()
        yield GaugeMetricFamily(
            "tracker_outbox_failed", "Deliveries given up on", value=health.outbox.failed
        )
        yield GaugeMetricFamily(
            "tracker_calendars_failing",
            "Polled calendars whose last poll failed",
            value=len(health.calendars),
        )
        yield from cluster_metrics(health.cluster)


class Monitor:
    """The endpoints and the request metrics of one app, on a registry of its own."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.probe = Probe(settings, sessions, clock)
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "tracker_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "tracker_http_request_duration_seconds",
            "Time to the end of the response, by route template",
            ["route"],
            registry=self.registry,
        )
        self.registry.register(StateCollector(self.probe))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/healthz", self.healthz, methods=["GET", "HEAD"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    def instrument(self, app: Starlette) -> None:
        """Count every request, outermost, so whatever answers it is counted."""
        app.add_middleware(RequestMetrics, monitor=self)

    def healthz(self, request: Request) -> Response:
        headers = {"Cache-Control": "no-store"}
        try:
            health = self.probe.read()
        except Exception as exc:
            failure = {"status": "error", "database": "error", "error": type(exc).__name__}
            return JSONResponse(failure, status_code=503, headers=headers)
        problems = health.problems()
        outbox = asdict(health.outbox)
        del outbox["transports"]
        body: dict[str, Any] = {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "database": "ok",
            "daemon": asdict(health.daemon),
            "outbox": outbox,
            "calendars_failing": [calendar.as_dict() for calendar in health.calendars],
        }
        return JSONResponse(body, headers=headers)

    def metrics(self, request: Request) -> Response:
        return Response(
            generate_latest(self.registry),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )


class RequestMetrics:
    """ASGI middleware: the route template the router chose, the status sent."""

    def __init__(self, app: ASGIApp, monitor: Monitor) -> None:
        self.app, self.monitor = app, monitor

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route_of(scope)
            self.monitor.requests.labels(route, scope["method"], str(status)).inc()
            self.monitor.seconds.labels(route).observe(time.perf_counter() - started)


def _route_of(scope: Scope) -> str:
    """The path template of the route the router chose (it leaves its endpoint in the
    scope); several routes may share an endpoint, so the one matching the path."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED
    for route in scope["app"].router.routes:
        # PARTIAL: the path matched with another method (a 405)
        if getattr(route, "endpoint", None) is endpoint and route.matches(scope)[0] != Match.NONE:
            return str(route.path)
    return UNMATCHED
