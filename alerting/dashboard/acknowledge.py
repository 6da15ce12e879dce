"""A person at the dashboard acknowledges an episode: the contract's Acknowledgement, to Kafka.

The dashboard does not mark the episode itself: it shows the acknowledgement when it reads it
back from `alert-acks`, like every other dashboard and the pager dispatcher. What the screen
says is then always what the topic holds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timezone

from aiokafka.errors import KafkaError

from alerting.dashboard.ward_view import WardView
from kafka_client.lazy_producer import LazyProducer
from monitor.wire import Acknowledgement, encode

log = logging.getLogger("crsmon.dashboard.acknowledge")

SEND_TIMEOUT_S = 10.0
_WHO = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


class AcknowledgementRefused(Exception):
    """The request cannot become an acknowledgement; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Acknowledger:
    """Builds and publishes acknowledgements; one producer, started on the first one."""

    def __init__(self, broker: str, topic: str, view: WardView, kafka_options: dict | None = None) -> None:
        self.broker = broker
        self.kafka_options = kafka_options or {}
        self.topic = topic
        self.view = view
        self._producer = LazyProducer(broker, "crsmon-dashboard", SEND_TIMEOUT_S, **self.kafka_options)

    async def acknowledge(self, episode_id: object, by: object) -> Acknowledgement:
        """Publish that `by` has seen the open episode `episode_id`; wait until Kafka has it."""
        if not isinstance(episode_id, str) or not episode_id:
            raise AcknowledgementRefused("episode_id is required: the alert to acknowledge", 400)
        who = by.strip() if isinstance(by, str) else ""
        if not _WHO.match(who):
            raise AcknowledgementRefused(
                "by is required: your name or initials (1–64 characters), so colleagues can see "
                "who has acknowledged the alert",
                400,
            )
        alert = self.view.open_episode(episode_id)
        if alert is None:
            raise AcknowledgementRefused(
                "this alert is no longer open (it has resolved) or is unknown to this dashboard", 404
            )
        ack = Acknowledgement(
            episode_id=episode_id,
            patient_id=alert.patient_id,
            ts=datetime.now(timezone.utc),
            by=who,
            source="dashboard",
        )
        try:
            producer = await self._producer.ready()
            await asyncio.wait_for(
                producer.send_and_wait(self.topic, encode(ack), key=alert.patient_id.encode()), SEND_TIMEOUT_S
            )
        except (KafkaError, asyncio.TimeoutError, OSError) as error:
            log.warning("could not publish an acknowledgement to %s: %s", self.topic, error)
            raise AcknowledgementRefused(
                f"Kafka did not take the acknowledgement ({type(error).__name__}); it was NOT "
                "recorded. Try again, and tell whoever runs the dashboard if it keeps failing.",
                503,
            ) from None
        return ack

    async def close(self) -> None:
        await self._producer.close()
