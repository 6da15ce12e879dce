"""Prometheus metrics of `crsmon ingest`, served at /metrics on its HTTP port.

Labels are protocols and fixed reason words (the InvalidMessage kinds): never a patient
identifier, which would both leak patient data and explode the series count.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "crsmon_ingest_messages_total",
    "Messages received, by protocol and outcome "
    "(accepted: published; rejected: dead-lettered; failed: not published, sender told to retry).",
    ["protocol", "outcome"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "crsmon_ingest_rejected_total",
    "Messages sent to dead-letters, by protocol and why.",
    ["protocol", "reason"],
    registry=REGISTRY,
)
VITALS_PUBLISHED = Counter(
    "crsmon_ingest_vitals_published_total",
    "VitalSigns published to the vitals topic.",
    ["protocol"],
    registry=REGISTRY,
)
OBSERVATIONS_SKIPPED = Counter(
    "crsmon_ingest_observations_skipped_total",
    "Observations read and not used (not a vital sign, not final, no value, superseded, "
    "contradictory code), by protocol and why.",
    ["protocol", "reason"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "crsmon_ingest_events_published_total",
    "ClinicalEvents (lab results, neurological "
    "assessments) published to the clinical-events topic, by protocol and event type.",
    ["protocol", "type"],
    registry=REGISTRY,
)
OBSERVATIONS_REFUSED = Counter(
    "crsmon_ingest_observations_refused_total",
    "Lab and neuro observations refused (sent to "
    "dead-letters) while the rest of their message was used, by protocol and why.",
    ["protocol", "reason"],
    registry=REGISTRY,
)
MLLP_CONNECTIONS = Gauge(
    "crsmon_ingest_mllp_connections",
    "Open MLLP connections from gateways.",
    registry=REGISTRY,
)
HANDLING_SECONDS = Histogram(
    "crsmon_ingest_handling_seconds",
    "From a message fully received to its answer being ready (decoded and published or dead-lettered).",
    ["protocol"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
