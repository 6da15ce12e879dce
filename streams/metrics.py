"""Prometheus metrics of the worker. Labels are topics, reasons, rules and severities: never a
patient identifier, which would both leak patient data and explode the series count."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_CONSUMED = Counter(
    "crsmon_messages_consumed_total",
    "Messages read from input topics.",
    ["topic"],
    registry=REGISTRY,
)
MESSAGES_REJECTED = Counter(
    "crsmon_messages_rejected_total",
    "Input messages sent to dead-letters, by why.",
    ["topic", "reason"],
    registry=REGISTRY,
)
MESSAGES_IGNORED = Counter(
    "crsmon_messages_ignored_total",
    "Valid input deliberately not applied, by why (e.g. readings older than a discharge).",
    ["topic", "reason"],
    registry=REGISTRY,
)
ALERTS_EMITTED = Counter(
    "crsmon_alerts_emitted_total",
    "Alert state changes published.",
    ["rule", "severity", "status"],
    registry=REGISTRY,
)
STATUSES_EMITTED = Counter(
    "crsmon_patient_status_emitted_total",
    "PatientStatus messages published.",
    registry=REGISTRY,
)
STATUSES_COALESCED = Counter(
    "crsmon_patient_status_coalesced_total",
    "PatientStatus messages not published because a later status of the same patient, from the "
    "same fetched batch, includes what they said (statuses of lab results: streams/record_step.py).",
    registry=REGISTRY,
)
PROCESSING_LATENCY = Histogram(
    "crsmon_processing_latency_seconds",
    "From an observation's event time to the publication of what it caused.",
    ["output"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
RECORDS_LOST_IN_FLIGHT = Counter(
    "crsmon_records_lost_in_flight_total",
    "Input records read again, from the first one Faust fetched but never gave the worker to "
    "the fetch position (streams/lost_records.py).",
    ["topic"],
    registry=REGISTRY,
)
LOST_RECORDS_UNCHECKED = Counter(
    "crsmon_lost_records_unchecked_total",
    "Checks of the lost-records watchdog that could not inspect aiokafka's consumer (an upgrade "
    "moved its internals: streams/faust_compat/); any is a safety net switched off.",
    registry=REGISTRY,
)
LOST_RECORDS_GIVEN_UP = Counter(
    "crsmon_lost_records_given_up_total",
    "Offsets the lost-records watchdog sought back to max_rewinds times without the worker "
    "reading them again: it stopped trying (an ERROR says so); restart the worker.",
    ["topic"],
    registry=REGISTRY,
)
LOST_RECORDS_CHECKS = Counter(
    "crsmon_lost_records_checks_total",
    "Checks the lost-records watchdog made of a ready worker (streams/lost_records.py): proof "
    "that the safety net runs, and a clock for tests that wait for it.",
    registry=REGISTRY,
)
BROKER_CONNECTED = Gauge(
    "crsmon_broker_connected",
    "1 while the worker's consumer had an answer from a Kafka broker within "
    "CRSMON_BROKER_UNREACHABLE_S (10 s); 0 after that, when /readyz answers 503 "
    "(streams/broker_contact.py).",
    registry=REGISTRY,
)
BROKER_SILENT = Gauge(
    "crsmon_broker_last_answer_age_seconds",
    "Seconds since a Kafka broker last answered the worker's consumer (fetches, heartbeats, "
    "metadata); a fraction of a second while connected.",
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "crsmon_consumer_lag_messages",
    "Messages not yet processed, per input topic partition.",
    ["topic", "partition"],
    registry=REGISTRY,
)
RECORDS_UNCOMMITTED = Gauge(
    "crsmon_records_uncommitted",
    "Input records taken but not committed, per input topic partition: "
    "their effect is not in the patients' stored state yet, so a restart reads them again "
    "(streams/patient_states.py; about a checkpoint interval of input).",
    ["topic", "partition"],
    registry=REGISTRY,
)
OPEN_EPISODES = Gauge(
    "crsmon_open_episodes",
    "Alert episodes open on this worker, by rule.",
    ["rule"],
    registry=REGISTRY,
)
PATIENTS_TRACKED = Gauge(
    "crsmon_patients_tracked",
    "Patients whose state this worker holds.",
    registry=REGISTRY,
)
STATE_WRITES = Counter(
    "crsmon_state_writes_total",
    "Patient state written to the table, by cause.",
    ["cause"],
    registry=REGISTRY,
)
STATE_WRITE_FAILURES = Counter(
    "crsmon_state_write_failures_total",
    "Patient state writes whose changelog message the broker refused or did not confirm. "
    "Never fatal: the patient's records stay uncommitted and it is written again.",
    registry=REGISTRY,
)
STATE_RESTORES = Counter(
    "crsmon_state_restores_total",
    "Patient states loaded from the table.",
    registry=REGISTRY,
)
STATE_RESTORE_FAILURES = Counter(
    "crsmon_state_restore_failures_total",
    "Stored patient states that could not be read.",
    registry=REGISTRY,
)
PUBLISH_FAILURES = Counter(
    "crsmon_publish_failures_total",
    "Messages the worker could not publish (the producer refused them or the broker did not "
    "confirm them), by topic. Never fatal: an alert stays in its patient's record, unconfirmed, "
    "and is sent again when that record is next restored.",
    ["topic"],
    registry=REGISTRY,
)
EVENT_LOOP_STALLS = Counter(
    "crsmon_event_loop_stalls_total",
    "Times the worker's event loop did not run for longer than CRSMON_LOOP_STALL_S (streams/loop_watchdog.py).",
    registry=REGISTRY,
)

ENGINE_STALLS = Counter(
    "crsmon_engine_stalls_total",
    "Deadlines of the engine that a step could not move on, skipped so that monitoring goes on "
    "(a defect of crsmon, logged once at ERROR; monitor/engine.py). Labelled by the deadline "
    "(rule and kind), never by patient.",
    ["deadline"],
    registry=REGISTRY,
)


class EngineStalls:
    """Carries the engine's own count of stalls (`Engine.stalls`, plain numbers: the clinical
    core has no metrics library) into the Prometheus counter, by difference."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def export(self, stalls: "dict[str, int]") -> None:
        for deadline, count in list(stalls.items()):
            new = count - self._seen.get(deadline, 0)
            if new > 0:
                ENGINE_STALLS.labels(deadline).inc(new)
                self._seen[deadline] = count


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
