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
    decision = new_step().take(
        record({"patient_id": "MRN-0501", "ts": "2026-11-21T08:00:00Z", "spo2": 97}, key="MRN-0999")
    )
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
    failed = step.take(record({"patient_id": "MRN-0666", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}, offset=1))
    [dead] = failed.publish
    letter = json.loads(dead.value)
    assert dead.topic == TOPICS.dead_letters and letter["offset"] == 1
    assert "ZeroDivisionError" in letter["reason"] and "report it" in letter["reason"]
    assert metrics.MESSAGES_REJECTED.labels(TOPICS.vitals, "engine_error")._value.get() == before + 1  # noqa: SLF001
    fine = step.take(record({"patient_id": "MRN-0500", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}))
    assert [p.topic for p in fine.publish] == [TOPICS.patient_status]


def ignored(reason: str, topic: str = TOPICS.vitals) -> float:
    return metrics.MESSAGES_IGNORED.labels(topic, reason)._value.get()  # noqa: SLF001


def test_a_reading_dated_ahead_of_the_clock_is_dead_lettered_and_blinds_nobody() -> None:
    """Issue 19, finding 3: one heart rate dated 2099 was accepted, and every later reading of
    the patient fell behind it, dropped without a word (seen failing: no dead letter, no alert)."""
    step = new_step()
    future = step.take(record({"patient_id": "MRN-0600", "ts": "2099-01-01T00:00:00Z", "heart_rate": 80}))
    [dead] = future.publish
    reason = json.loads(dead.value)["reason"]
    assert dead.topic == TOPICS.dead_letters and "years ahead of this machine's clock" in reason
    assert "future_tolerance_s" in reason
    step.take(record({"patient_id": "MRN-0600", "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"}))
    fever = step.take(record({"patient_id": "MRN-0600", "ts": "2026-11-21T08:00:00Z", "temperature": 39.0}))
    assert [json.loads(a.value)["status"] for a in fever.alerts] == ["firing"]
    discharge = step.take(record({"patient_id": "MRN-0600", "ts": "2099-01-01T00:00:00Z", "type": "discharge"}))
    assert [p.topic for p in discharge.publish] == [TOPICS.dead_letters], "a discharge in the future likewise"
    assert "MRN-0600" in step.engine.patients()


def test_a_record_behind_the_window_a_repeat_and_a_redelivery_are_each_counted() -> None:
    step = new_step()
    newest = record({"patient_id": "MRN-0601", "ts": "2026-11-21T10:00:00Z", "heart_rate": 80})
    counts = {reason: ignored(reason) for reason in ("behind_window", "duplicate_message", "redelivered")}
    step.take(newest)
    step.take(record({"patient_id": "MRN-0601", "ts": "2026-11-21T08:00:00Z", "heart_rate": 81}))
    step.take(record({"patient_id": "MRN-0601", "ts": "2026-11-21T10:00:00Z", "heart_rate": 80}))  # a retry
    step.take(newest)  # the same record again: Kafka's redelivery
    assert {reason: ignored(reason) - before for reason, before in counts.items()} == {
        "behind_window": 1,
        "duplicate_message": 1,
        "redelivered": 1,
    }


def test_a_device_clock_that_jumps_ahead_within_the_tolerance_blinds_the_patient_no_longer_than_the_jump() -> None:
    """A set four minutes ahead of the monitor's true time (accepted: within future_tolerance_s),
    then the true readings of a patient in shock: the alert comes at most the jump later than
    without it."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)

    def at(minutes: float) -> str:
        return (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def shock(minutes: float) -> dict:
        return {
            "patient_id": "MRN-0602",
            "ts": at(minutes),
            "heart_rate": 150,
            "systolic_bp": 80,
            "spo2": 85,
            "respiratory_rate": 30,
            "temperature": 39.5,
        }

    clean, jumped = new_step(), new_step()
    clean.take(record({"patient_id": "MRN-0602", "ts": at(0), "heart_rate": 80}))
    jumped.take(record({"patient_id": "MRN-0602", "ts": at(0), "heart_rate": 80}))
    jumped.take(record({"patient_id": "MRN-0602", "ts": at(5), "heart_rate": 82}))  # the clock ran 4 min ahead
    fired: dict[str, str] = {}
    for minute in range(1, 12):
        for name, step in (("clean", clean), ("jumped", jumped)):
            for alert in step.take(record(shock(minute))).alerts:
                fired.setdefault(name, json.loads(alert.value)["observed_at"])
    assert set(fired) == {"clean", "jumped"}
    # The jumped set is dated minute 5 and sent at minute 1: a four-minute jump. The patient's
    # clock stood at minute 5 until then, so persistence counted from there: four minutes late
    # at most, never more (a jump past lateness_s used to hide every later reading for good).
    delay = datetime.fromisoformat(fired["jumped"]) - datetime.fromisoformat(fired["clean"])
    assert timedelta(0) <= delay <= timedelta(minutes=4), fired
