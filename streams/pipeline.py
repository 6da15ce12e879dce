"""The pieces of one record's step that touch the wire: decode and validate, run the engine,
turn its outputs into messages, and send bad input to dead-letters with a reason.

Kept apart from Faust so that they are testable without a broker; streams/record_step.py puts
them in order.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from kafka_client.topics import Topics
from monitor.engine import Engine, Outputs
from monitor.intake import FutureCheck
from monitor.wire import (
    Acknowledgement,
    InputEvent,
    InvalidMessage,
    dead_letter,
    decode_acknowledgement,
    decode_input,
    encode,
    format_timestamp,
)
from streams import metrics
from streams.input_record import InputRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Publish:
    """One message to produce. `unconfirmed_of` names the patient whose stored record keeps
    this alert until its delivery is confirmed (streams/patient_record.py); None for others."""

    topic: str
    key: bytes | None
    value: bytes
    unconfirmed_of: str | None = None


class Pipeline:
    """Routes each message of an input topic to the engine, or to dead-letters with a reason."""

    def __init__(self, engine: Engine, topics: Topics) -> None:
        self.engine = engine
        self.topics = topics
        self._consumed: dict[str, object] = {}
        self.future = FutureCheck(engine.config.future_tolerance_s)  # monitor/intake.py
        self._behind_logged: dict[str, float] = {}  # patient -> when its last was logged (monotonic)

    def decode(self, record: InputRecord) -> object | Publish:
        """The record's event, valid by the contract and keyed by its patient; else its dead letter."""
        topic = record.topic
        counter = self._consumed.get(topic)
        if counter is None:
            counter = self._consumed[topic] = metrics.MESSAGES_CONSUMED.labels(topic)
        counter.inc()  # type: ignore[attr-defined]
        value, key = record.value, record.key
        try:
            if value is None:
                raise InvalidMessage("empty message (no value)", "not_json")
            event: Acknowledgement | InputEvent
            if topic == self.topics.alert_acks:
                event = decode_acknowledgement(value)
            else:
                event = decode_input(value)
            self.future.check(event.ts)
            if key != event.patient_id.encode():
                # A patient's events are ordered only within one partition, i.e. one key.
                raise InvalidMessage(
                    f"message key {key!r} is not the patient_id {event.patient_id!r}: producers "
                    "must key every message by patient_id",
                    "wrong_key",
                )
        except InvalidMessage as error:
            return self.rejected(record, error.kind, error.reason)
        return event

    def observe(self, record: InputRecord, event) -> Outputs | Publish:
        """The engine's outputs for a valid event; a dead letter if the engine failed on it."""
        try:
            outputs = self.engine.observe(event)
        except Exception as error:
            # A defect, not bad input: the worker takes its input in batches, so one message
            # that crashed it would crash every restart. The message is kept for the bug report.
            log.exception(
                "the engine failed on %s[%s] offset %s; dead-lettered, processing goes on",
                record.topic,
                record.partition,
                record.offset,
            )
            return self.rejected(
                record,
                "engine_error",
                (
                    f"crsmon's engine failed on this message ({type(error).__name__}: {error}); this is "
                    "a defect in crsmon, not in the message: report it with this dead letter. The "
                    "patient's other messages are still processed"
                ),
            )
        if outputs.ignored is not None:  # e.g. a reading older than a discharge (monitor/discharges.py)
            self.ignored(record, outputs.ignored)
            if outputs.ignored == "behind_window":
                self._log_behind_window(event)
        return outputs

    def ignored(self, record: InputRecord, reason: str) -> None:
        """A valid record deliberately not applied: counted by why, never silent."""
        metrics.MESSAGES_IGNORED.labels(record.topic, reason).inc()

    def _log_behind_window(self, event) -> None:
        """Once per patient per hour: a feed replaying old data, or a clock set back, shows in
        the log without a line per record (the metric counts every one)."""
        now = time.monotonic()
        logged = self._behind_logged
        last = logged.get(event.patient_id)
        if last is not None and now - last < 3600:
            return
        if len(logged) > 10_000:  # forget the hour-old ones, so the memory stays bounded
            for patient_id in [p for p, at in logged.items() if now - at >= 3600]:
                del logged[patient_id]
        logged[event.patient_id] = now
        log.warning(
            "a record of patient %s dated %s is older than that patient's window (records more "
            "than lateness_s behind its newest are not applied); counted in "
            'crsmon_messages_ignored_total{reason="behind_window"}, logged once an hour per '
            "patient",
            event.patient_id,
            format_timestamp(event.ts),
        )

    def rejected(self, record: InputRecord, kind: str, reason: str) -> Publish:
        metrics.MESSAGES_REJECTED.labels(record.topic, kind).inc()
        return Publish(
            self.topics.dead_letters,
            record.key,
            dead_letter(record.topic, record.partition, record.offset, reason, record.value),
        )

    def publications(self, outputs: Outputs) -> tuple[list[Publish], list[Publish]]:
        """The outputs of one engine step as messages, statuses and alerts, alerts stamped with
        the publish time and kept unconfirmed for their patient."""
        if not outputs.statuses and not outputs.alerts:
            return [], []
        now = datetime.now(timezone.utc)
        statuses, alerts = [], []
        for status in outputs.statuses:
            metrics.STATUSES_EMITTED.inc()
            metrics.PROCESSING_LATENCY.labels("status").observe((now - status.ts).total_seconds())
            statuses.append(Publish(self.topics.patient_status, status.patient_id.encode(), encode(status)))
        for alert in outputs.alerts:
            metrics.ALERTS_EMITTED.labels(alert.rule, alert.severity, alert.status).inc()
            metrics.PROCESSING_LATENCY.labels("alert").observe((now - alert.observed_at).total_seconds())
            alerts.append(
                Publish(self.topics.alerts, alert.patient_id.encode(), encode(alert.stamped(now)), alert.patient_id)
            )
        return statuses, alerts
