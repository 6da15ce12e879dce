"""Prometheus metrics of the worker. Labels are topics, reasons, rules and severities: never a
patient identifier, which would both leak patient data and explode the series count."""

from prometheus_client import CollectorRegistry, Counter, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_CONSUMED = Counter(
    "crsmon_messages_consumed_total", "Messages read from input topics.", ["topic"],
    registry=REGISTRY,
)
MESSAGES_REJECTED = Counter(
    "crsmon_messages_rejected_total", "Input messages sent to dead-letters, by why.",
    ["topic", "reason"], registry=REGISTRY,
)
ALERTS_EMITTED = Counter(
    "crsmon_alerts_emitted_total", "Alert state changes published.",
    ["rule", "severity", "status"], registry=REGISTRY,
)


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
