"""One input message in, the messages to publish out: decode, route bad input, run the engine.

Kept apart from Faust so that the worker's per-message logic is testable without a broker and
so that the worker's Faust side stays a thin loop.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from monitor.engine import Engine, Outputs
from monitor.wire import InvalidMessage, decode_acknowledgement, decode_input, encode
from streams import metrics
from streams.dead_letters import dead_letter
from kafka_client.topics import Topics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Publish:
    topic: str
    key: bytes | None
    value: bytes


@dataclass(slots=True)
class Handled:
    """The result of one message: what to publish, whose state changed, and how urgently.

    Alerts are kept apart from the rest because they must be on their topic before the state
    that remembers them is written (see streams/patient_states.py).
    """

    patient_id: str | None = None
    event_time: datetime | None = None
    alerts: list[Publish] = field(default_factory=list)
    others: list[Publish] = field(default_factory=list)
    durable: bool = False


class Pipeline:
    """Routes each message of an input topic to the engine, or to dead-letters with a reason."""

    def __init__(self, engine: Engine, topics: Topics) -> None:
        self.engine = engine
        self.topics = topics
        self._consumed = {}

    def handle(
        self, topic: str, partition: int | None, offset: int | None, key: bytes | None,
        value: bytes | None,
    ) -> Handled:
        counter = self._consumed.get(topic)
        if counter is None:
            counter = self._consumed[topic] = metrics.MESSAGES_CONSUMED.labels(topic)
        counter.inc()
        try:
            if value is None:
                raise InvalidMessage("empty message (no value)", "not_json")
            if topic == self.topics.alert_acks:
                event = decode_acknowledgement(value)
            else:
                event = decode_input(value)
            if key != event.patient_id.encode():
                # A patient's events are ordered only within one partition, i.e. one key.
                raise InvalidMessage(
                    f"message key {key!r} is not the patient_id {event.patient_id!r}: producers "
                    "must key every message by patient_id", "wrong_key",
                )
        except InvalidMessage as error:
            return self._rejected(topic, partition, offset, key, value, error.kind, error.reason)
        try:
            outputs = self.engine.observe(event)
        except Exception as error:
            # A defect, not bad input: the worker takes its input in batches, so one message
            # that crashed it would crash every restart. The message is kept for the bug report.
            log.exception("the engine failed on %s[%s] offset %s; dead-lettered, processing goes on",
                          topic, partition, offset)
            return self._rejected(topic, partition, offset, key, value, "engine_error", (
                f"crsmon's engine failed on this message ({type(error).__name__}: {error}); this is "
                "a defect in crsmon, not in the message: report it with this dead letter. The "
                "patient's other messages are still processed"))
        if outputs.ignored is not None:  # e.g. a reading older than a discharge (monitor/discharges.py)
            metrics.MESSAGES_IGNORED.labels(topic, outputs.ignored).inc()
            return Handled()
        handled = self.publications(outputs)
        handled.patient_id = event.patient_id
        handled.event_time = event.ts
        return handled

    def _rejected(self, topic: str, partition: int | None, offset: int | None, key: bytes | None,
                  value: bytes | None, kind: str, reason: str) -> Handled:
        metrics.MESSAGES_REJECTED.labels(topic, kind).inc()
        return Handled(others=[Publish(
            self.topics.dead_letters, key, dead_letter(topic, partition, offset, reason, value)
        )])

    def publications(self, outputs: Outputs) -> Handled:
        """The outputs of one engine step as messages, alerts stamped with the publish time."""
        handled = Handled(durable=outputs.durable)
        if not outputs.statuses and not outputs.alerts:
            return handled
        now = datetime.now(timezone.utc)
        for status in outputs.statuses:
            metrics.STATUSES_EMITTED.inc()
            metrics.PROCESSING_LATENCY.labels("status").observe((now - status.ts).total_seconds())
            handled.others.append(
                Publish(self.topics.patient_status, status.patient_id.encode(), encode(status))
            )
        for alert in outputs.alerts:
            metrics.ALERTS_EMITTED.labels(alert.rule, alert.severity, alert.status).inc()
            metrics.PROCESSING_LATENCY.labels("alert").observe((now - alert.observed_at).total_seconds())
            handled.alerts.append(
                Publish(self.topics.alerts, alert.patient_id.encode(), encode(alert.stamped(now)))
            )
        return handled
