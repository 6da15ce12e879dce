"""The Faust table that holds each patient's engine state, durable through its changelog."""

from typing import Any

import faust
from faust.types import AppT
from faust.streams import current_event


class PatientStateTable(faust.Table):
    """A table whose writes land on the patient's input partition even outside an event.

    Faust sends a table write to the changelog partition of the event being processed, and
    refuses writes from a timer (there is no event). The worker also writes from timers (a
    state checkpoint, a signal-loss episode), so the partition of each patient, learnt from its
    events, is remembered here; a patient restored from the table and not yet seen falls back
    to the producer's partitioner, which is the one the contract's producers key with.
    """

    def __init__(self, app: AppT, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.partition_of: dict[bytes, int] = {}

    def partition_for_key(self, key: Any) -> int | None:
        event = current_event()
        if event is not None:
            return event.message.partition
        return self.partition_of.get(key)


def patient_state_table(app: faust.App, name: str, partitions: int) -> PatientStateTable:
    """Register the table with the app, as `app.Table()` would for Faust's own class."""
    table = PatientStateTable(
        app, name=name, beacon=app.tables.beacon, key_type=bytes, value_type=bytes,
        partitions=partitions,
        help="Engine state per patient (versioned bytes), written on episode changes and on a cadence.",
    )
    return app.tables.add(table)
