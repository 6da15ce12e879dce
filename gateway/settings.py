"""Ingest settings, read from the environment so that a container needs no config file.

Topic names are the worker's (`CRSMON_TOPIC_VITALS`, `CRSMON_TOPIC_DEAD_LETTERS`): one
environment configures every process of a deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kafka_client.environment import crsmon_setting
from kafka_client.topics import Topics


@dataclass(frozen=True)
class IngestSettings:
    """Everything `crsmon ingest` needs.

    `timezone` is the IANA zone of HL7 times that carry no UTC offset when MSH-7 carries none
    either: the zone the gateway's clock is set to (docs/ingest.md). 2575 is the port IANA
    registered for HL7 over MLLP.
    """

    broker: str = field(default_factory=lambda: crsmon_setting("BROKER", "127.0.0.1:9092"))
    host: str = field(default_factory=lambda: crsmon_setting("INGEST_HOST", "127.0.0.1"))
    mllp_port: int = field(default_factory=lambda: int(crsmon_setting("INGEST_MLLP_PORT", "2575")))
    http_port: int = field(default_factory=lambda: int(crsmon_setting("INGEST_HTTP_PORT", "8090")))
    timezone: str = field(default_factory=lambda: crsmon_setting("INGEST_TIMEZONE", "UTC"))
    max_message_bytes: int = field(
        default_factory=lambda: int(crsmon_setting("INGEST_MAX_MESSAGE_BYTES", str(1 << 20)))
    )
    send_timeout_s: float = field(default_factory=lambda: float(crsmon_setting("INGEST_SEND_TIMEOUT_S", "10")))
    log_level: str = field(default_factory=lambda: crsmon_setting("LOG_LEVEL", "info"))
    topics: Topics = field(default_factory=Topics)

    def zone(self) -> tzinfo:
        """The configured zone, or SystemExit saying how to name one."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SystemExit(
                f"crsmon ingest: unknown time zone {self.timezone!r}; give an IANA name such as "
                "Europe/Berlin or America/New_York (--timezone or CRSMON_INGEST_TIMEZONE)"
            ) from None
