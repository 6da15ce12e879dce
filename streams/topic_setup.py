"""Make sure the worker's topics exist before Faust subscribes to them.

Faust subscribes to input topics by name once, at start; a topic created later is only seen
after a metadata refresh (minutes). So the worker creates what is missing first, with the
configured partition count, and waits for a broker that is not up yet instead of failing:
in a hospital the worker is often restarted before Kafka is.
"""

import logging
import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from streams.settings import WorkerSettings

log = logging.getLogger(__name__)


def all_topics(settings: WorkerSettings) -> list[str]:
    topics = settings.topics
    return [
        topics.vitals,
        topics.clinical_events,
        topics.alert_acks,
        topics.patient_status,
        topics.alerts,
        topics.dead_letters,
    ]


def ensure_topics(settings: WorkerSettings, *, retry_every: float = 2.0, give_up_after: float | None = None) -> None:
    """Create missing topics; retry while the broker cannot be reached, saying why."""
    started = time.monotonic()
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.broker.split(","),
                client_id=f"{settings.app_id}-setup",
                request_timeout_ms=10000,
                **settings.kafka_client_options(),
            )
        except KafkaError as error:
            waited = time.monotonic() - started
            if give_up_after is not None and waited > give_up_after:
                raise
            log.warning("waiting for Kafka at %s (%.0f s so far): %s", settings.broker, waited, error)
            time.sleep(retry_every)
            continue
        try:
            existing = set(admin.list_topics())
            missing = [name for name in all_topics(settings) if name not in existing]
            if missing:
                log.info("creating topics %s with %d partitions", ", ".join(missing), settings.partitions)
                try:
                    admin.create_topics(
                        [NewTopic(name, settings.partitions, settings.replication_factor) for name in missing],
                        timeout_ms=30000,
                    )
                except TopicAlreadyExistsError:
                    pass  # another worker created it first
            return
        finally:
            admin.close()
