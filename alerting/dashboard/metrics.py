"""Prometheus metrics of the dashboard. Labels are topics, kinds and outcomes: never a patient
identifier, which would both leak patient data and explode the series count."""

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_READ = Counter(
    "crsmon_dashboard_messages_read_total",
    "Messages the dashboard read, by topic.",
    ["topic"],
    registry=REGISTRY,
)
MESSAGES_INVALID = Counter(
    "crsmon_dashboard_messages_invalid_total",
    "Messages the dashboard could not show because they break the wire contract, by topic and why.",
    ["topic", "kind"],
    registry=REGISTRY,
)
BROWSERS_CONNECTED = Gauge(
    "crsmon_dashboard_browsers_connected",
    "Browsers following the live event stream.",
    registry=REGISTRY,
)
BROWSERS_DROPPED = Counter(
    "crsmon_dashboard_browsers_dropped_total",
    "Browsers disconnected because they fell too far behind (they reconnect and resynchronise).",
    registry=REGISTRY,
)
ACKNOWLEDGEMENTS = Counter(
    "crsmon_dashboard_acknowledgements_total",
    "Acknowledge requests, by outcome (published, rejected, failed).",
    ["outcome"],
    registry=REGISTRY,
)
ASSESSMENTS = Counter(
    "crsmon_dashboard_assessments_total",
    "Bedside ICE assessments submitted on the patient view, by outcome (published, rejected, failed).",
    ["outcome"],
    registry=REGISTRY,
)
KAFKA_REACHABLE = Gauge(
    "crsmon_dashboard_kafka_reachable",
    "1 while the dashboard's Kafka consumer reaches the broker.",
    registry=REGISTRY,
)

COURSES = Gauge(
    "crsmon_dashboard_courses",
    "Patients whose course the dashboard keeps for the patient view.",
    registry=REGISTRY,
)
COURSE_BYTES = Gauge(
    "crsmon_dashboard_course_row_bytes",
    "Bytes of the courses' minute rows (24 a minute per patient): what grows with the course window.",
    registry=REGISTRY,
)


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
