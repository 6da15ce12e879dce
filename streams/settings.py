"""Worker settings, read from the environment so that a container needs no config file."""

import os
import re
from dataclasses import dataclass, field

from kafka_client.environment import crsmon_setting
from kafka_client.security import KafkaSecurity
from kafka_client.topics import Topics

_INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class WorkerSettings:
    """Everything `crsmon worker` needs besides the clinical configuration."""

    broker: str = field(default_factory=lambda: crsmon_setting("BROKER", "127.0.0.1:9092"))
    app_id: str = field(default_factory=lambda: crsmon_setting("APP_ID", "crsmon"))
    partitions: int = field(default_factory=lambda: int(crsmon_setting("PARTITIONS", "4")))
    replication_factor: int = field(default_factory=lambda: int(crsmon_setting("REPLICATION_FACTOR", "1")))
    create_topics: bool = field(default_factory=lambda: crsmon_setting("CREATE_TOPICS", "true") == "true")
    web_host: str = field(default_factory=lambda: crsmon_setting("WEB_HOST", "127.0.0.1"))
    web_port: int = field(default_factory=lambda: int(crsmon_setting("WEB_PORT", "6066")))
    store: str = field(default_factory=lambda: crsmon_setting("STORE", "rocksdb://"))
    session_timeout_s: float = field(default_factory=lambda: float(crsmon_setting("SESSION_TIMEOUT_S", "6")))
    tick_interval_s: float = field(default_factory=lambda: float(crsmon_setting("TICK_INTERVAL_S", "5")))
    # Patients whose deadlines one slice of a tick honours before the loop runs other work:
    # an hour's deterioration evaluations fall due for every patient at once (≈ 0.3 ms each
    # here), so 200 keep a slice to 0.1–0.2 s (streams/app.py, bench/hour_boundary.py).
    tick_patients: int = field(default_factory=lambda: int(crsmon_setting("TICK_PATIENTS", "200")))
    checkpoint_interval_s: float = field(default_factory=lambda: float(crsmon_setting("CHECKPOINT_INTERVAL_S", "30")))
    # The longest the broker holds a fetch that finds no data; it bounds how long new vitals can
    # wait behind a fetch for idle partitions (streams/faust_compat/kafka_transport.py). Faust's own is 1500.
    fetch_max_wait_ms: int = field(default_factory=lambda: int(crsmon_setting("FETCH_MAX_WAIT_MS", "50")))
    # Static group membership (Kafka's group.instance.id): a worker restarted under the same id
    # takes its partitions back at once instead of after the session timeout. Unique per worker.
    instance_id: str | None = field(default_factory=lambda: crsmon_setting("INSTANCE_ID", "") or None)
    # The event loop not running for longer than this is logged as a stall (streams/loop_watchdog.py).
    loop_stall_s: float = field(default_factory=lambda: float(crsmon_setting("LOOP_STALL_S", "2")))
    # After SIGTERM/SIGINT, a worker whose loop is stalled is ended after this long.
    stop_timeout_s: float = field(default_factory=lambda: float(crsmon_setting("STOP_TIMEOUT_S", "5")))
    # The lost-records watchdog (streams/lost_records.py) looks every `check` seconds and calls
    # a partition's records lost after `stall` seconds in which nothing about it moved.
    lost_records_check_s: float = field(default_factory=lambda: float(crsmon_setting("LOST_RECORDS_CHECK_S", "2")))
    lost_records_stall_s: float = field(default_factory=lambda: float(crsmon_setting("LOST_RECORDS_STALL_S", "4")))
    # No answer from any broker for this long and /readyz answers 503 (streams/broker_contact.py).
    broker_unreachable_s: float = field(default_factory=lambda: float(crsmon_setting("BROKER_UNREACHABLE_S", "10")))
    data_dir: str = field(default_factory=lambda: crsmon_setting("DATA_DIR", "var/worker"))
    clinical_config: str | None = field(default_factory=lambda: os.environ.get("CRSMON_CLINICAL_CONFIG"))
    log_level: str = field(default_factory=lambda: crsmon_setting("LOG_LEVEL", "info"))
    topics: Topics = field(default_factory=Topics)
    security: KafkaSecurity = field(default_factory=KafkaSecurity.from_env)  # CRSMON_KAFKA_*; checked here

    def __post_init__(self) -> None:
        if self.instance_id is not None and not _INSTANCE_ID.fullmatch(self.instance_id):
            raise ValueError(
                f"CRSMON_INSTANCE_ID={self.instance_id!r} is not a usable worker id: use 1-64 "
                "letters, digits, '.', '_' or '-' (e.g. the pod name worker-0), or leave it unset"
            )
        if self.tick_patients < 1:
            raise ValueError(
                f"CRSMON_TICK_PATIENTS={self.tick_patients} must be 1 or more: it is how many "
                "patients' deadlines the timer honours before letting other work run (default 200)"
            )

    @property
    def heartbeat_interval_s(self) -> float:
        """How often the worker's consumer tells the group it lives (a fifth of the session)."""
        return max(1.0, self.session_timeout_s / 5)

    @property
    def broker_silence_limit_s(self) -> float:
        """`broker_unreachable_s`, but never less than 2.5 heartbeats: a worker with no
        partitions hears the broker only at its heartbeats, and must not flap between ready
        and not (CRSMON_SESSION_TIMEOUT_S=60 heartbeats every 12 s)."""
        return max(self.broker_unreachable_s, 2.5 * self.heartbeat_interval_s)

    def kafka_client_options(self) -> dict:
        """Security options for kafka-python/aiokafka clients (see kafka_client/security.py)."""
        return self.security.client_options()

    def faust_credentials(self) -> object | None:
        """Faust's `broker_credentials` for TLS/SASL, or None for PLAINTEXT."""
        return faust_credentials(self.security)

    @property
    def broker_url(self) -> str:
        return ",".join(server if "://" in server else f"kafka://{server}" for server in self.broker.split(","))


def faust_credentials(security: KafkaSecurity) -> object | None:
    """Faust's `broker_credentials` from the shared settings: None for PLAINTEXT, else SSL or
    SASL credentials carrying the same TLS context every other client uses."""
    if security.protocol == "PLAINTEXT":
        return None
    from faust.auth import SASLCredentials, SSLCredentials  # only the worker pays for Faust

    if not security.uses_sasl:
        return SSLCredentials(security.ssl_context())
    return SASLCredentials(
        username=security.sasl_username,
        password=security.sasl_password,
        mechanism=security.sasl_mechanism,
        ssl_context=security.ssl_context(),
    )
