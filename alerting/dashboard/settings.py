"""Dashboard settings, read from the environment so that a container needs no config file.

The topic variables are the worker's (`CRSMON_TOPIC_*`): one environment configures every
process of a deployment, so the dashboard follows whatever topics the worker writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CRSMON_{name}", default)


@dataclass(frozen=True)
class DashboardTopics:
    """The three topics the dashboard reads, and the one of them it writes (`alert_acks`)."""

    patient_status: str = field(default_factory=lambda: _env("TOPIC_PATIENT_STATUS", "patient-status"))
    alerts: str = field(default_factory=lambda: _env("TOPIC_ALERTS", "alerts"))
    alert_acks: str = field(default_factory=lambda: _env("TOPIC_ALERT_ACKS", "alert-acks"))


@dataclass(frozen=True)
class DashboardSettings:
    """Everything `crsmon dashboard` needs.

    `token` is None when none is configured: the server then makes one up at start and prints
    the URL that carries it, so the page is never open to whoever can reach the port.
    """

    broker: str = field(default_factory=lambda: _env("BROKER", "127.0.0.1:9092"))
    host: str = field(default_factory=lambda: _env("DASHBOARD_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("DASHBOARD_PORT", "8080")))
    token: str | None = field(default_factory=lambda: os.environ.get("CRSMON_DASHBOARD_TOKEN") or None)
    history_hours: float = field(default_factory=lambda: float(_env("DASHBOARD_HISTORY_HOURS", "6")))
    flush_interval_s: float = field(default_factory=lambda: float(_env("DASHBOARD_FLUSH_MS", "250")) / 1000)
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "info"))
    topics: DashboardTopics = field(default_factory=DashboardTopics)
