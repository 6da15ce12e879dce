"""The Faust table that holds each patient's engine state, durable through its changelog."""

import asyncio
import logging
from typing import Any, cast

import faust
from faust.streams import current_event

from streams import metrics

log = logging.getLogger(__name__)

#: RocksDB's memory for the table, per partition's database (Faust opens one per partition).
#: Faust's defaults are for large tables read often: 64 MiB memtables, three of them, and a
#: 2 GiB block cache. This table is small (≈ 0.5 KB a patient, monitor/patient_state.py) and
#: read only when a patient is restored, but written on nearly every charted record: with the
#: defaults every write of a backlog stayed in memory (≈ 35 KB a patient after 1,000 stays,
#: bench/backlog.py). Small memtables are flushed to disk early instead; the cache serves
#: restores, which read each record once.
ROCKSDB_OPTIONS = {
    "write_buffer_size": 1 << 20,
    "max_write_buffer_number": 2,
    "block_cache_size": 1 << 20,
}


#: The changelog topic's settings, given to Faust, which creates the topic (compacted) with them.
#: A worker that starts with an empty data directory (another machine, a lost disk) reads the
#: whole changelog before it takes a record, and Kafka compacts only closed segments, when its
#: log cleaner gets to them. With the broker's defaults (1 GiB segments, compacted once half
#: of the log is dirty) nothing of a day's writes was compacted: a worker stopped three
#: quarters through 3,072 real stays (bench/restart.py) left ≈ 77,000 messages for ≈ 3,000
#: patients, 18 s to take over. Writes come about once a patient-hour (the checkpoint cadence,
#: streams/patient_states.py), so the log grows by the ward's size every hour.
CHANGELOG_CONFIG = {
    # Kafka 4's smallest segment: the active segment, never compacted, holds ≈ 1,000 records
    # (≈ 1 KB each) per partition at most.
    "segment.bytes": str(1 << 20),
    # A quiet ward's segment closes within 10 minutes too, so it can be compacted.
    "segment.ms": str(10 * 60 * 1000),
    # Compact once a tenth of the log is superseded (Kafka's default: a half): cleaning a
    # partition rewrites only its current records, a few hundred KB.
    "min.cleanable.dirty.ratio": "0.1",
}


class PatientStateTable(faust.Table):
    """A table whose writes land on the partition of the input record being taken, and whose
    changelog messages the writer hands to the producer itself (`send_written`).

    Faust sends a table write to the changelog partition of the event being processed; the
    batch lane (streams/faust_compat/batch_lane.py) gives each record it takes such an event. The worker
    writes a patient's record only while one of its records is taken (streams/record_step.py):
    a change made by the timer is written on the patient's next record. Outside an event, the
    producer's partitioner places a write, the one the contract's producers key with.

    Why not Faust's own changelog path: it puts each message in an unbounded buffer that a task
    drains through Faust's topic machinery, and a commit first waits until that buffer is
    EMPTY. While a backlog is taken the worker writes faster than that task sends, so a commit
    waited as long as the writes went on (a timer commit took 40 s) and, every
    `broker_commit_every` records, the batch lane waited for it: processing stood still for
    seconds at a time (issue 19, finding 6). Awaiting the producer's `send` in the writer keeps
    each message in order behind the record that caused it, makes the writer wait when the
    producer is full (backpressure instead of a growing buffer), and leaves the commit's flush
    only the batches already in the producer.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: list[tuple[int | None, Any, Any]] = []

    def partition_for_key(self, key: Any) -> int | None:
        event = current_event()
        return None if event is None else event.message.partition

    def on_key_set(self, key: Any, value: Any) -> None:
        """Faust calls this on every set: its changelog message is kept for `send_written`
        (keys and values are bytes, the table's serializers raw; the table has no expiry,
        which Faust's own would schedule here)."""
        self._outgoing.append((self.partition_for_key(key), key, value))
        self._sensor_on_set(self, key, value)

    def on_key_del(self, key: Any) -> None:
        """Faust calls this on every delete: a tombstone, kept for `send_written`."""
        self._outgoing.append((self.partition_for_key(key), key, None))
        self._sensor_on_del(self, key)

    async def send_written(self) -> list[asyncio.Future]:
        """Hand the changelog messages of the writes made since the last call to the producer,
        in order; returns once the producer holds them, with their deliveries' futures (a
        message the producer refuses outright is a delivery failed at once). The writer counts
        a write stored only once its delivery is confirmed (streams/patient_states.py)."""
        outgoing, self._outgoing = self._outgoing, []
        producer = self.app.producer
        topic = self.changelog_topic.get_topic_name()
        deliveries = []
        for partition, key, value in outgoing:
            try:
                # Faust types it an Awaitable; aiokafka's producer gives the delivery's future
                delivery = cast(asyncio.Future, await producer.send(topic, key, value, partition, None, None))
            except Exception as error:  # noqa: BLE001 - too large, producer stopped: not stored, not fatal
                delivery = asyncio.get_running_loop().create_future()
                delivery.set_exception(error)
            delivery.add_done_callback(self._delivered)
            deliveries.append(delivery)
        return deliveries

    def _delivered(self, delivery: asyncio.Future) -> None:
        """As Faust's own callback: the store remembers the changelog offset it holds, so that a
        restart reads only the changelog after it."""
        if delivery.cancelled():
            metrics.STATE_WRITE_FAILURES.inc()
            return
        error = delivery.exception()
        if error is not None:
            metrics.STATE_WRITE_FAILURES.inc()
            log.error(
                "a patient's state did not reach the table's changelog (%s: %s); its records stay "
                "uncommitted and it is written again on its next record",
                type(error).__name__,
                error,
            )
            return
        metadata = delivery.result()
        self.data.set_persisted_offset(metadata.topic_partition, metadata.offset)


def patient_state_table(app: faust.App, name: str, partitions: int) -> PatientStateTable:
    """Register the table with the app, as `app.Table()` would for Faust's own class."""
    table = PatientStateTable(
        app,
        name=name,
        beacon=app.tables.beacon,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        # a copy: Faust's RocksDB store takes keys out of the dict it is given
        options=dict(ROCKSDB_OPTIONS) if str(app.conf.store).startswith("rocksdb") else None,
        extra_topic_configs=CHANGELOG_CONFIG,
        help="Engine state per patient (versioned bytes), written on episode changes and on a cadence.",
    )
    return cast(PatientStateTable, app.tables.add(table))  # Faust's add returns what it was given
