"""A watchdog for input records that Faust fetched but the worker never took.

Why it exists: Faust (faust-streaming 0.15.3 on aiokafka 0.14) can lose records in flight
around a rebalance. Faust pauses partitions only in its own "active partitions" set, never in
aiokafka, so aiokafka keeps prefetching them; Faust then asks aiokafka for the records of that
set, passing the live set itself (`Consumer._wait_next_records` -> `fetched_records`).
aiokafka reads an EMPTY collection as "every partition", and Faust's set becomes empty
mid-call during recovery ("Done reading from changelog topics" pauses the changelog
partitions while the input partitions are still paused). aiokafka then hands over, and moves
its position past, the prefetched input records; Faust's `getmany` silently discards them
because they are not in its active set. Faust's later "seek to committed offsets" brings them
back only if the partition has a committed offset (aiokafka's `seek_to_committed` does nothing
without one), so a worker that takes over partitions its dead owner never committed, or that
loses records after its seek, never processes them. Seen in tests/test_worker_durability.py:
the takeover worker sat at the end of the log (aiokafka position = highwater, Faust's read
offset empty, the agent's buffer empty) and never processed the vitals, so their alerts never
fired. Related upstream reports: faust-streaming/faust issues #629 and #175.

Since then the transport (streams/faust_compat/kafka_transport.py) never lets aiokafka read an empty set
as "every partition" and seeks back the records of partitions paused during a fetch: in 20
runs of that test under load the watchdog had nothing to do, against repairs in 2 of 8 runs
without that change. It stays as the second line: Faust also drops the rest of a fetched batch
when the generation changes or the flow stops mid-batch, and recovers those records only where
an offset was committed.

What it does: a sensor notes the offsets of the input records the worker actually takes (the
batch lane reports each batch, streams/faust_compat/batch_lane.py; an agent's stream, each record),
and which batch the lane holds while it takes it. Every `check_interval_s`, for each assigned
input partition, the watchdog compares aiokafka's position with the next offset the worker should
take. When aiokafka is ahead, the lane holds no batch of the partition, the agent's buffer is
empty, aiokafka holds nothing unconsumed for the partition, and none of that has changed for
`stall_s`, the records in between were lost in flight: it logs an ERROR, counts it in
`crsmon_records_lost_in_flight_total`, and seeks the partition back so they are processed. It
does the same when the worker takes an offset beyond the next expected one (a hole in the middle).
Re-processing is safe: delivery is at-least-once and a re-published change keeps its alert_id.

Why "the lane holds no batch" (issue 19): aiokafka moves its position past a batch when it hands
it out, and with Faust's unlimited `max_poll_records` a backlog comes in batches of thousands of
records per partition that take longer than `stall_s` to take. The last batch of a backlog has
nothing prefetched behind it, so the watchdog saw the position ahead, nothing buffered anywhere,
nothing moving, and called the whole batch lost (6 of 6 runs of a hospital's backlog: ERRORs,
needless re-reads and 7,946-13,816 in the metric operators alert on). A batch in hand is not lost.

If seeking back to the same offset does not get the partition moving after `max_rewinds` tries,
the watchdog gives up on that offset: one ERROR that says what to do, and
`crsmon_lost_records_given_up_total`. It never ends the worker: a worker crashed for a partition
it cannot repair would stop watching every other patient too, and it used to do so.

A compacted or transactional topic has offsets without records; on such a topic each hole
would cost one rewind (duplicates, no loss). crsmon's input topics are plain, so it does not.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import faust
from faust.types import TP

from streams import metrics
from streams.faust_compat.fetch_positions import CannotInspect, FetchView, buffered_in_agents, committed_offset

log = logging.getLogger(__name__)


@dataclass
class _Partition:
    """What the watchdog knows about one assigned input partition in this generation."""

    taken: int | None = None  # the last offset the worker took
    hole_from: int | None = None  # first offset of a hole the stream skipped over
    awaiting: int | None = None  # a rewind's target, until the stream takes it again
    seen: tuple[Any, ...] | None = None  # what the last check saw; unchanged for stall_s = quiet
    still_since: float = 0.0
    rewinds: dict[int, int] = field(default_factory=dict)  # target offset -> times
    given_up: set[int] = field(default_factory=set)  # offsets rewound max_rewinds times in vain


class TakenOffsets(faust.Sensor):
    """Notes, per input partition, the offsets the worker takes: from the batch lane
    (`took`), or from an agent's stream (Faust calls `on_message_in` when the stream dequeues
    a record, not when the fetcher fetches it)."""

    def __init__(self, input_topics: set[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_topics = input_topics
        self.partitions: dict[TP, _Partition] = {}
        self.holding: dict[TP, int] = {}  # the last offset of a batch the lane is taking

    def in_hand(self, tp: TP, last: int | None) -> None:
        """The batch lane holds a batch of `tp` up to `last` (None: no longer)."""
        if last is None:
            self.holding.pop(tp, None)
        else:
            self.holding[tp] = last

    def on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        if tp.topic in self.input_topics:
            self.took(tp, offset, offset)

    def took(self, tp: TP, first: int, last: int) -> None:
        """The worker took the records of `tp` from offset `first` to `last` (the batch lane)."""
        state = self.partitions.get(tp)
        if state is None:
            state = self.partitions[tp] = _Partition()
        if state.taken is not None and first > state.taken + 1 and state.hole_from is None:
            state.hole_from = state.taken + 1
        if state.awaiting is not None and first <= state.awaiting <= last:
            state.awaiting = None
        if state.taken is None or last > state.taken:
            state.taken = last

    def forget(self) -> None:
        """A rebalance: offsets of the previous generation say nothing about the next one."""
        self.partitions.clear()


class LostRecordsWatchdog:
    """Finds input records lost between Faust's fetcher and the worker, and re-reads them."""

    def __init__(
        self,
        app: faust.App,
        input_topics: set[str],
        is_ready: Callable[[], bool],
        *,
        check_interval_s: float = 2.0,
        stall_s: float = 4.0,
        max_rewinds: int = 3,
    ) -> None:
        self.app = app
        self.input_topics = input_topics
        self.is_ready = is_ready
        self.stall_s = stall_s
        self.max_rewinds = max_rewinds
        self.sensor = TakenOffsets(input_topics)
        self._blind = False  # reported that aiokafka could not be inspected
        app.sensors.add(self.sensor)
        # mode types a receiver as (sender, *args, signal=..., **kwargs), which this one is
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]
        app.timer(check_interval_s, name="lost-records-watchdog")(self.check)

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **kwargs: Any) -> None:
        self.sensor.forget()

    async def check(self) -> None:
        app = self.app
        if not self.is_ready() or app.rebalancing:
            return
        consumer = app.consumer
        try:
            view = FetchView.of(app)
        except CannotInspect as error:
            # Only checked once ready, so the consumer runs: aiokafka or Faust changed.
            metrics.LOST_RECORDS_UNCHECKED.inc()
            if not self._blind:
                self._blind = True
                log.error(
                    "the lost-records watchdog cannot inspect aiokafka's consumer (%s): records "
                    "Faust drops in a rebalance are no longer found and read again. "
                    "streams/faust_compat/ needs updating for the installed faust-streaming/"
                    "aiokafka (see crsmon_lost_records_unchecked_total)",
                    error,
                )
            return
        if view is None:
            return
        metrics.LOST_RECORDS_CHECKS.inc()
        buffered = buffered_in_agents(app)
        now = time.monotonic()
        for tp in list(consumer.assignment()):
            if tp.topic not in self.input_topics:
                continue
            position = view.position(tp)
            if position is None:
                continue
            state = self.sensor.partitions.get(tp)
            if state is None:
                state = self.sensor.partitions[tp] = _Partition()
            if tp in self.sensor.holding:
                state.seen = None  # being taken: quiet is counted from when the lane is done
                continue
            seen = (position, state.taken, state.hole_from, state.awaiting)
            if seen != state.seen:
                state.seen, state.still_since = seen, now
                if state.hole_from is None:
                    continue
            if state.hole_from is not None:
                await self._rewind(tp, state, state.hole_from, position, "skipped over by the worker")
                continue
            if buffered or view.holds_records(tp) or now - state.still_since < self.stall_s:
                continue
            if state.awaiting is not None:
                # Faust drops records below its read offset, which a batch it was still handing
                # out when we sought can have moved past the rewind: seek again.
                await self._rewind(tp, state, state.awaiting, position, "not read again after a rewind")
                continue
            expected = await self._next_expected(tp, state)
            if expected is not None and position > expected:
                await self._rewind(tp, state, expected, position, "fetched but never reached the worker")

    async def _next_expected(self, tp: TP, state: _Partition) -> int | None:
        """The offset the worker should take next: after the last one it took, else the
        committed offset, else the start of the log (nothing committed yet)."""
        if state.taken is not None:
            return state.taken + 1
        committed = committed_offset(self.app.consumer, tp)
        if committed:
            return committed
        earliest = await self.app.consumer.earliest_offsets(tp)
        return earliest.get(tp)

    async def _rewind(self, tp: TP, state: _Partition, offset: int, position: int, how: str) -> None:
        tries = state.rewinds.get(offset, 0)
        if tries >= self.max_rewinds:
            state.hole_from, state.awaiting = None, None
            if offset not in state.given_up:
                state.given_up.add(offset)
                metrics.LOST_RECORDS_GIVEN_UP.labels(tp.topic).inc()
                log.error(
                    "input records of %s[%d] from offset %d were %s and seeking back %d times "
                    "did not get them read: the watchdog gives up on them and the worker goes "
                    "on with the rest. Restart this worker (its group rebalances and it reads "
                    "again from the committed offset) and report it with this log",
                    tp.topic,
                    tp.partition,
                    offset,
                    how,
                    tries,
                )
            return
        state.rewinds[offset] = tries + 1
        state.hole_from, state.awaiting = None, offset
        metrics.RECORDS_LOST_IN_FLIGHT.labels(tp.topic).inc(max(1, position - offset))
        log.error(
            "records of %s[%d] from offset %d (fetched up to %d) were %s (a Faust rebalance "
            "race); seeking back to %d so they are processed (at-least-once: alerts keep "
            "their alert_id)",
            tp.topic,
            tp.partition,
            offset,
            position - 1,
            how,
            offset,
        )
        await self.app.consumer.seek(tp, offset)
        state.seen = None
