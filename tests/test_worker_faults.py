"""The worker against a broker that is not there yet, or goes away for 30 seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crsmon.local_kafka import LocalKafka, free_port
from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service
from tests.support.worker_metrics import consumed, wait_for

pytestmark = pytest.mark.kafka


@pytest.fixture
def own_broker(tmp_path: Path):
    """A broker of this test's own, on fixed ports so that it comes back where it was."""
    broker = LocalKafka(data_dir=tmp_path / "kafka", port=free_port())
    yield broker
    broker.remove()


def fever_after_therapy(patient: str, hour: int) -> tuple[list, list]:
    events = [(patient, {"patient_id": patient, "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"})]
    vitals = [
        (patient, {"patient_id": patient, "ts": f"2026-11-21T{hour:02d}:00:00Z", "temperature": 38.7, "heart_rate": 96})
    ]
    return events, vitals


def test_worker_started_before_the_broker_waits_says_why_and_then_works(own_broker, worker_env, tmp_path) -> None:
    env = {**worker_env, "CRSMON_BROKER": own_broker.bootstrap}
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("waiting for Kafka at", timeout=60)
        assert worker.alive()
        own_broker.start()
        worker.wait_for_output("Ready", timeout=120)
        events, vitals = fever_after_therapy("MRN-0100", 9)
        produce(own_broker.bootstrap, env["CRSMON_TOPIC_CLINICAL_EVENTS"], events)
        produce(own_broker.bootstrap, env["CRSMON_TOPIC_VITALS"], vitals)
        alerts = read_until(own_broker.bootstrap, env["CRSMON_TOPIC_ALERTS"], lambda a: len(a) >= 1)
        assert alerts[0]["patient_id"] == "MRN-0100" and alerts[0]["status"] == "firing"
    finally:
        worker.stop()


def test_broker_stopped_for_30_seconds_under_load_nothing_is_lost(own_broker, worker_env, tmp_path) -> None:
    own_broker.start()
    env = {**worker_env, "CRSMON_BROKER": own_broker.bootstrap}
    web_port = int(env["CRSMON_WEB_PORT"])
    patients = [f"MRN-{n:04d}" for n in range(200)]
    load = [
        (
            p,
            {
                "patient_id": p,
                "ts": f"2026-11-21T06:{m:02d}:00Z",
                "heart_rate": 80 + m % 7,
                "temperature": 37.0,
                "spo2": 97,
            },
        )
        for m in range(60)
        for p in patients
    ]
    therapies = [fever_after_therapy(p, 9)[0][0] for p in patients]
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        produce(own_broker.bootstrap, env["CRSMON_TOPIC_CLINICAL_EVENTS"], therapies)
        produce(own_broker.bootstrap, env["CRSMON_TOPIC_VITALS"], load)
        wait_for(lambda: consumed(web_port) > 2000, 60, "the worker to be busy with the load")
        own_broker.stop()  # mid-load
        stopped_at = time.monotonic()
        time.sleep(30)
        assert worker.alive(), "the worker must ride out a broker outage"
        own_broker.start()
        outage = time.monotonic() - stopped_at
        fevers = [fever_after_therapy(p, 9)[1][0] for p in patients]
        produce(own_broker.bootstrap, env["CRSMON_TOPIC_VITALS"], fevers)
        total = len(therapies) + len(load) + len(fevers)
        wait_for(lambda: consumed(web_port) >= total, 180, f"all {total} messages consumed")
        alerts = read_until(
            own_broker.bootstrap,
            env["CRSMON_TOPIC_ALERTS"],
            lambda a: len({x["patient_id"] for x in a}) >= len(patients),
            timeout=120,
        )
    finally:
        worker.stop()
    assert outage >= 30
    firing = {a["patient_id"] for a in alerts if a["status"] == "firing"}
    assert firing == set(patients), "every patient's fever after the outage fired"
