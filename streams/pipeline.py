"""One input message in, the messages to publish out: decode, route bad input, run the engine.

Kept apart from Faust so that the worker's per-message logic is testable without a broker and
so that the Faust agent stays a thin loop.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

from monitor.engine import Engine, Outputs
from monitor.wire import InvalidMessage, decode_acknowledgement, decode_input, encode
from streams import metrics
from streams.dead_letters import dead_letter
from streams.settings import Topics


@dataclass(frozen=True, slots=True)
class Publish:
    topic: str
    key: bytes | None
    value: bytes


class Pipeline:
    """Routes each message of an input topic to the engine, or to dead-letters with a reason."""

    def __init__(self, engine: Engine, topics: Topics) -> None:
        self.engine = engine
        self.topics = topics

    def handle(
        self, topic: str, partition: int | None, offset: int | None, key: bytes | None,
        value: bytes | None,
    ) -> list[Publish]:
        metrics.MESSAGES_CONSUMED.labels(topic).inc()
        try:
            if value is None:
                raise InvalidMessage("empty message (no value)", "not_json")
            if topic == self.topics.alert_acks:
                event = decode_acknowledgement(value)
            else:
                event = decode_input(value)
        except InvalidMessage as error:
            metrics.MESSAGES_REJECTED.labels(topic, error.kind).inc()
            return [Publish(self.topics.dead_letters, key,
                            dead_letter(topic, partition, offset, error.reason, value))]
        return self.publications(self.engine.observe(event))

    def publications(self, outputs: Outputs) -> list[Publish]:
        """The outputs of one engine step as messages, alerts stamped with the publish time."""
        published = [
            Publish(self.topics.patient_status, status.patient_id.encode(), encode(status))
            for status in outputs.statuses
        ]
        if outputs.alerts:
            now = datetime.now(timezone.utc)
            for alert in outputs.alerts:
                metrics.ALERTS_EMITTED.labels(alert.rule, alert.severity, alert.status).inc()
                published.append(Publish(self.topics.alerts, alert.patient_id.encode(),
                                         encode(alert.stamped(now))))
        return published
