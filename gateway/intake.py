"""The one path every received message takes, whatever the protocol: decode, publish or
dead-letter, count, and say what happened so the protocol can answer.

A message is answered as accepted only once Kafka has every VitalSigns and ClinicalEvent from it
(vitals to `vitals`, lab results and neurological assessments to `clinical-events`) and the dead
letter of any observation refused in it (acks=all), and as rejected only once its dead letter
is in Kafka; when Kafka cannot take either, the sender is told to try again later (HL7 AR, HTTP
503) so that nothing is lost between a gateway and Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, cast

from aiokafka.errors import KafkaError

from gateway import Decoded, metrics
from kafka_client.lazy_producer import LazyProducer
from kafka_client.topics import Topics
from monitor.wire import InvalidMessage, dead_letter, encode

log = logging.getLogger("crsmon.ingest")

Decode = Callable[[bytes], Decoded]


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `decoded` when published, else `rejection` — a content
    error (dead-lettered) or `publish_failed` (nothing recorded; the sender should resend)."""

    decoded: Decoded | None = None
    rejection: InvalidMessage | None = None

    @property
    def refused(self) -> InvalidMessage:
        """`rejection`, of an outcome that was not published (each of those has one)."""
        return cast(InvalidMessage, self.rejection)


class Intake:
    """Publishes what the codecs make of each message. One per process, shared by protocols."""

    def __init__(
        self, broker: str, topics: Topics, send_timeout_s: float = 10.0, client_options: dict[str, Any] | None = None
    ) -> None:
        self.broker = broker
        self.topics = topics
        self.send_timeout_s = send_timeout_s
        self.client_options = client_options or {}  # TLS/SASL, from kafka_client.security
        self._producer = LazyProducer(
            broker,
            "crsmon-ingest",
            send_timeout_s,
            request_timeout_ms=int(send_timeout_s * 1000),
            **self.client_options,
        )

    async def take(self, protocol: str, raw: bytes, decode: Decode) -> Outcome:
        """Decode `raw` and publish the result; never raises."""
        started = time.perf_counter()
        try:
            outcome = await self._take(protocol, raw, decode)
        finally:
            metrics.HANDLING_SECONDS.labels(protocol).observe(time.perf_counter() - started)
        label = "accepted" if outcome.decoded else "failed" if outcome.refused.kind == "publish_failed" else "rejected"
        metrics.MESSAGES.labels(protocol, label).inc()
        return outcome

    async def reject(self, protocol: str, raw: bytes, rejection: InvalidMessage) -> Outcome:
        """Dead-letter a message the protocol itself could not take (framing, size, media type)."""
        outcome = await self._dead_letter(protocol, raw, rejection)
        label = "failed" if outcome.refused.kind == "publish_failed" else "rejected"
        metrics.MESSAGES.labels(protocol, label).inc()
        return outcome

    async def _take(self, protocol: str, raw: bytes, decode: Decode) -> Outcome:
        try:
            decoded = decode(raw)
        except InvalidMessage as rejection:
            return await self._dead_letter(protocol, raw, rejection)
        messages: list[tuple[str, bytes | None, bytes]] = [
            (self.topics.vitals, vitals.patient_id.encode(), encode(vitals, drop_none=True))
            for vitals in decoded.vitals
        ]
        messages += [
            (self.topics.clinical_events, event.patient_id.encode(), encode(event, drop_none=True))
            for event in decoded.events
        ]
        if decoded.refused:
            # The refused observations of a message otherwise used: one letter, all reasons.
            messages.append(
                (
                    self.topics.dead_letters,
                    None,
                    dead_letter(f"ingest:{protocol}", None, None, decoded.refusal_reason(), raw),
                )
            )
        try:
            await self._send_all(messages)
        except (KafkaError, asyncio.TimeoutError, OSError) as error:
            return _unpublished(protocol, "its VitalSigns and clinical events", error)
        metrics.VITALS_PUBLISHED.labels(protocol).inc(len(decoded.vitals))
        for event in decoded.events:
            metrics.EVENTS_PUBLISHED.labels(protocol, event.type).inc()
        for skip in decoded.skipped:
            metrics.OBSERVATIONS_SKIPPED.labels(protocol, skip.kind).inc()
        for skip in decoded.refused:
            metrics.OBSERVATIONS_REFUSED.labels(protocol, skip.kind).inc()
        if decoded.refused:
            log.info(
                "refused %d observation(s) of a %s message; the reasons are in %s",
                len(decoded.refused),
                protocol,
                self.topics.dead_letters,
            )
        return Outcome(decoded=decoded)

    async def _dead_letter(self, protocol: str, raw: bytes, rejection: InvalidMessage) -> Outcome:
        letter = dead_letter(f"ingest:{protocol}", None, None, rejection.reason, raw)
        try:
            await self._send_all([(self.topics.dead_letters, None, letter)])
        except (KafkaError, asyncio.TimeoutError, OSError) as error:
            return _unpublished(protocol, "the dead letter of a rejected message", error)
        metrics.REJECTED.labels(protocol, rejection.kind).inc()
        log.info("rejected a %s message (%s); its reason is in %s", protocol, rejection.kind, self.topics.dead_letters)
        return Outcome(rejection=rejection)

    async def _send_all(self, messages: list[tuple[str, bytes | None, bytes]]) -> None:
        producer = await self._producer.ready()

        async def send_and_wait_for_all() -> None:
            sends = [await producer.send(topic, value, key=key) for topic, key, value in messages]
            await asyncio.gather(*sends)

        await asyncio.wait_for(send_and_wait_for_all(), self.send_timeout_s)

    async def close(self) -> None:
        await self._producer.close()


def _unpublished(protocol: str, what: str, error: BaseException) -> Outcome:
    log.warning(
        "could not publish %s of a %s message: %s",
        what,
        protocol,
        type(error).__name__ + (f": {error}" if str(error) else ""),
    )
    return Outcome(
        rejection=InvalidMessage(
            f"crsmon could not publish the message to Kafka ({type(error).__name__}); nothing was "
            f"recorded: send it again later",
            "publish_failed",
        )
    )
