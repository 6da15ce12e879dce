"""Input records from Faust's fetcher straight to the worker, a fetched batch at a time.

Why: Faust hands every record to an agent through its conductor, a channel queue and a
stream, and its fetch loop races two tasks (`wait_first`) for every record. Measured on this
machine (bench/worker.py, "floor"), that path alone costs 80-110 µs of CPU per message and
caps a worker that does nothing at about 10,000 messages/s, while the clinical engine needs
10-20 µs per observation set. A hospital of 10,000 beds at one set a second does not fit
through it.

So the worker keeps everything else of Faust — group membership and partition assignment,
the patient-state table with its changelog and recovery, offset commits (without flushing the
producer: see `_commit_tps`), timers, the web server — and takes the records of its input topics here: Faust's
`getmany` fetches a batch as always; the records of the input topics go, in the order they
were produced, to the worker's `take`, one call each; the others (changelog records during
recovery) go to Faust's conductor as before. When the whole batch has been taken, its offsets
are acknowledged in Faust's own bookkeeping, so Faust commits them exactly as it commits what
an agent acknowledges.

What Faust's stream did per record that the lane must do too:
- skip records once a rebalance has begun or the generation changed (checked before each
  record; a batch cut short is not acknowledged, so its records are read again by whoever owns
  them next: at-least-once, and alerts keep their alert_id);
- give table operations an event context: Faust's RocksDB store finds a key's partition
  database through `current_event()` (`table_partition`);
- drop records below the partition's read offset (already taken before a seek) and record the
  offsets a fetch skipped as a gap, so commits move past them.
"""

from __future__ import annotations

import asyncio
import heapq
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterator, Sequence, cast

from faust.exceptions import ProducerSendError
from faust.streams import _current_event
from faust.types import TP, EventT

from streams.input_record import InputRecord

if TYPE_CHECKING:  # the class the mixin goes into, for the type checker only
    from faust.transport.drivers.aiokafka import Consumer as _MixedInto
else:
    _MixedInto = object

# The names of Faust's consumer used here are listed and checked in internals.py (the package
# refuses to import without them).


#: The records of one partition, in offset order.
PartitionRecords = tuple[TP, Sequence[InputRecord]]

#: Records taken between two turns of the event loop (the producer, web server and timers).
YIELD_EVERY = 100


def in_produce_order(batch: Sequence[PartitionRecords]) -> Iterator[InputRecord]:
    """The records of every partition of a batch, merged by their Kafka timestamps.

    Each partition keeps its own order (a merge never reorders one input). Across partitions
    it is fairness: one partition's records do not wait behind all of another's. Across the
    topics of one patient it is the best order Kafka offers: a therapy event is applied before
    the vital signs that were produced after it in the same batch.
    """
    if len(batch) == 1:
        return iter(batch[0][1])
    return heapq.merge(*(records for _tp, records in batch), key=_timestamp)


def _timestamp(record: InputRecord) -> float:
    return record.timestamp


@dataclass(frozen=True, slots=True)
class _PartitionMessage:
    partition: int


@dataclass(frozen=True, slots=True, weakref_slot=True)  # Faust keeps a weak reference
class _PartitionEvent:
    """Enough of a Faust event for a table to find the partition of what it reads or writes."""

    message: _PartitionMessage


@contextmanager
def table_partition() -> Iterator[Callable[[int], None]]:
    """Inside the block, table reads and writes go to the partition last given to the
    function it yields, as inside an event of that partition (Faust's RocksDB store finds a
    key's database through `current_event()`)."""
    events: dict[int, _PartitionEvent] = {}
    token = _current_event.set(None)
    current = [-1]

    def move_to(partition: int) -> None:
        if partition != current[0]:
            event = events.get(partition)
            if event is None:
                event = events[partition] = _PartitionEvent(_PartitionMessage(partition))
            # Faust's store reads only `event.message.partition` (see _PartitionEvent).
            _current_event.set(weakref.ref(cast(EventT, event)))
            current[0] = partition

    try:
        yield move_to
    finally:
        _current_event.reset(token)


@dataclass(frozen=True)
class BatchLane:
    """The topics whose records go to `take`, a fetched batch at a time, instead of to agents.

    `take` handles one record, with table operations placed in its partition; `taken`, if
    given, hears per partition the first and last offset of each batch taken whole; `in_hand`,
    if given, hears per partition the last offset of a batch the lane starts taking, and None
    once it is done with it (whole or cut short): aiokafka's position is past a batch in hand
    while the worker is still taking it, which is not a loss (streams/lost_records.py).
    """

    topics: frozenset[str]
    take: Callable[[InputRecord], Awaitable[None]]
    taken: Callable[[TP, int, int], None] | None = None
    #: (topic, partition) -> the first offset whose effect is not stored yet (None: all are):
    #: offsets from there on are taken but not acknowledged, so not committed, so a restart
    #: reads them again (streams/patient_states.py).
    safe_offset: Callable[[str, int], int | None] | None = None
    in_hand: Callable[[TP, int | None], None] | None = None
    #: Awaited between choosing a commit's offsets and committing them: the deliveries the
    #: commit depends on besides the state writes `safe_offset` already waits for (dead letters).
    before_commit: Callable[[], Awaitable[None]] | None = None
    #: Awaited once `take` has had the batch's records (all, or those before a rebalance cut it
    #: short), before its offsets are acknowledged: what the worker holds for a batch's end.
    batch_done: Callable[[], Awaitable[None]] | None = None


async def take_in_produce_order(
    take: Callable[[InputRecord], Awaitable[None]], batch: Sequence[PartitionRecords], still_current: Callable[[], bool]
) -> bool:
    """Hand every record of `batch` to `take`; False if a rebalance cut the batch short."""
    with table_partition() as move_to:
        for count, record in enumerate(in_produce_order(batch), 1):
            if not still_current():
                return False
            move_to(record.partition)
            await take(record)
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
    return True


class BatchLaneConsumer(_MixedInto):
    """Mixed into Faust's aiokafka Consumer: `getmany` hands input records to the lane.

    The lane is the transport's `batch_lane`; without one (e.g. the benchmark's floor app) this
    is Faust's `getmany` unchanged.
    """

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        lane_of_transport: BatchLane | None = getattr(self.transport, "batch_lane", None)
        if lane_of_transport is None:
            async for item in super().getmany(timeout):
                yield item
            return
        records, active_partitions = await self._wait_next_records(timeout)
        if records is None or self.should_stop:
            return
        app = self.app
        if not self.flow_active:
            # As Faust does: records fetched while the flow is stopped are read again after a seek.
            try:
                await self.perform_seek()
            except Exception as error:
                self.log.warning(f"exception performing seek when flow not active {error}")
            return
        generation_id = app.consumer_generation_id
        lane: list[PartitionRecords] = []
        others: dict[TP, list[Any]] = {}
        for tp, tp_records in records.items():
            if not tp_records:
                continue
            if active_partitions is not None and tp not in active_partitions and tp not in self._buffered_partitions:
                continue  # paused: streams/faust_compat/kafka_transport.py already seeks these back
            app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            if tp.topic in lane_of_transport.topics:
                lane.append((tp, tp_records))
            else:
                others[tp] = tp_records
        if lane:
            await self._take_batch(lane_of_transport, lane, generation_id)
        to_message = self._to_message
        for tp, record in self.scheduler.iterate(others):
            if not self.flow_active or app.consumer_generation_id != generation_id:
                break
            yield tp, to_message(tp, record)

    def _still_current(self, generation_id: int) -> Callable[[], bool]:
        app, flow_control = self.app, self.app.flow_control

        def still_current() -> bool:
            return flow_control.is_active() and app.consumer_generation_id == generation_id

        return still_current

    async def _take_batch(self, lane_of_transport: BatchLane, lane: list[PartitionRecords], generation_id: int) -> None:
        read_offset = self._read_offset
        fresh: list[PartitionRecords] = []
        for tp, tp_records in lane:
            last_read = read_offset.get(tp)
            if last_read is not None:
                if tp_records[0].offset < last_read:
                    tp_records = [record for record in tp_records if record.offset >= last_read]
                    if not tp_records:
                        continue
                if last_read and tp_records[0].offset - last_read > 1:
                    # Inclusive of both ends. (Faust's loop passes the new record's own offset
                    # as the end, which puts it in `acked` twice and holds the commit back a round.)
                    await self._add_gap(tp, last_read + 1, tp_records[0].offset - 1)
            fresh.append((tp, tp_records))
        if not fresh:
            return
        still_current = self._still_current(generation_id)
        in_hand = lane_of_transport.in_hand
        if in_hand is not None:
            for tp, tp_records in fresh:
                in_hand(tp, tp_records[-1].offset)
        try:
            whole = await take_in_produce_order(lane_of_transport.take, fresh, still_current)
            if lane_of_transport.batch_done is not None:
                await lane_of_transport.batch_done()
        finally:
            if in_hand is not None:
                for tp, _records in fresh:
                    in_hand(tp, None)
        if not (whole and still_current()):
            return  # cut short by a rebalance: not acknowledged, read again by the next owner
        taken = lane_of_transport.taken
        safe_offset = lane_of_transport.safe_offset
        held = self._held_back(generation_id) if safe_offset is not None else None
        for tp, tp_records in fresh:
            first, last = tp_records[0].offset, tp_records[-1].offset
            read_offset[tp] = last
            if held is None:
                self._acknowledge(tp, first, last)
            else:
                held[tp] = (held[tp][0] if tp in held else first, last)
            if taken is not None:
                taken(tp, first, last)
        if held:
            self._acknowledge_stored(held, cast(Callable[[str, int], "int | None"], safe_offset))
        commit_every = self._commit_every
        if commit_every is not None and self._n_acked >= commit_every:
            self._n_acked = 0
            await self.commit()

    async def _commit_tps(self, tps: Any, start_new_transaction: bool) -> bool:
        """Faust's commit, waiting only for the deliveries its offsets stand on.

        Faust flushes the whole producer before every commit — the statuses and alerts in
        flight too — and the lane commits inline every `broker_commit_every` records, so
        processing stood still for a broker round trip each time. The offsets the lane
        acknowledges stand on the patients' state writes, and those are acknowledged only once
        the broker confirmed them (streams/patient_states.py): nothing of the table is left to
        wait for. What is left is the lane's `before_commit` (the dead letters). An alert needs
        no wait: its patient's record keeps it until it is confirmed. A wait that fails commits
        nothing: the records are read again."""
        lane: BatchLane | None = getattr(self.transport, "batch_lane", None)
        if lane is None:
            return await super()._commit_tps(tps, start_new_transaction)
        commit_offsets = self._filter_committable_offsets(tps)
        if not commit_offsets:
            return False
        if lane.before_commit is not None:
            try:
                await lane.before_commit()
            except Exception as error:  # noqa: BLE001 - stopping, or the broker gone: commit later
                self.log.warning(f"not committing yet: what these offsets stand on was not delivered ({error})")
                return False
        try:
            await self._handle_attached(commit_offsets)
        except ProducerSendError as error:
            await self.crash(error)
            return False
        return await self._commit_offsets(commit_offsets, start_new_transaction=start_new_transaction)

    async def _commit_offsets(self, offsets: Any, start_new_transaction: bool = True) -> bool:
        """Faust's `_commit_offsets` without its producer flush (see `_commit_tps`); Faust's
        own, flush included, without a lane or inside a transaction (not used by crsmon)."""
        if getattr(self.transport, "batch_lane", None) is None or self.in_transaction:
            return await super()._commit_offsets(offsets, start_new_transaction)
        assignment = self.assignment()
        committable = {tp: offset for tp, offset in offsets.items() if tp in assignment}
        if len(committable) < len(offsets):
            self.log.info(
                "Discarded commit for revoked partitions that will be eventually processed again: %r",
                {tp: offset for tp, offset in offsets.items() if tp not in assignment},
            )
        if not committable:
            return False
        did_commit = await self._commit(committable)
        if did_commit:
            self.app.tables.on_commit(committable)
        self._committed_offset.update(committable)
        self.app.monitor.on_tp_commit(committable)
        return bool(did_commit)

    def acknowledge_stored(self) -> None:
        """Acknowledge what has become stored since the last batch (the worker's timer wrote
        patients of a quiet ward): commits then reach the end of the input without new records."""
        lane: BatchLane | None = getattr(self.transport, "batch_lane", None)
        state = self.__dict__.get("_crsmon_held_back")
        if lane is None or lane.safe_offset is None or state is None:
            return
        if state[0] == self.app.consumer_generation_id and state[1]:
            self._acknowledge_stored(state[1], lane.safe_offset)

    def _held_back(self, generation_id: int) -> dict[TP, tuple[int, int]]:
        """Per partition, the offsets taken but not acknowledged yet (first, last), for this
        generation: a rebalance starts afresh (what was held is read again by the next owner)."""
        state = self.__dict__.get("_crsmon_held_back")
        if state is None or state[0] != generation_id:
            state = self.__dict__["_crsmon_held_back"] = (generation_id, {})
        return state[1]

    def _acknowledge_stored(
        self, held: dict[TP, tuple[int, int]], safe_offset: Callable[[str, int], int | None]
    ) -> None:
        """Acknowledge what is stored of every partition held back — also of partitions not in
        this batch: a patient written on a record of `clinical-events` is stored for `vitals`."""
        for tp, (first, last) in list(held.items()):
            safe = safe_offset(tp.topic, tp.partition)
            end = last if safe is None else min(last, safe - 1)
            if end >= first:
                self._acknowledge(tp, first, end)
            if end >= last:
                del held[tp]
            elif end >= first:
                held[tp] = (end + 1, last)

    def _acknowledge(self, tp: TP, first: int, last: int) -> None:
        """Faust's `ack` for every offset from `first` to `last`: a hole inside a fetched batch
        holds no record (a transaction marker), so nothing there is left to take."""
        committed = self._committed_offset[tp]
        if committed is not None and first < committed:
            first = committed
        acked_index = self._acked_index[tp]
        new = [offset for offset in range(first, last + 1) if offset not in acked_index]
        if new:
            acked_index.update(new)
            self._acked[tp].extend(new)
            self._n_acked += len(new)
