"""Prometheus metrics of the dispatcher. Labels are receivers, routes, outcomes and topics,
which the configuration names: never a patient or an episode, which would leak patient data
and grow a series per admission."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)


class DispatchMetrics:
    """One registry per dispatcher, so that several can run in one test process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple, Any] = {}
        registry = self.registry
        self.notifications = Counter(
            "crsmon_dispatch_notifications_total",
            "Pages by receiver and outcome: delivered, dead_lettered, duplicate (already sent, "
            "not sent again), silenced, inhibited.",
            ["receiver", "outcome"],
            registry=registry,
        )
        self.attempts = Counter(
            "crsmon_dispatch_attempts_total",
            "HTTP attempts by receiver and result.",
            ["receiver", "result"],
            registry=registry,
        )
        self.latency = Histogram(
            "crsmon_dispatch_delivery_latency_seconds",
            "From an alert on the topic (or a page falling due) to the receiver's 2xx.",
            ["receiver"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.retry_queue = Gauge(
            "crsmon_dispatch_retry_queue_depth",
            "Notifications waiting to be retried.",
            ["receiver"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "crsmon_dispatch_notifications_in_flight",
            "Notifications without an outcome yet.",
            ["receiver"],
            registry=registry,
        )
        self.escalations = Counter(
            "crsmon_dispatch_escalations_total",
            "Episodes escalated to a level, by route.",
            ["route", "level"],
            registry=registry,
        )
        self.scheduled = Gauge(
            "crsmon_dispatch_episodes_scheduled",
            "Open episodes with a page still to come by time alone (an escalation, a repeat or "
            "a recheck after a quiet time); 0 once every open episode is acknowledged.",
            registry=registry,
        )
        self.disabled = Gauge(
            "crsmon_dispatch_receiver_disabled",
            "1 while a receiver's endpoint is disabled after answering 410 Gone.",
            ["receiver"],
            registry=registry,
        )
        self.rejected = Counter(
            "crsmon_dispatch_messages_rejected_total",
            "Messages of the alerts and acks topics sent to dead-letters as invalid.",
            ["topic", "reason"],
            registry=registry,
        )
        self.consumed = Counter(
            "crsmon_dispatch_messages_consumed_total",
            "Messages read, by topic.",
            ["topic"],
            registry=registry,
        )

    def labelled(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, remembered: labels() costs more than the increment."""
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
