"""Dashboard settings, read from the environment so that a container needs no config file.

The topics are the worker's own `Topics` (`CRSMON_TOPIC_*`): one environment configures every
process of a deployment, so the dashboard follows whatever topics the worker writes. It reads
`patient_status`, `alerts`, `alert_acks` and `clinical_events` (marks on the patient view), and
writes `alert_acks` and, for the bedside ICE form, `clinical_events`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kafka_client.environment import crsmon_setting
from kafka_client.topics import Topics


def _number(name: str, default: str, kind: type = float, minimum: float = 0) -> float:
    """A numeric setting; a value that is not one stops the dashboard with what to change."""
    value = crsmon_setting(name, default)
    try:
        number = kind(value)
    except ValueError:
        raise SystemExit(
            f"crsmon dashboard: CRSMON_{name}={value!r} is not a number; set it to one (default {default})"
        ) from None
    if number < minimum:
        raise SystemExit(f"crsmon dashboard: CRSMON_{name}={value!r} must be at least {minimum:g}")
    return number


@dataclass(frozen=True)
class DashboardSettings:
    """Everything `crsmon dashboard` needs.

    `token` is None when none is configured: the server then makes one up at start and prints
    the URL that carries it, so the page is never open to whoever can reach the port.
    """

    broker: str = field(default_factory=lambda: crsmon_setting("BROKER", "127.0.0.1:9092"))
    host: str = field(default_factory=lambda: crsmon_setting("DASHBOARD_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_number("DASHBOARD_PORT", "8080", int)))
    token: str | None = field(default_factory=lambda: os.environ.get("CRSMON_DASHBOARD_TOKEN") or None)
    history_hours: float = field(default_factory=lambda: _number("DASHBOARD_HISTORY_HOURS", "6", minimum=0.1))
    #: How much of each patient's course the dashboard keeps (the patient view's longest span):
    #: the 14-day CRS risk period. Memory grows with it: 24 bytes a minute, 0.48 MB a patient.
    course_hours: float = field(default_factory=lambda: _number("DASHBOARD_COURSE_HOURS", "336", minimum=1))
    #: How far back a (re)started dashboard reads `patient-status` to fill the patient view; at
    #: least the sparklines' `history_hours`. Start-up time grows with it.
    course_backfill_hours: float = field(
        default_factory=lambda: _number("DASHBOARD_COURSE_BACKFILL_HOURS", "24", minimum=0)
    )
    flush_interval_s: float = field(default_factory=lambda: _number("DASHBOARD_FLUSH_MS", "250", minimum=10) / 1000)
    log_level: str = field(default_factory=lambda: crsmon_setting("LOG_LEVEL", "info"))
    topics: Topics = field(default_factory=Topics)

    @property
    def status_read_hours(self) -> float:
        """How far back `patient-status` is read at start: for the tiles and for the courses."""
        return max(self.history_hours, min(self.course_backfill_hours, self.course_hours))
