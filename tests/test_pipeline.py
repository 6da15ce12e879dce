"""The worker's per-record step without a broker: routing, keys, defects of the engine, and
late input after discharge."""

import json

from monitor.engine import Engine
from streams import metrics
from streams.record_step import RecordStep
from tests.support.steps import TOPICS, Store, record


def new_step(engine: Engine | None = None) -> RecordStep:
    return RecordStep(engine or Engine(), TOPICS, Store(), checkpoint_interval_s=30)


def ignored_after_discharge() -> float:
    return metrics.MESSAGES_IGNORED.labels(TOPICS.vitals, "after_discharge")._value.get()  # noqa: SLF001


def test_readings_older_than_a_discharge_do_not_admit_the_patient_again() -> None:
    step = new_step()
    step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}))
    step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-21T09:00:00Z", "type": "discharge"}))
    assert "MRN-0500" not in step.engine.patients()
    before = ignored_after_discharge()
    late = step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-21T08:30:00Z", "heart_rate": 82}))
    assert late.alerts == [] and late.publish == [] and late.write is None
    assert "MRN-0500" not in step.engine.patients(), "a reading from before the discharge is not an admission"
    assert ignored_after_discharge() == before + 1, "and it is counted, not silently dropped"
    step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-22T10:00:00Z", "heart_rate": 84}))
    assert "MRN-0500" in step.engine.patients(), "newer input is a new admission"


def test_a_message_keyed_by_something_else_is_dead_lettered() -> None:
    decision = new_step().take(record({"patient_id": "MRN-0501", "ts": "2026-11-21T08:00:00Z", "spo2": 97},
                                      key="MRN-0999"))
    [dead] = decision.publish
    assert dead.topic == TOPICS.dead_letters
    assert "is not the patient_id" in json.loads(dead.value)["reason"]
    assert decision.alerts == [] and decision.write is None


class EngineWithADefect(Engine):
    """An engine that fails on one patient's readings, standing in for a bug nobody knows yet."""

    def observe(self, event):
        if event.patient_id == "MRN-0666":
            raise ZeroDivisionError("float division by zero")
        return super().observe(event)


def test_a_message_the_engine_fails_on_is_dead_lettered_and_the_ward_goes_on() -> None:
    step = new_step(EngineWithADefect())
    before = metrics.MESSAGES_REJECTED.labels(TOPICS.vitals, "engine_error")._value.get()  # noqa: SLF001
    failed = step.take(record({"patient_id": "MRN-0666", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80},
                              offset=1))
    [dead] = failed.publish
    letter = json.loads(dead.value)
    assert dead.topic == TOPICS.dead_letters and letter["offset"] == 1
    assert "ZeroDivisionError" in letter["reason"] and "report it" in letter["reason"]
    assert metrics.MESSAGES_REJECTED.labels(TOPICS.vitals, "engine_error")._value.get() == before + 1  # noqa: SLF001
    fine = step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}))
    assert [p.topic for p in fine.publish] == [TOPICS.patient_status]
