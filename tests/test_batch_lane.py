"""The batch lane's bookkeeping inside Faust's own consumer: what it hands to `take`, and
what Faust then commits.

The lane replaces the per-record path from Faust's fetcher to the agent, so its offsets must
come out of Faust's commit logic (`_filter_committable_offsets`) exactly as acknowledged
records of an agent would. These tests drive the real consumer of the worker's Faust app (not
started: no broker is needed to compute offsets); the records are the fields aiokafka gives.
The whole path against a broker is proven by the worker tests (end to end, kill -9 and restart,
three workers with one SIGKILLed, broker stopped for 30 s).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from faust.streams import current_event
from faust.types import TP

from streams.app import configured_app
from streams.faust_compat.batch_lane import BatchLane, in_produce_order, table_partition
from streams.settings import WorkerSettings

VITALS = TP("vitals", 3)


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None = b"p1"
    value: bytes | None = b"{}"
    timestamp: int = 0


def records(first: int, last: int, skip: tuple[int, ...] = ()) -> list[Record]:
    return [
        Record(VITALS.topic, VITALS.partition, offset, timestamp=offset)
        for offset in range(first, last + 1)
        if offset not in skip
    ]


@pytest.fixture
def consumer(monkeypatch, tmp_path):
    monkeypatch.setenv("CRSMON_STORE", "memory://")
    monkeypatch.setenv("CRSMON_DATA_DIR", str(tmp_path))
    app = configured_app(WorkerSettings())
    app.flow_control.resume()
    consumer = app.consumer
    consumer._committed_offset[VITALS] = None  # noqa: SLF001
    return consumer


class Handler:
    """Takes each record as the worker's `take` does; after `stop_after` records, a rebalance begins."""

    def __init__(self, app=None, stop_after: int | None = None) -> None:
        self.app = app
        self.taken: list[int] = []
        self.stop_after = stop_after
        self.partitions_seen: list[int | None] = []

    async def __call__(self, record) -> None:
        self.taken.append(record.offset)
        self.partitions_seen.append(current_event().message.partition)
        if self.stop_after is not None and len(self.taken) == self.stop_after:
            self.app.flow_control.suspend()


def take(consumer, handler, batch) -> None:
    lane = BatchLane(frozenset({VITALS.topic}), handler)
    asyncio.run(consumer._take_batch(lane, [(VITALS, batch)], consumer.app.consumer_generation_id))  # noqa: SLF001


def committable(consumer) -> int | None:
    return consumer._filter_committable_offsets({VITALS}).get(VITALS)  # noqa: SLF001


def test_a_batch_is_handed_over_whole_and_committed_past_its_last_record(consumer) -> None:
    handler = Handler()
    take(consumer, handler, records(0, 499))
    assert handler.taken == list(range(500))
    assert committable(consumer) == 500
    assert consumer._read_offset[VITALS] == 499  # noqa: SLF001


def test_table_operations_in_the_handler_see_the_records_partition(consumer) -> None:
    handler = Handler()
    take(consumer, handler, records(0, 3))
    assert handler.partitions_seen == [VITALS.partition] * 4
    assert current_event() is None  # and nothing leaks out of the lane


def test_a_hole_inside_a_fetched_batch_does_not_stop_commits(consumer) -> None:
    take(consumer, Handler(), records(10, 20, skip=(14, 15)))  # e.g. transaction markers
    assert committable(consumer) == 21


def test_records_below_the_read_offset_are_not_handed_over_again(consumer) -> None:
    take(consumer, Handler(), records(0, 9))
    again = Handler()
    take(consumer, again, records(5, 14))
    assert again.taken == list(range(9, 15))  # Faust's rule: offsets >= the last one read


def test_offsets_skipped_between_batches_are_a_gap_that_commits_move_past(consumer) -> None:
    take(consumer, Handler(), records(0, 9))
    take(consumer, Handler(), records(20, 29))
    assert committable(consumer) == 30


def test_a_batch_cut_short_by_a_rebalance_is_not_acknowledged(consumer) -> None:
    handler = Handler(consumer.app, stop_after=5)
    take(consumer, handler, records(0, 99))
    assert handler.taken == list(range(5))
    assert committable(consumer) is None  # read again from the last commit by the next owner
    assert consumer._read_offset.get(VITALS) is None  # noqa: SLF001


def test_offsets_below_the_committed_one_are_not_acknowledged_again(consumer) -> None:
    consumer._committed_offset[VITALS] = 50  # noqa: SLF001
    take(consumer, Handler(), records(40, 59))
    assert committable(consumer) == 60
    assert min(consumer._acked.get(VITALS) or [50]) >= 50  # noqa: SLF001


def test_partitions_and_topics_of_a_batch_are_merged_in_produce_order_each_keeping_its_own() -> None:
    vitals = [
        Record("vitals", 0, 10, timestamp=1),
        Record("vitals", 0, 11, timestamp=5),
        Record("vitals", 0, 12, timestamp=3),
    ]  # a producer's clock stepped back
    therapy = [Record("clinical-events", 0, 7, timestamp=2)]
    other = [Record("vitals", 1, 90, timestamp=4)]
    merged = list(
        in_produce_order([(TP("vitals", 0), vitals), (TP("clinical-events", 0), therapy), (TP("vitals", 1), other)])
    )
    assert [(r.topic, r.partition, r.offset) for r in merged] == [
        ("vitals", 0, 10),
        ("clinical-events", 0, 7),
        ("vitals", 1, 90),
        ("vitals", 0, 11),
        ("vitals", 0, 12),
    ]


def test_table_operations_follow_the_partition_of_the_record_being_taken() -> None:
    with table_partition() as move_to:
        move_to(2)
        assert current_event().message.partition == 2
        move_to(0)
        assert current_event().message.partition == 0
    assert current_event() is None


def test_the_watchdog_hears_of_a_batch_only_when_it_was_taken_whole(consumer) -> None:
    heard = []
    lane = BatchLane(
        frozenset({VITALS.topic}),
        Handler(consumer.app, stop_after=3),
        lambda tp, first, last: heard.append((tp, first, last)),
    )
    asyncio.run(consumer._take_batch(lane, [(VITALS, records(0, 9))], consumer.app.consumer_generation_id))  # noqa: SLF001
    assert heard == []
    consumer.app.flow_control.resume()
    lane = BatchLane(frozenset({VITALS.topic}), Handler(), lambda tp, first, last: heard.append((tp, first, last)))
    asyncio.run(consumer._take_batch(lane, [(VITALS, records(0, 9))], consumer.app.consumer_generation_id))  # noqa: SLF001
    assert heard == [(VITALS, 0, 9)]


def test_offsets_whose_effect_is_not_stored_are_held_back_until_it_is(consumer) -> None:
    """Commits stop at the first offset whose effect is not in the table (streams/patient_states.py):
    a restart reads it again. Seen failing with every taken offset acknowledged at once."""
    events = TP("clinical-events", VITALS.partition)
    consumer._committed_offset[events] = None  # noqa: SLF001
    safe: dict[tuple[str, int], int | None] = {(VITALS.topic, VITALS.partition): 5}
    lane = BatchLane(
        frozenset({VITALS.topic, events.topic}), Handler(), None, lambda topic, partition: safe.get((topic, partition))
    )

    def take_lane(tp: TP, first: int, last: int) -> None:
        batch = [Record(tp.topic, tp.partition, offset, timestamp=offset) for offset in range(first, last + 1)]
        asyncio.run(consumer._take_batch(lane, [(tp, batch)], consumer.app.consumer_generation_id))  # noqa: SLF001

    take_lane(VITALS, 0, 9)
    assert committable(consumer) == 5, "offsets 5-9 are taken, not stored: not committed"
    safe[(VITALS.topic, VITALS.partition)] = 8  # a patient written on a record of another topic
    take_lane(events, 0, 2)
    assert committable(consumer) == 8, "the held-back offsets follow the safe offset of their own topic"
    assert consumer._filter_committable_offsets({events}).get(events) == 3  # noqa: SLF001
    safe[(VITALS.topic, VITALS.partition)] = None
    take_lane(VITALS, 10, 11)
    assert committable(consumer) == 12


def test_a_commit_waits_for_the_dead_letters_not_for_the_whole_producer(consumer, monkeypatch) -> None:
    """The lane's offsets of patients stand on state writes the broker already confirmed
    (streams/patient_states.py), so a commit waits only for `before_commit` (the worker's dead
    letters in flight), never for the producer's statuses and alerts: Faust flushed the whole
    producer twice per commit, and the lane stood still meanwhile."""
    calls: list = []

    async def flush() -> None:
        calls.append("flush")

    async def dead_letters_sent() -> None:
        calls.append("dead letters")

    async def commit(offsets) -> bool:
        calls.append(("commit", dict(offsets)))
        return True

    consumer.transport.batch_lane = BatchLane(frozenset({VITALS.topic}), Handler(), before_commit=dead_letters_sent)
    monkeypatch.setattr(consumer.app.producer, "flush", flush)
    monkeypatch.setattr(consumer, "_commit", commit)
    monkeypatch.setattr(consumer, "assignment", lambda: {VITALS})
    take(consumer, Handler(), records(0, 9))
    assert asyncio.run(consumer._commit_tps({VITALS}, start_new_transaction=False))  # noqa: SLF001
    assert calls == ["dead letters", ("commit", {VITALS: 10})]
    assert consumer._committed_offset[VITALS] == 10  # noqa: SLF001


def test_a_commit_whose_dead_letters_were_not_delivered_commits_nothing(consumer, monkeypatch) -> None:
    async def broker_gone() -> None:
        raise ConnectionError("broker gone")

    async def commit(offsets) -> bool:
        raise AssertionError("committed without its dead letters")

    consumer.transport.batch_lane = BatchLane(frozenset({VITALS.topic}), Handler(), before_commit=broker_gone)
    monkeypatch.setattr(consumer, "_commit", commit)
    take(consumer, Handler(), records(0, 9))
    assert not asyncio.run(consumer._commit_tps({VITALS}, start_new_transaction=False))  # noqa: SLF001


def test_the_watchdog_knows_which_batch_the_lane_holds_until_it_is_done_with_it(consumer) -> None:
    """aiokafka's position is past a batch while the lane takes it; the lost-records watchdog
    must see it in hand (issue 19: the last batch of a backlog was called lost), and must not
    see it held for ever once the lane let go of it, whole or cut short."""
    holding: dict = {}
    seen_while_taking: list[dict] = []

    def in_hand(tp, last) -> None:
        if last is None:
            holding.pop(tp, None)
        else:
            holding[tp] = last

    class Watching(Handler):
        async def __call__(self, record) -> None:
            seen_while_taking.append(dict(holding))
            await super().__call__(record)

    lane = BatchLane(frozenset({VITALS.topic}), Watching(), None, in_hand=in_hand)
    asyncio.run(consumer._take_batch(lane, [(VITALS, records(0, 9))], consumer.app.consumer_generation_id))  # noqa: SLF001
    assert seen_while_taking == [{VITALS: 9}] * 10
    assert holding == {}
    lane = BatchLane(frozenset({VITALS.topic}), Watching(consumer.app, stop_after=3), None, in_hand=in_hand)
    asyncio.run(consumer._take_batch(lane, [(VITALS, records(10, 19))], consumer.app.consumer_generation_id))  # noqa: SLF001
    assert holding == {}
