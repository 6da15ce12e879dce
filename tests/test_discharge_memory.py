"""Readings older than a discharge do not admit the patient again: a rule of the engine, so that
`crsmon replay` and the worker agree, kept in the patient's stored state, so that a restart or
a rebalance does not forget it (issue 13, defect b)."""

from __future__ import annotations

import io
import json

from monitor.engine import Engine
from monitor.replay import replay
from monitor.wire import decode_input
from streams.record_step import RecordStep
from tests.support.steps import TOPICS, Store, record, take_all

PATIENT = "MRN-0700"


def line(document: dict) -> str:
    return json.dumps({"patient_id": PATIENT, **document})


def event(document: dict):
    return decode_input(line(document))


def event_document(document: dict) -> dict:
    return {"patient_id": PATIENT, **document}


VITALS_0800 = {"ts": "2026-11-21T08:00:00Z", "heart_rate": 80, "temperature": 37.0}
DISCHARGE_0900 = {"ts": "2026-11-21T09:00:00Z", "type": "discharge"}
LATE_0830 = {"ts": "2026-11-21T08:30:00Z", "heart_rate": 135, "temperature": 39.4, "respiratory_rate": 28}
NEWER_1000 = {"ts": "2026-11-21T10:00:00Z", "heart_rate": 84}


def test_replay_does_not_admit_a_discharged_patient_on_a_reading_from_before() -> None:
    out = io.BytesIO()
    replay([line(VITALS_0800), line(DISCHARGE_0900), line(LATE_0830)], Engine(), out, io.StringIO(), with_status=True)
    records = [json.loads(row) for row in out.getvalue().splitlines()]
    assert [r["ts"] for r in records if r["record"] == "status"] == ["2026-11-21T08:00:00Z"]
    assert [r for r in records if r["record"] == "alert"] == []


def test_the_engine_ignores_it_counts_it_and_takes_newer_input_as_an_admission() -> None:
    engine = Engine()
    engine.observe(event(VITALS_0800))
    engine.observe(event(DISCHARGE_0900))
    late = engine.observe(event(LATE_0830))
    assert late.ignored == "after_discharge" and not late.statuses and not late.alerts
    assert PATIENT not in engine.patients()
    engine.observe(event(NEWER_1000))
    assert PATIENT in engine.patients(), "newer input is a new admission"
    # The admission ended the memory: what ignores it now is the new stay's window, 90 min on.
    assert engine.observe(event(LATE_0830)).ignored == "behind_window", "the admission ended the memory"


def test_the_memory_is_part_of_the_stored_state_and_survives_a_restart() -> None:
    store = Store()
    first = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    take_all(first, store, [record(event_document(VITALS_0800)), record(event_document(DISCHARGE_0900))])
    assert PATIENT.encode() in store, "the discharge is written, not only a tombstone"
    # The worker restarts (or the partition moves): a new engine restores what the table holds.
    second = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    late = second.take(record(event_document(LATE_0830)))
    assert late.publish == [] and late.alerts == [] and late.write is None
    assert PATIENT not in second.engine.patients()
    assert second.engine.snapshot(PATIENT) == first.engine.snapshot(PATIENT)
