"""The processes that plan and deliver, as Prometheus families (the ``/metrics`` of every
node reads them from the database at each scrape, so every node shows the same)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from tracker.outbox import cluster


def cluster_metrics(nodes: cluster.Cluster) -> Iterator[Metric]:
    """Per process (planners and workers, by name): up, counters since it started, sent
    per minute over its life; the backlog, the oldest claim, the active planner's node."""
    yield GaugeMetricFamily(
        "tracker_outbox_backlog", "Pending deliveries due now", value=nodes.backlog
    )
    yield GaugeMetricFamily(
        "tracker_outbox_in_hand", "Deliveries claimed by a worker", value=nodes.in_hand
    )
    yield GaugeMetricFamily(
        "tracker_outbox_oldest_claim_age_seconds",
        "Age of the oldest claim still in hand (0: none)",
        value=nodes.oldest_claim_age_seconds or 0.0,
    )
    planner = GaugeMetricFamily(
        "tracker_planner_active", "1 for the planner holding the lock", labels=["holder", "node"]
    )
    if nodes.planner is not None:
        planner.add_metric([nodes.planner.name, nodes.planner.node or ""], 1)
    yield planner
    labels = ["process", "role", "host"]
    up = GaugeMetricFamily("tracker_process_up", "1 while its heartbeat is recent", labels=labels)
    seen = GaugeMetricFamily(
        "tracker_process_heartbeat_age_seconds", "Seconds since its last heartbeat", labels=labels
    )
    rate = GaugeMetricFamily(
        "tracker_process_sent_per_minute", "Sent per minute since it started", labels=labels
    )
    counters = {
        name: CounterMetricFamily(f"tracker_process_{name}", doc, labels=labels)
        for name, doc in (
            ("sent", "Deliveries it sent since it started"),
            ("failed", "Delivery attempts that failed since it started"),
            ("claimed", "Deliveries it claimed since it started"),
        )
    }
    for process in nodes.processes:
        key = [process.name, process.role, process.host]
        up.add_metric(key, int(process.up))
        seen.add_metric(key, process.seen_seconds_ago)
        rate.add_metric(key, process.sent_per_minute)
        counters["sent"].add_metric(key, process.sent)
        counters["failed"].add_metric(key, process.failed)
        counters["claimed"].add_metric(key, process.claimed)
    yield from (up, seen, rate, *counters.values())
