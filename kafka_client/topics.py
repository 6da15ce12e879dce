"""The names of the contract's topics, each configurable because hospitals have naming rules
of their own (CRSMON_TOPIC_*)."""

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CRSMON_{name}", default)


@dataclass(frozen=True)
class Topics:
    """Topic names; each is configurable because hospitals have naming rules of their own."""

    vitals: str = field(default_factory=lambda: _env("TOPIC_VITALS", "vitals"))
    clinical_events: str = field(default_factory=lambda: _env("TOPIC_CLINICAL_EVENTS", "clinical-events"))
    patient_status: str = field(default_factory=lambda: _env("TOPIC_PATIENT_STATUS", "patient-status"))
    alerts: str = field(default_factory=lambda: _env("TOPIC_ALERTS", "alerts"))
    alert_acks: str = field(default_factory=lambda: _env("TOPIC_ALERT_ACKS", "alert-acks"))
    dead_letters: str = field(default_factory=lambda: _env("TOPIC_DEAD_LETTERS", "dead-letters"))
