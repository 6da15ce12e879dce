"""What a worker crash between two state writes can and cannot lose.

The worker's real step (streams/record_step.py) decides each write; the store here is a plain
dict standing in for the Faust table's local store (Kafka-backed recovery of that store is
covered by the worker tests that SIGKILL real workers).
"""

import itertools
import json
from typing import Callable

from monitor.discharges import DischargeMemory
from monitor.engine import Engine
from streams import patient_record
from streams.record_step import RecordStep
from tests.support.steps import TOPICS, Store, alerts_of, record, take_all

PATIENT = "MRN-0400"


def event(document: dict) -> dict:
    return {"patient_id": PATIENT, **document}


def vitals(minute: int, temperature: float = 37.0, second: int = 0) -> dict:
    return event(
        {
            "ts": f"2026-11-21T09:{minute:02d}:{second:02d}Z",
            "temperature": temperature,
            "heart_rate": 80 + minute % 3,
            "spo2": 97,
        }
    )


def new_step(store: Store, engine: Engine | None = None) -> RecordStep:
    return RecordStep(engine or Engine(), TOPICS, store, checkpoint_interval_s=30)


THERAPY = event({"ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"})


def test_a_crash_loses_only_samples_since_the_last_write_never_an_episode_transition() -> None:
    store = Store()
    first = new_step(store)
    before = [vitals(m) for m in range(0, 5)]
    fever = vitals(5, 38.8)
    after = [vitals(5, 38.6, second) for second in (5, 10, 15, 20)]  # inside 30 s of event time

    alerts = alerts_of(take_all(first, store, [record(d) for d in [THERAPY, *before, fever]]))
    assert [a["status"] for a in alerts] == ["firing"]
    written_with_the_episode = first.engine.snapshot(PATIENT)
    take_all(first, store, [record(d) for d in after])  # within 30 s of event time: not written
    assert first.engine.snapshot(PATIENT) != written_with_the_episode
    # The worker dies here. A new one restores the patient from the table on its next record.

    second = new_step(store)
    [again, *rest] = take_all(second, store, [record(d) for d in after])
    assert [json.loads(a.value)["alert_id"] for a in again.alerts] == [alerts[0]["alert_id"]], (
        "the alert not confirmed delivered is sent again, with its id"
    )
    assert second.engine.episode(PATIENT, "crs").open, "kept: the episode opened before the crash"
    assert alerts_of(rest) == [], "Kafka still holds the samples; read again, they fire nothing anew"


def test_the_restored_state_is_the_one_written_with_the_episode() -> None:
    store = Store()
    first = new_step(store)
    take_all(first, store, [record(d) for d in [THERAPY, vitals(1, 38.9)]])
    written = first.engine.snapshot(PATIENT)
    take_all(first, store, [record(vitals(1, 38.7, 10))])
    second = new_step(store)
    second.states.track(PATIENT, 0)
    assert second.engine.snapshot(PATIENT) == written, "lost: the samples after the write"


def test_an_alert_is_kept_until_confirmed_and_then_not_sent_again() -> None:
    store = Store()
    step = new_step(store)
    take_all(step, store, [record(THERAPY)])
    decision = store.carry_out(step.take(record(vitals(1, 38.9))))
    [alert] = decision.alerts
    assert patient_record.unpack(store[PATIENT.encode()])[1] == [alert.value], (
        "written with the episode, before the broker confirmed it"
    )
    step.delivered(PATIENT, alert.value)  # the producer's callback
    oxygen = event({"ts": "2026-11-21T09:02:00Z", "type": "oxygen", "device": "nasal_cannula"})
    assert store.carry_out(step.take(record(oxygen))).write is not None
    assert patient_record.unpack(store[PATIENT.encode()])[1] == []
    assert new_step(store).take(record(vitals(3))).alerts == []


def live_wall() -> Callable[[], float]:
    """A wall clock that runs a minute a reading, as it does between a live ward's records."""
    return itertools.count(0.0, 60.0).__next__


def test_discharge_keeps_only_its_memory_and_release_forgets_other_partitions() -> None:
    from streams.patient_states import PatientStates

    store, engine = Store(), Engine()
    step = new_step(store, engine)
    step.states = PatientStates(engine, store, 30, wall=live_wall())
    for minute in (1, 2):  # a new patient is first written one checkpoint interval on
        store.carry_out(step.take(record(vitals(minute), partition=3)))
        assert (PATIENT.encode() in store) == (minute == 2)
    restored, _ = step.assigned({0, 1})
    assert restored == 0 and PATIENT not in engine.patients(), "not ours any more"
    store.carry_out(step.take(record(vitals(3), partition=3)))
    assert PATIENT in engine.patients()
    store.carry_out(step.take(record(event({"ts": "2026-11-21T10:00:00Z", "type": "discharge"}), partition=3)))
    assert DischargeMemory.is_record(patient_record.unpack(store[PATIENT.encode()])[0]), (
        "the patient's state gives way to the memory of its discharge (monitor/discharges.py)"
    )
    step.assigned({0})
    assert not engine.holds(PATIENT)


def test_records_not_stored_hold_commits_back_until_a_write_or_a_quiet_interval_stores_them() -> None:
    """The safe offset (streams/patient_states.py): the first record of a partition whose effect
    is not in the table. A patient with one record is written by the timer once the ward has
    been quiet for a checkpoint interval of wall time, and the commits reach the end."""
    from streams.patient_states import PatientStates

    wall = [0.0]
    store = Store()
    step = new_step(store)
    step.states = PatientStates(step.engine, store, 30, wall=lambda: wall[0])
    lone = record({"patient_id": "MRN-0401", "ts": "2026-11-21T09:00:00Z", "heart_rate": 80}, offset=7)
    store.carry_out(step.take(lone))
    assert step.safe_offset(TOPICS.vitals, 0) == 7, "its one record is not stored: commits stop before it"
    assert step.quiet_writes() == [], "not quiet for long enough yet"
    wall[0] = 31.0
    [(partition, write)] = step.quiet_writes()
    assert partition == 0 and write.key == b"MRN-0401" and write.cause == "quiet"
    store[write.key] = write.value
    assert step.safe_offset(TOPICS.vitals, 0) == 7, "handed to the producer, not confirmed: still held"
    step.states.write_stored(write)  # the broker confirmed its changelog message
    assert step.safe_offset(TOPICS.vitals, 0) is None, "stored: nothing holds the commits back"
    restarted = new_step(store)
    assert restarted.take(lone).publish == [], "a restart that reads it again skips it"
    assert restarted.engine.holds("MRN-0401"), "the patient with one record survived the restart"


def hourly(hour: int) -> dict:
    return event({"ts": f"2026-11-22T{hour:02d}:00:00Z", "heart_rate": 80 + hour % 3, "spo2": 97})


def test_a_backlog_of_hourly_charts_writes_the_patient_once_a_wall_interval_not_after_every_record() -> None:
    """Hourly charting moves event time an hour a record: on event time alone, a worker catching
    up on a backlog wrote the patient after every record (issue 19). The wall-time half of the
    cadence stores it once its first unstored record is a checkpoint interval old; a restart
    before then reads those records again and applies each once."""
    from streams.patient_states import PatientStates

    wall = [0.0]
    store = Store()
    step = new_step(store)
    step.states = PatientStates(step.engine, store, 30, wall=lambda: wall[0])
    records = [record(hourly(hour)) for hour in range(12)]
    decisions = [store.carry_out(step.take(one)) for one in records]
    assert [d.write for d in decisions] == [None] * 12 and [d.overdue for d in decisions] == [None] * 12
    assert step.safe_offset(TOPICS.vitals, 0) == records[0].offset, "a restart reads all twelve again"
    wall[0] = 31.0
    [(_partition, write)] = step.quiet_writes()
    store[write.key] = write.value
    assert step.safe_offset(TOPICS.vitals, 0) == records[0].offset, "in flight: not stored until confirmed"
    step.states.write_stored(write)  # the broker confirmed it
    assert step.safe_offset(TOPICS.vitals, 0) is None
    restarted = new_step(store)
    assert [restarted.take(one).publish for one in records] == [[]] * 12, "each already in the stored state"


def test_live_hourly_charts_are_written_at_every_record_as_before() -> None:
    """Live, an hour of event time is an hour of wall time: every chart after the first is stored
    with its own record, as the event-time cadence did."""
    from streams.patient_states import PatientStates

    wall = [0.0]
    store = Store()
    step = new_step(store)
    step.states = PatientStates(step.engine, store, 30, wall=lambda: wall[0])
    writes = []
    for hour in range(6):
        writes.append(store.carry_out(step.take(record(hourly(hour)))).write)
        wall[0] += 3600.0
    assert [None if w is None else w.cause for w in writes] == [None] + ["cadence"] * 5


def test_a_write_the_broker_refuses_holds_its_records_back_until_the_patient_is_written_again() -> None:
    """A changelog delivery refused (or never confirmed) must not let a commit pass the
    patient's records: they are unstored again from the first offset the write covered, and
    the patient is written on its next record. Seen failing with `write_failed` a no-op (the
    refusal only logged): both safe offsets were None after the refusal."""
    store = Store()
    step = new_step(store)
    states = step.states
    therapy = store.carry_out(step.take(record(THERAPY, offset=3)))
    if therapy.write is not None:
        states.write_stored(therapy.write)
    refused = store.carry_out(step.take(record(vitals(1, 38.9), offset=10))).write
    assert refused is not None and refused.cause == "episode"
    states.write_failed(refused)
    assert step.safe_offset(TOPICS.vitals, 0) == 10, "refused: the record is read again after a restart"
    assert step.safe_offset(TOPICS.clinical_events, 0) == (3 if therapy.write is None else None)
    again = store.carry_out(step.take(record(vitals(1, 38.7, 20), offset=11))).write
    assert again is not None and again.cause == "refused", "written again on the next record, whatever the cadence"
    assert step.safe_offset(TOPICS.vitals, 0) == 10, "in flight: not stored until confirmed"
    states.write_stored(again)
    assert (step.safe_offset(TOPICS.clinical_events, 0), step.safe_offset(TOPICS.vitals, 0)) == (None, None)


def test_a_refusal_after_the_partition_moved_away_is_left_to_its_next_owner() -> None:
    store = Store()
    step = new_step(store)
    writes = [
        store.carry_out(step.take(record(document, partition=2))).write for document in (THERAPY, vitals(1, 38.9))
    ]
    step.assigned({0, 1})  # partition 2 is revoked; its deliveries fail as the producer stops
    for write in writes:
        if write is not None:
            step.states.write_failed(write)
    assert (step.safe_offset(TOPICS.clinical_events, 2), step.safe_offset(TOPICS.vitals, 2)) == (None, None)
