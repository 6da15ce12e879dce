"""The names of the contract's topics, each configurable because hospitals have naming rules
of their own (CRSMON_TOPIC_*)."""

from dataclasses import dataclass, field

from kafka_client.environment import crsmon_setting


@dataclass(frozen=True)
class Topics:
    """Topic names; each is configurable because hospitals have naming rules of their own."""

    vitals: str = field(default_factory=lambda: crsmon_setting("TOPIC_VITALS", "vitals"))
    clinical_events: str = field(default_factory=lambda: crsmon_setting("TOPIC_CLINICAL_EVENTS", "clinical-events"))
    patient_status: str = field(default_factory=lambda: crsmon_setting("TOPIC_PATIENT_STATUS", "patient-status"))
    alerts: str = field(default_factory=lambda: crsmon_setting("TOPIC_ALERTS", "alerts"))
    alert_acks: str = field(default_factory=lambda: crsmon_setting("TOPIC_ALERT_ACKS", "alert-acks"))
    dead_letters: str = field(default_factory=lambda: crsmon_setting("TOPIC_DEAD_LETTERS", "dead-letters"))
