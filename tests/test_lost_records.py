"""The lost-records watchdog's bookkeeping: which offsets the agent took, and where it skipped.

The whole recovery (a worker that re-reads records Faust dropped at the end of a rebalance) is
proven by tests/test_worker_durability.py, which failed about one run in four under load
before the watchdog existed; this file pins down the offset arithmetic it relies on.
"""

from __future__ import annotations

from faust.types import TP

from streams.lost_records import TakenOffsets

VITALS = TP("vitals", 0)


def taken(offsets: list[int], tp: TP = VITALS) -> TakenOffsets:
    sensor = TakenOffsets({"vitals", "clinical-events"})
    for offset in offsets:
        sensor.on_message_in(tp, offset, message=None)
    return sensor


def test_consecutive_offsets_leave_no_hole() -> None:
    state = taken([5, 6, 7, 8]).partitions[VITALS]
    assert (state.taken, state.hole_from) == (8, None)


def test_an_offset_beyond_the_next_marks_where_the_hole_starts() -> None:
    state = taken([5, 6, 12, 13]).partitions[VITALS]
    assert (state.taken, state.hole_from) == (13, 7)


def test_the_first_hole_is_kept_until_it_is_rewound() -> None:
    state = taken([1, 4, 9]).partitions[VITALS]
    assert state.hole_from == 2


def test_records_read_again_after_a_rewind_neither_lower_taken_nor_make_a_hole() -> None:
    sensor = taken([5, 6, 12])
    state = sensor.partitions[VITALS]
    state.hole_from, state.awaiting = None, 7  # what a rewind to 7 does
    for offset in range(7, 14):
        sensor.on_message_in(VITALS, offset, message=None)
    assert (state.taken, state.hole_from, state.awaiting) == (13, None, None)


def test_output_and_internal_topics_are_not_watched() -> None:
    sensor = taken([1, 9], tp=TP("patient-status", 0))
    assert sensor.partitions == {}


def test_a_rebalance_forgets_the_previous_generation() -> None:
    sensor = taken([1, 2, 3])
    sensor.forget()
    sensor.on_message_in(VITALS, 40, message=None)
    assert (sensor.partitions[VITALS].taken, sensor.partitions[VITALS].hole_from) == (40, None)


def test_a_rewind_is_done_once_the_stream_takes_its_target_again() -> None:
    sensor = taken([5, 6, 12])
    state = sensor.partitions[VITALS]
    state.hole_from, state.awaiting = None, 7  # what a rewind to 7 does
    sensor.on_message_in(VITALS, 13, message=None)  # the rest of a batch fetched before the seek
    assert state.awaiting == 7
    sensor.on_message_in(VITALS, 7, message=None)
    assert state.awaiting is None


def test_a_batch_taken_at_once_counts_as_every_offset_in_it() -> None:
    sensor = taken([5])
    sensor.took(VITALS, 6, 40)
    state = sensor.partitions[VITALS]
    assert (state.taken, state.hole_from) == (40, None)
    sensor.took(VITALS, 45, 50)
    assert (state.taken, state.hole_from) == (50, 41)


def test_a_rewind_target_inside_a_batch_is_taken() -> None:
    sensor = taken([5, 6])
    state = sensor.partitions[VITALS]
    state.awaiting = 3
    sensor.took(VITALS, 1, 8)
    assert (state.taken, state.awaiting) == (8, None)


def test_a_partition_that_will_not_move_is_given_up_with_an_error_never_a_crash(monkeypatch, tmp_path, caplog) -> None:
    """Issue 19: three rewinds of one offset crashed the worker, and with it the watch of every
    other patient. Now the watchdog stops trying that offset: one ERROR, one count, no crash.
    The app is the worker's real Faust app, not started: its seek and crash are recorded."""
    import asyncio
    import logging

    from streams import metrics
    from streams.app import configured_app
    from streams.lost_records import LostRecordsWatchdog, _Partition
    from streams.settings import WorkerSettings

    monkeypatch.setenv("CRSMON_STORE", "memory://")
    monkeypatch.setenv("CRSMON_DATA_DIR", str(tmp_path))
    app = configured_app(WorkerSettings())
    sought: list[int] = []
    crashed: list[BaseException] = []

    async def seek(tp, offset) -> None:
        sought.append(offset)

    async def crash(error) -> None:
        crashed.append(error)

    monkeypatch.setattr(app.consumer, "seek", seek)
    monkeypatch.setattr(app, "crash", crash)
    watchdog = LostRecordsWatchdog(app, {"vitals"}, lambda: True, max_rewinds=3)
    given_up = metrics.LOST_RECORDS_GIVEN_UP.labels("vitals")
    before = given_up._value.get()  # noqa: SLF001
    state = _Partition()
    with caplog.at_level(logging.ERROR, logger="streams.lost_records"):
        for _ in range(6):
            asyncio.run(watchdog._rewind(VITALS, state, 7, 20, "fetched but never reached the worker"))  # noqa: SLF001
    assert sought == [7, 7, 7]
    assert crashed == []
    assert given_up._value.get() - before == 1  # noqa: SLF001
    gave_up = [r.getMessage() for r in caplog.records if "gives up" in r.getMessage()]
    assert len(gave_up) == 1 and "Restart this worker" in gave_up[0]
