"""What a worker crash between two state writes can and cannot lose.

The table here is a plain dict standing in for the Faust table's local store (PatientStates
uses only its mapping interface); Kafka-backed recovery of that store is covered by the
worker tests that SIGKILL real workers.
"""

import json

from monitor.discharges import DischargeMemory
from monitor.engine import Engine
from monitor.wire import decode_input
from streams import patient_record
from streams.patient_states import PatientStates

PATIENT = "MRN-0400"


class StoreStandIn(dict):
    partition_of: dict

    def __init__(self) -> None:
        super().__init__()
        self.partition_of = {}


def event(document: dict):
    return decode_input(json.dumps({"patient_id": PATIENT, **document}))


def vitals(minute: int, temperature: float = 37.0, second: int = 0):
    return event({"ts": f"2026-11-21T09:{minute:02d}:{second:02d}Z", "temperature": temperature,
                  "heart_rate": 80 + minute % 3, "spo2": 97})


def run(states: PatientStates, engine: Engine, events) -> list:
    alerts = []
    for item in events:
        resend = states.track(PATIENT, 0)
        outputs = engine.observe(item)
        for alert in outputs.alerts:
            states.sending(PATIENT, alert.alert_id.encode())
            alerts.append(alert)
        states.settle(PATIENT, outputs.durable, item.ts.timestamp())
        alerts.extend(resend)
    return alerts


def test_a_crash_loses_only_samples_since_the_last_write_never_an_episode_transition() -> None:
    table = StoreStandIn()
    first_engine = Engine()
    first = PatientStates(first_engine, table, checkpoint_interval_s=30)
    therapy = event({"ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"})
    before = [vitals(m) for m in range(0, 5)]
    fever = vitals(5, 38.8)
    after = [vitals(5, 38.6, second) for second in (5, 10, 15, 20)]  # inside 30 s of event time

    alerts = run(first, first_engine, [therapy, *before, fever])
    assert [a.status for a in alerts] == ["firing"]
    written_with_the_episode = first_engine.snapshot(PATIENT)
    run(first, first_engine, after)        # within 30 s of event time: not written
    assert first_engine.snapshot(PATIENT) != written_with_the_episode
    # The worker dies here. A new one restores the patient from the table.

    second_engine = Engine()
    second = PatientStates(second_engine, table, checkpoint_interval_s=30)
    resend = second.track(PATIENT, 0)
    assert second_engine.snapshot(PATIENT) == written_with_the_episode, "lost: the samples after the write"
    assert second_engine.episode(PATIENT, "crs").open, "kept: the episode opened before the crash"
    assert resend == [alerts[0].alert_id.encode()], "the alert not confirmed delivered is sent again"

    # Kafka still holds the samples; the uncommitted ones are read again, and fire nothing anew.
    again = run(second, second_engine, after)
    assert [a for a in again if not isinstance(a, bytes)] == []


def test_a_confirmed_alert_is_not_sent_again() -> None:
    table = StoreStandIn()
    engine = Engine()
    states = PatientStates(engine, table, checkpoint_interval_s=30)
    therapy = event({"ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"})
    states.track(PATIENT, 0)
    engine.observe(therapy)
    states.settle(PATIENT, True, therapy.ts.timestamp())
    states.track(PATIENT, 0)
    outputs = engine.observe(vitals(1, 38.9))
    alert = outputs.alerts[0].alert_id.encode()
    states.sending(PATIENT, alert)
    states.delivered(PATIENT, alert)
    states.settle(PATIENT, outputs.durable, vitals(1).ts.timestamp())
    _, unconfirmed = patient_record.unpack(table[PATIENT.encode()])
    assert unconfirmed == []


def test_discharge_keeps_only_its_memory_and_release_forgets_other_partitions() -> None:
    table, engine = StoreStandIn(), Engine()
    states = PatientStates(engine, table, checkpoint_interval_s=30)
    states.track(PATIENT, 3)
    for minute in (1, 2):  # a new patient is first written one checkpoint interval on
        engine.observe(vitals(minute))
        states.settle(PATIENT, False, vitals(minute).ts.timestamp())
        assert (PATIENT.encode() in table) == (minute == 2)
    states.release([3])
    assert PATIENT not in engine.patients()
    restored, _ = states.restore_assigned({0, 1})
    assert restored == 0 and PATIENT not in engine.patients(), "not ours any more"
    states.track(PATIENT, 3)
    assert PATIENT in engine.patients()
    engine.observe(event({"ts": "2026-11-21T10:00:00Z", "type": "discharge"}))
    states.settle(PATIENT, True, 0.0)
    assert DischargeMemory.is_record(patient_record.unpack(table[PATIENT.encode()])[0]), (
        "the patient's state gives way to the memory of its discharge (monitor/discharges.py)")
    states.release([3])
    assert not engine.holds(PATIENT)
