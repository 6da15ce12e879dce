"""The dashboard's Kafka consumer: reads `patient-status`, `alerts` and `alert-acks` into the view.

Every dashboard must see every patient, so it reads all partitions itself, without a consumer
group and without committing offsets. Where it starts is what makes a restart show a full
ward rather than an empty one:

- `patient-status` from the first message of the last history window (by the broker's
  timestamps, `offsets_for_times`): enough for every tile and sparkline and a day of each
  patient's course (`status_read_hours`), without replaying weeks of statuses;
- `alerts`, `alert-acks` and `clinical-events` from the beginning: an episode that opened a
  week ago and is still open must be on the screen, a patient's therapy (day 0 of the risk
  period) may be two weeks old, and the three topics are small.

The broker may be down when the dashboard starts, or go away later: the follower keeps
retrying, and reports whether it reaches Kafka so the page can say its data may be stale.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from alerting.dashboard import metrics
from alerting.dashboard.settings import DashboardSettings
from alerting.dashboard.ward_view import WardView
from monitor.wire import (
    Acknowledgement,
    Alert,
    InvalidMessage,
    PatientStatus,
    decode_as,
    decode_input,
    format_timestamp,
)

log = logging.getLogger("crsmon.dashboard.follower")

RETRY_SECONDS = (1, 2, 5, 10)
PROBE_INTERVAL_S = 5.0
NO_TOPICS_GRACE_S = 5.0


@dataclass
class FeedState:
    """What the page says about its data: is Kafka reachable, has history been read in full."""

    kafka_reachable: bool = False
    caught_up: bool = False
    unreachable_since: datetime | None = None

    def describe(self) -> dict:
        since = self.unreachable_since
        return {
            "kafka_reachable": self.kafka_reachable,
            "caught_up": self.caught_up,
            "unreachable_since": format_timestamp(since) if since else None,
        }


def _decode_clinical_event(raw: bytes):
    """A message of `clinical-events`: a ClinicalEvent (it has a `type`), never vital signs."""
    event = decode_input(raw)
    if not hasattr(event, "type"):
        raise InvalidMessage("a clinical event needs a type", "missing_field")
    return event


class TopicFollower:
    """Applies every message of the four topics to a WardView, in each partition's order."""

    def __init__(
        self,
        settings: DashboardSettings,
        view: WardView,
        on_state: Callable[[FeedState], None] = lambda state: None,
        kafka_options: dict | None = None,
    ) -> None:
        self.settings = settings
        self.kafka_options = kafka_options or {}
        self.view = view
        self.state = FeedState(unreachable_since=datetime.now(timezone.utc))
        self._on_state = on_state
        topics = settings.topics
        self._apply: dict[str, tuple[Callable[[bytes], Any], Callable[[Any], None]]] = {
            topics.patient_status: (lambda raw: decode_as(PatientStatus, raw), view.apply_status),
            topics.alerts: (lambda raw: decode_as(Alert, raw), view.apply_alert),
            topics.alert_acks: (lambda raw: decode_as(Acknowledgement, raw), view.apply_ack),
            topics.clinical_events: (_decode_clinical_event, view.apply_event),
        }
        self._positioned: set[TopicPartition] = set()
        self._next_offsets: dict[TopicPartition, int] = {}  # survive a reconnect: no re-reading
        self._catch_up_targets: dict[TopicPartition, int] | None = None
        self._started_at = time.monotonic()

    async def run(self) -> None:
        """Follow the topics until cancelled, reconnecting for as long as it takes."""
        attempt = 0
        while True:
            consumer = self._consumer()
            try:
                await consumer.start()
                self._set_reachable(True)
                attempt = 0
                await self._follow(consumer)
            except Exception as error:  # noqa: BLE001 - a ward screen must not go dark on a bug
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                if isinstance(error, KafkaError):
                    log.warning(
                        "cannot read from Kafka at %s (%s); retrying in %d s", self.settings.broker, error, delay
                    )
                else:
                    log.exception("the Kafka consumer failed; starting a new one in %d s", delay)
                self._set_reachable(False)
                attempt += 1
                await asyncio.sleep(delay)
            finally:
                await consumer.stop()

    def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.broker,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="crsmon-dashboard",
            fetch_max_wait_ms=100,
            metadata_max_age_ms=5000,  # notice topics and partitions created after we started
            **self.kafka_options,
        )
        # A pattern, not a list of names: naming a topic in a metadata request makes a broker
        # with auto-creation on create it, with its default partitions, before the worker
        # creates it as configured. A pattern only watches for the topics to appear.
        consumer.subscribe(pattern="^(" + "|".join(re.escape(topic) for topic in self._apply) + ")$")
        return consumer

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        self._positioned.clear()
        probe = asyncio.create_task(self._probe(consumer))
        try:
            while True:
                await self._position_new_partitions(consumer)
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for partition, records in batch.items():
                    if partition not in self._positioned:
                        continue  # fetched before we chose its start; the seek fetches it again
                    self._apply_records(partition.topic, records)
                    self._next_offsets[partition] = records[-1].offset + 1
                await self._check_caught_up(consumer)
        finally:
            probe.cancel()

    async def _position_new_partitions(self, consumer: AIOKafkaConsumer) -> None:
        """Choose where each newly assigned partition starts (see the module's docstring)."""
        new = [partition for partition in consumer.assignment() if partition not in self._positioned]
        if not new:
            return
        for partition in new:
            if partition in self._next_offsets:
                consumer.seek(partition, self._next_offsets[partition])
        first_time = [p for p in new if p not in self._next_offsets]
        statuses = [p for p in first_time if p.topic == self.settings.topics.patient_status]
        if statuses:
            since_ms = int((time.time() - self.settings.status_read_hours * 3600) * 1000)
            found = await consumer.offsets_for_times({p: since_ms for p in statuses})
            ends = await consumer.end_offsets(statuses)
            for partition in statuses:
                offset = found.get(partition)
                consumer.seek(partition, offset.offset if offset is not None else ends[partition])
        others = [p for p in first_time if p not in statuses]
        if others:
            await consumer.seek_to_beginning(*others)
        self._positioned.update(new)
        ends = await consumer.end_offsets(new)
        if self._catch_up_targets is None:
            self._catch_up_targets = {}
        self._catch_up_targets.update(ends)
        log.info("following %d new partition(s) of %s", len(new), sorted({p.topic for p in new}))

    def _apply_records(self, topic: str, records: list) -> None:
        decode, apply = self._apply[topic]
        metrics.MESSAGES_READ.labels(topic).inc(len(records))
        for record in records:
            try:
                message = decode(record.value or b"")
            except InvalidMessage as error:
                metrics.MESSAGES_INVALID.labels(topic, error.kind).inc()
                log.warning(
                    "cannot show message %s[%d]@%d: it breaks the wire contract (%s)",
                    topic,
                    record.partition,
                    record.offset,
                    error.kind,
                )
                log.debug("why %s[%d]@%d is invalid: %s", topic, record.partition, record.offset, error.reason)
                continue
            apply(message)

    async def _check_caught_up(self, consumer: AIOKafkaConsumer) -> None:
        """History is read in full once every partition reached the end it had when assigned."""
        if self.state.caught_up:
            return
        if self._catch_up_targets is None:
            if time.monotonic() - self._started_at < NO_TOPICS_GRACE_S:
                return
            self._catch_up_targets = {}  # none of the topics exists yet: nothing to read
        for partition, end in self._catch_up_targets.items():
            if partition in consumer.assignment() and await consumer.position(partition) < end:
                return
        self.state.caught_up = True
        log.info("history read; the dashboard is live")
        self._on_state(self.state)

    async def _probe(self, consumer: AIOKafkaConsumer) -> None:
        """The consumer retries a lost broker silently; a metadata request every few seconds
        tells whether it is reachable, so the page can warn that its data are going stale."""
        while True:
            await asyncio.sleep(PROBE_INTERVAL_S)
            try:
                await asyncio.wait_for(consumer.topics(), PROBE_INTERVAL_S)
            except (KafkaError, asyncio.TimeoutError, OSError):
                self._set_reachable(False)
            else:
                self._set_reachable(True)

    def _set_reachable(self, reachable: bool) -> None:
        if reachable == self.state.kafka_reachable:
            return
        self.state.kafka_reachable = reachable
        self.state.unreachable_since = None if reachable else datetime.now(timezone.utc)
        metrics.KAFKA_REACHABLE.set(1 if reachable else 0)
        if reachable:
            log.info("reached Kafka at %s", self.settings.broker)
        else:
            log.warning("lost Kafka at %s; the page shows its data may be stale", self.settings.broker)
        self._on_state(self.state)
