"""The Faust table that holds each patient's engine state, durable through its changelog."""

from typing import Any, cast

import faust
from faust.streams import current_event


class PatientStateTable(faust.Table):
    """A table whose writes land on the partition of the input record being taken.

    Faust sends a table write to the changelog partition of the event being processed; the
    batch lane (streams/faust_compat/batch_lane.py) gives each record it takes such an event. The worker
    writes a patient's record only while one of its records is taken (streams/record_step.py):
    a change made by the timer is written on the patient's next record. Outside an event, the
    producer's partitioner places a write, the one the contract's producers key with.
    """

    def partition_for_key(self, key: Any) -> int | None:
        event = current_event()
        return None if event is None else event.message.partition


def patient_state_table(app: faust.App, name: str, partitions: int) -> PatientStateTable:
    """Register the table with the app, as `app.Table()` would for Faust's own class."""
    table = PatientStateTable(
        app, name=name, beacon=app.tables.beacon, key_type=bytes, value_type=bytes,
        partitions=partitions,
        help="Engine state per patient (versioned bytes), written on episode changes and on a cadence.",
    )
    return cast(PatientStateTable, app.tables.add(table))  # Faust's add returns what it was given
