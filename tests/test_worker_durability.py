"""What a worker survives: SIGKILL and restart, takeover by other workers, re-delivery.

Each test runs real `crsmon worker` processes against the real broker and reads what they
published. The guarantee under test (README, "Delivery guarantee"): at-least-once with
idempotent ids — every state change the input implies is published, a re-published change
carries the same alert_id, and no episode transition is lost or fired twice as a new change.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service

pytestmark = pytest.mark.kafka

THERAPY_AT = "2026-11-20T08:00:00Z"


def therapy(patient: str) -> tuple[str, dict]:
    return patient, {"patient_id": patient, "ts": THERAPY_AT, "type": "therapy", "therapy": "car-t"}


def vitals(patient: str, ts: str, temperature: float) -> tuple[str, dict]:
    return patient, {
        "patient_id": patient,
        "ts": ts,
        "ward": "7-East",
        "bed": patient[-2:],
        "heart_rate": 84,
        "systolic_bp": 124,
        "spo2": 98,
        "respiratory_rate": 14,
        "temperature": temperature,
    }


def discharge(patient: str, ts: str) -> tuple[str, dict]:
    return patient, {"patient_id": patient, "ts": ts, "type": "discharge"}


def start_worker(env: dict[str, str], tmp_path: Path, name: str) -> Service:
    env = {**env, "CRSMON_DATA_DIR": str(tmp_path / name)}
    from crsmon.local_kafka import free_port

    env["CRSMON_WEB_PORT"] = str(free_port())
    worker = Service(["worker"], env, tmp_path / f"{name}.log")
    worker.wait_for_output("Ready")
    return worker


def by_episode(alerts: list[dict]) -> dict[str, list[dict]]:
    episodes: dict[str, list[dict]] = collections.defaultdict(list)
    for alert in alerts:
        episodes[alert["episode_id"]].append(alert)
    return episodes


def distinct_changes(alerts: list[dict]) -> list[dict]:
    """One alert per alert_id; re-published copies must be identical but for emitted_at."""
    seen: dict[str, dict] = {}
    for alert in alerts:
        body = {k: v for k, v in alert.items() if k not in ("emitted_at", "_offset", "_partition")}
        if alert["alert_id"] in seen:
            assert seen[alert["alert_id"]] == body, "a re-published change must be the same change"
        seen[alert["alert_id"]] = body
    return list(seen.values())


@pytest.mark.parametrize("instance_id", [None, "worker-0"], ids=["dynamic", "static-membership"])
def test_sigkill_and_restart_keeps_an_open_episode_open(worker_env, kafka, tmp_path, instance_id) -> None:
    """The restarted worker starts from an empty data directory: state comes from the changelog.

    With static membership (CRSMON_INSTANCE_ID) the restarted worker is the same group member
    on another web port: Kafka hands it the partitions at once, and Faust must accept it."""
    if instance_id is not None:
        worker_env = {**worker_env, "CRSMON_INSTANCE_ID": instance_id}
    topics = {k: worker_env[f"CRSMON_TOPIC_{k.upper()}"] for k in ("vitals", "clinical_events", "alerts")}
    first = start_worker(worker_env, tmp_path, "first")
    try:
        produce(kafka.bootstrap, topics["clinical_events"], [therapy("MRN-0001")])
        produce(
            kafka.bootstrap,
            topics["vitals"],
            [
                vitals("MRN-0001", "2026-11-21T09:00:00Z", 37.1),
                vitals("MRN-0001", "2026-11-21T10:00:00Z", 38.7),
            ],
        )
        read_until(kafka.bootstrap, topics["alerts"], lambda alerts: len(alerts) >= 1)
    finally:
        first.kill()

    second = start_worker(worker_env, tmp_path, "second")
    try:
        produce(
            kafka.bootstrap,
            topics["vitals"],
            [
                vitals("MRN-0001", "2026-11-21T11:00:00Z", 38.9),
                vitals("MRN-0001", "2026-11-21T12:00:00Z", 38.8),
            ],
        )
        produce(kafka.bootstrap, topics["clinical_events"], [discharge("MRN-0001", "2026-11-21T13:00:00Z")])
        alerts = read_until(
            kafka.bootstrap, topics["alerts"], lambda alerts: any(a["status"] == "resolved" for a in alerts)
        )
    finally:
        second.stop()
    changes = distinct_changes(alerts)
    assert [(c["status"], c["observed_at"]) for c in changes] == [
        ("firing", "2026-11-21T10:00:00Z"),
        ("resolved", "2026-11-21T13:00:00Z"),
    ]
    assert len(by_episode(changes)) == 1


def test_three_workers_one_killed_mid_stream_every_change_arrives_once_per_alert_id(
    worker_env, kafka, tmp_path
) -> None:
    """Two phases, so that what the input implies does not depend on how the workers interleave
    the two input topics while they catch up (Kafka orders a patient's events within a topic,
    not across topics): first every fever, with a worker killed in the middle; then, once every
    episode has fired, every discharge."""
    patients = [f"MRN-{n:04d}" for n in range(60)]
    topics = {k: worker_env[f"CRSMON_TOPIC_{k.upper()}"] for k in ("vitals", "clinical_events", "alerts")}
    workers = [start_worker(worker_env, tmp_path, f"w{n}") for n in range(3)]
    try:
        produce(kafka.bootstrap, topics["clinical_events"], [therapy(p) for p in patients])
        produce(
            kafka.bootstrap,
            topics["vitals"],
            [vitals(p, f"2026-11-21T{h:02d}:00:00Z", 37.0) for h in range(0, 6) for p in patients],
        )
        produce(kafka.bootstrap, topics["vitals"], [vitals(p, "2026-11-21T06:00:00Z", 38.5) for p in patients[:30]])
        read_until(kafka.bootstrap, topics["alerts"], lambda alerts: len(alerts) >= 10)
        workers[1].kill()  # mid-stream: the other two take over its partitions and patients
        produce(kafka.bootstrap, topics["vitals"], [vitals(p, "2026-11-21T07:00:00Z", 38.5) for p in patients[30:]])
        produce(kafka.bootstrap, topics["vitals"], [vitals(p, "2026-11-21T08:00:00Z", 38.6) for p in patients])
        read_until(
            kafka.bootstrap,
            topics["alerts"],
            lambda alerts: len({a["episode_id"] for a in alerts}) >= len(patients),
            timeout=120,
        )
        produce(kafka.bootstrap, topics["clinical_events"], [discharge(p, "2026-11-21T09:00:00Z") for p in patients])
        alerts = read_until(
            kafka.bootstrap,
            topics["alerts"],
            lambda alerts: len({a["alert_id"] for a in alerts}) >= 2 * len(patients),
            timeout=120,
        )
    finally:
        for worker in workers:
            worker.stop()
    changes = distinct_changes(alerts)
    episodes = by_episode(changes)
    assert len(episodes) == len(patients), "one episode per patient, none fired twice"
    for episode_id, episode in episodes.items():
        patient = episode[0]["patient_id"]
        onset = "2026-11-21T06:00:00Z" if patient in patients[:30] else "2026-11-21T07:00:00Z"
        assert [(c["status"], c["observed_at"]) for c in episode] == [
            ("firing", onset),
            ("resolved", "2026-11-21T09:00:00Z"),
        ], episode_id
