"""A nurse at the bedside charts an ICE assessment: the contract's `neuro` ClinicalEvent, to Kafka.

The same path as an acknowledgement (acknowledge.py): the form's fields are checked here with
the wire model itself (monitor/wire/events.py NeuroEvent), so what the dashboard refuses is
exactly what the worker would dead-letter, and the reason the nurse reads is the contract's
reason. The dashboard does not put the assessment on the course itself: it shows it when it
reads it back from `clinical-events`, as every other dashboard and the worker do.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timezone
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from alerting.dashboard.acknowledge import AcknowledgementRefused
from alerting.dashboard.ward_view import WardView
from kafka_client.lazy_producer import LazyProducer
from monitor.wire import NeuroEvent, encode
from monitor.wire.codec import describe_validation_error

log = logging.getLogger("crsmon.dashboard.assessment")

SEND_TIMEOUT_S = 10.0
_WHO = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
#: What the form may send besides the patient and the charting person: the NeuroEvent's own
#: fields. `ts` is not among them: the assessment is charted when it is submitted.
FIELDS = ("ice_items", "arousal", "seizure", "motor", "cerebral_edema")
ITEMS = ("orientation", "naming", "commands", "writing", "attention")


class AssessmentRefused(AcknowledgementRefused):
    """The request cannot become a `neuro` event; `status` is the HTTP status to answer."""


class Charter:
    """Builds and publishes bedside neurological assessments; one producer, started on the first."""

    def __init__(self, broker: str, topic: str, view: WardView, kafka_options: dict | None = None) -> None:
        self.topic = topic
        self.view = view
        self._producer = LazyProducer(broker, "crsmon-dashboard-charting", SEND_TIMEOUT_S, **(kafka_options or {}))

    def event_of(self, body: dict[str, Any], now: datetime | None = None) -> NeuroEvent:
        """The NeuroEvent a form's body describes, or AssessmentRefused saying what is wrong."""
        unknown = sorted(set(body) - {"patient_id", "by", *FIELDS})
        if unknown:
            raise AssessmentRefused(
                f"unknown field(s) {', '.join(unknown)}: the form sends patient_id, by, {', '.join(FIELDS)}", 400
            )
        patient_id = body.get("patient_id")
        if not isinstance(patient_id, str) or not patient_id:
            raise AssessmentRefused("patient_id is required: the patient assessed", 400)
        by = body.get("by")
        who = by.strip() if isinstance(by, str) else ""
        if not _WHO.match(who):
            raise AssessmentRefused(
                "by is required: your name or initials (1–64 characters), so colleagues can see "
                "who charted the assessment",
                400,
            )
        items = body.get("ice_items")
        if isinstance(items, dict):
            # A half-filled ICE is not a lower score: say which tasks are still to score.
            missing = [item for item in ITEMS if items.get(item) is None]
            if missing and len(missing) < len(ITEMS):
                raise AssessmentRefused(f"score every ICE task or none: {', '.join(missing)} not scored", 400)
            if len(missing) == len(ITEMS):
                items = None
        fields = {name: body.get(name) for name in FIELDS[1:] if body.get(name) is not None}
        if items is None and not fields:
            raise AssessmentRefused(
                "nothing was assessed: score the ICE tasks, or record at least "
                "the level of consciousness when the patient cannot do them",
                400,
            )
        document = {
            "patient_id": patient_id,
            "ts": now or datetime.now(timezone.utc),
            "type": "neuro",
            "by": who,
            **fields,
        }
        if items is not None:
            document["ice_items"] = items
        try:
            return NeuroEvent.model_validate(document)
        except ValidationError as error:
            raise AssessmentRefused(describe_validation_error(error), 400) from None

    async def chart(self, body: dict[str, Any]) -> NeuroEvent:
        """Publish the assessment a form describes; wait until Kafka has it."""
        event = self.event_of(body)
        if event.patient_id not in self.view.courses.patients:
            # As for an acknowledgement of an unknown episode: a mistyped identifier must not
            # start a patient of its own in the worker.
            raise AssessmentRefused(
                "this dashboard does not monitor that patient (not in its window, or discharged)", 404
            )
        try:
            producer = await self._producer.ready()
            await asyncio.wait_for(
                producer.send_and_wait(self.topic, encode(event, drop_none=True), key=event.patient_id.encode()),
                SEND_TIMEOUT_S,
            )
        except (KafkaError, asyncio.TimeoutError, OSError) as error:
            log.warning("could not publish an assessment to %s: %s", self.topic, error)
            raise AssessmentRefused(
                f"Kafka did not take the assessment ({type(error).__name__}); it was NOT charted. "
                "Try again, and tell whoever runs the dashboard if it keeps failing.",
                503,
            ) from None
        return event

    async def close(self) -> None:
        await self._producer.close()
