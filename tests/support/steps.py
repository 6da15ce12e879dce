"""Driving the worker's real step (streams/record_step.py) without Faust: records as aiokafka
gives them, and a store that carries out each decision's state write as the worker does."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Iterator

from kafka_client.topics import Topics
from streams.record_step import Decision, RecordStep

TOPICS = Topics()


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int = 0


#: The next offset of each (topic, partition), as a broker would give them: every record of a
#: test has its own offset, so none is mistaken for a redelivery (streams/patient_states.py).
_NEXT_OFFSET: dict[tuple[str, int], Iterator[int]] = {}


def record(
    document: dict, *, key: str | None = None, partition: int = 0, offset: int | None = None, topic: str | None = None
) -> Record:
    """A record of the topic the contract puts `document` on, keyed by its patient_id."""
    if topic is None:
        topic = TOPICS.clinical_events if "type" in document else TOPICS.vitals
    if offset is None:
        offset = next(_NEXT_OFFSET.setdefault((topic, partition), itertools.count(1_000_000)))
    key = document.get("patient_id") if key is None else key
    return Record(topic, partition, offset, None if key is None else key.encode(), json.dumps(document).encode())


class Store(dict):
    """The table's local store: a mapping of patient key to stored record."""

    def carry_out(self, decision: Decision) -> Decision:
        """Apply the decision's state write, as streams/app.py does after publishing."""
        for write in (decision.write, decision.overdue):
            if write is not None:
                if write.value is None:
                    self.pop(write.key, None)
                else:
                    self[write.key] = write.value
        return decision


def alerts_of(decisions: list[Decision]) -> list[dict]:
    return [json.loads(alert.value) for decision in decisions for alert in decision.alerts]


def take_all(step: RecordStep, store: Store, records: list[Record]) -> list[Decision]:
    return [store.carry_out(step.take(item)) for item in records]


def take_batch(step: RecordStep, store: Store, records: list[Record]) -> list[Decision]:
    """The records as one fetched batch, as the worker takes it: one decision each, then
    the statuses held for the batch's end (`release_held`) as the last decision."""
    return [*take_all(step, store, records), step.release_held()]
