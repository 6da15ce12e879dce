"""The worker's per-message logic without a broker: routing, keys, and late input after discharge."""

import json

from monitor.engine import Engine
from streams import metrics
from streams.pipeline import Pipeline
from kafka_client.topics import Topics

TOPICS = Topics()


def message(document: dict, key: str | None = "MRN-0500") -> tuple:
    return (TOPICS.vitals if "type" not in document else TOPICS.clinical_events, 0, 1,
            key.encode() if key else None, json.dumps(document).encode())


def ignored_after_discharge() -> float:
    return metrics.MESSAGES_IGNORED.labels(TOPICS.vitals, "after_discharge")._value.get()


def test_readings_older_than_a_discharge_do_not_admit_the_patient_again() -> None:
    engine = Engine()
    pipeline = Pipeline(engine, TOPICS)
    pipeline.handle(*message({"patient_id": "MRN-0500", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}))
    pipeline.handle(*message({"patient_id": "MRN-0500", "ts": "2026-11-21T09:00:00Z", "type": "discharge"}))
    assert "MRN-0500" not in engine.patients()
    before = ignored_after_discharge()
    late = pipeline.handle(*message({"patient_id": "MRN-0500", "ts": "2026-11-21T08:30:00Z", "heart_rate": 82}))
    assert late.alerts == [] and late.others == [] and late.patient_id is None
    assert "MRN-0500" not in engine.patients(), "a reading from before the discharge is not an admission"
    assert ignored_after_discharge() == before + 1, "and it is counted, not silently dropped"
    pipeline.handle(*message({"patient_id": "MRN-0500", "ts": "2026-11-22T10:00:00Z", "heart_rate": 84}))
    assert "MRN-0500" in engine.patients(), "newer input is a new admission"


def test_a_message_keyed_by_something_else_is_dead_lettered() -> None:
    pipeline = Pipeline(Engine(), TOPICS)
    handled = pipeline.handle(*message({"patient_id": "MRN-0501", "ts": "2026-11-21T08:00:00Z", "spo2": 97},
                                       key="MRN-0999"))
    [dead] = handled.others
    assert dead.topic == TOPICS.dead_letters
    assert "is not the patient_id" in json.loads(dead.value)["reason"]


class EngineWithADefect(Engine):
    """An engine that fails on one patient's readings, standing in for a bug nobody knows yet."""

    def observe(self, event):
        if event.patient_id == "MRN-0666":
            raise ZeroDivisionError("float division by zero")
        return super().observe(event)


def test_a_message_the_engine_fails_on_is_dead_lettered_and_the_ward_goes_on() -> None:
    pipeline = Pipeline(EngineWithADefect(), TOPICS)
    before = metrics.MESSAGES_REJECTED.labels(TOPICS.vitals, "engine_error")._value.get()
    failed = pipeline.handle(*message({"patient_id": "MRN-0666", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80},
                                      key="MRN-0666"))
    [dead] = failed.others
    letter = json.loads(dead.value)
    assert dead.topic == TOPICS.dead_letters and letter["offset"] == 1
    assert "ZeroDivisionError" in letter["reason"] and "report it" in letter["reason"]
    assert metrics.MESSAGES_REJECTED.labels(TOPICS.vitals, "engine_error")._value.get() == before + 1
    fine = pipeline.handle(*message({"patient_id": "MRN-0500", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}))
    assert fine.patient_id == "MRN-0500"
