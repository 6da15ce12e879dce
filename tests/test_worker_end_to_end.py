"""`crsmon worker` against the real broker, started as a user would start it."""

from pathlib import Path

import pytest

from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service

pytestmark = pytest.mark.kafka


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path):
    service = Service(["worker"], worker_env, tmp_path / "worker.log")
    try:
        service.wait_for_output("Ready")
        yield service
    finally:
        service.stop()


def test_fever_after_therapy_alerts_and_bad_input_is_dead_lettered(worker, worker_env, kafka) -> None:
    topics = {
        name: worker_env[f"CRSMON_TOPIC_{name.upper()}"]
        for name in ("vitals", "clinical_events", "patient_status", "alerts", "dead_letters")
    }
    produce(
        kafka.bootstrap,
        topics["clinical_events"],
        [
            ("MRN-1", {"patient_id": "MRN-1", "ts": "2026-11-23T08:00:00Z", "type": "therapy", "therapy": "car-t"}),
        ],
    )
    produce(
        kafka.bootstrap,
        topics["vitals"],
        [
            (
                "MRN-1",
                {
                    "patient_id": "MRN-1",
                    "ts": "2026-11-23T09:00:00Z",
                    "ward": "5-West",
                    "bed": "12",
                    "heart_rate": 88,
                    "temperature": 37.2,
                },
            ),
            (
                "MRN-1",
                {
                    "patient_id": "MRN-1",
                    "ts": "2026-11-23T10:00:00Z",
                    "ward": "5-West",
                    "bed": "12",
                    "heart_rate": 104,
                    "temperature": 38.6,
                },
            ),
            ("MRN-2", b"{this is not json"),
            ("MRN-2", {"patient_id": "MRN-2", "ts": "2026-11-23T10:00:00Z", "temperature": 134}),
        ],
    )
    # Quiet for 3 s after the first: a duplicate arriving after it fails the test.
    alerts = read_until(kafka.bootstrap, topics["alerts"], lambda records: len(records) >= 1, quiet_for=3)
    assert [(a["patient_id"], a["rule"], a["status"], a["_key"]) for a in alerts] == [
        ("MRN-1", "crs", "firing", "MRN-1")
    ]
    assert alerts[0]["observed_at"] == "2026-11-23T10:00:00Z"
    assert alerts[0]["ward"] == "5-West" and alerts[0]["emitted_at"].endswith("Z")

    statuses = read_until(
        kafka.bootstrap, topics["patient_status"], lambda records: any(r["crs"]["fever"] for r in records)
    )
    assert {s["_key"] for s in statuses} == {"MRN-1"}
    assert statuses[-1]["latest"]["temperature"] == 38.6
    assert statuses[-1]["crs"]["risk_period"] is True

    dead = read_until(kafka.bootstrap, topics["dead_letters"], lambda records: len(records) >= 2)
    reasons = sorted(d["reason"] for d in dead)
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "temperature 134.0 outside 20–45 °C"
    assert all(d["topic"] == topics["vitals"] and d["_key"] == "MRN-2" for d in dead)
    assert any(d["payload"] == "{this is not json" for d in dead)
    assert all(isinstance(d["offset"], int) for d in dead)

    # The worker is still processing after the bad input: a discharge resolves the episode.
    produce(
        kafka.bootstrap,
        topics["clinical_events"],
        [
            ("MRN-1", {"patient_id": "MRN-1", "ts": "2026-11-23T11:00:00Z", "type": "discharge"}),
        ],
    )
    alerts = read_until(kafka.bootstrap, topics["alerts"], lambda records: len(records) >= 2, quiet_for=3)
    assert len(alerts) == 2, "no duplicate of either alert"
    assert alerts[1]["status"] == "resolved"
    assert alerts[1]["observed_at"] == "2026-11-23T11:00:00Z"
    assert alerts[1]["episode_id"] == alerts[0]["episode_id"]
    assert alerts[1]["alert_id"] != alerts[0]["alert_id"]
    assert worker.alive()
