"""Memory per patient, and how long a fresh worker takes over the patients of a killed one.

One worker (A) starts idle on topics of its own; its resident memory is read, it is given
`patients` patients and read again: the difference over the patients is the memory per patient
(engine state, the table's store, whatever the worker keeps per key). Then A is killed with
SIGKILL, a fresh worker (B) with an empty data directory joins the same consumer group, and new
observation sets arrive: a febrile set for every patient in the CRS risk period who had no fever
yet. B can alert on them only if it restored their therapy from A's table changelog, so the
clock stops when B has published such an alert on every partition: state restored and
processing resumed. Time runs from the SIGKILL, because that is when the ward lost its worker.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
from kafka import KafkaAdminClient

from bench.load import WINDOW_START, Ward, new_producer, produce_all, timestamp
from bench.outputs import parse_moment, reading_from_now
from bench.progress import end_offsets, follow, metric_total, wait_for_commits
from bench.services import READY, Process, Inputs, run_topics, settings_for, start_worker, worker_environment
from streams.topic_setup import ensure_topics


@dataclass
class Takeover:
    patients: int
    idle_rss: int = 0
    loaded_rss: int = 0
    changelog_messages: int = 0
    markers: int = 0
    partitions_with_markers: int = 0
    to_ready: float | None = None  # SIGKILL → B's Faust worker says Ready
    to_output: float | None = None  # SIGKILL → B published output for new input on every partition
    to_restored: float | None = None  # SIGKILL → an alert that needs restored state, every partition
    to_all_markers: float | None = None  # SIGKILL → an alert for every marker patient
    restored_patients: float | None = None  # B's crsmon_state_restores_total

    @property
    def bytes_per_patient(self) -> float:
        return (self.loaded_rss - self.idle_rss) / self.patients


def _steady_rss(process: Process, samples: int = 5, every: float = 0.3) -> int:
    readings = []
    for _ in range(samples):
        readings.append(process.rss_bytes())
        time.sleep(every)
    return int(statistics.median(readings))


def changelog_topics(bootstrap: str, app_id: str) -> list[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        return [t for t in admin.list_topics() if t.startswith(f"{app_id}-") and t.endswith("-changelog")]
    finally:
        admin.close()


def wait_for_changelog(bootstrap: str, app_id: str, patients: int, timeout: float) -> int:
    """Messages in the app's changelog topics once every patient could be in them, or after
    `timeout` (the worker writes unchanged patients only on its checkpoint cadence)."""
    deadline = time.monotonic() + timeout
    while True:
        written = end_offsets(bootstrap, changelog_topics(bootstrap, app_id))
        if written >= patients or time.monotonic() > deadline:
            return written
        time.sleep(1.0)


async def _kill_and_take_over(
    bootstrap: str, a: Process, env_b: dict[str, str], log_b: Path, ward: Ward, inputs: Inputs,
    outputs: tuple[str, str], marker_second: int, timeout: float, result: Takeover,
) -> Process:
    status_topic, alerts_topic = outputs
    consumer = await reading_from_now(bootstrap, [status_topic, alerts_topic])
    producer = new_producer(bootstrap, linger_ms=5)
    await producer.start()
    ts = timestamp(WINDOW_START + timedelta(seconds=marker_second))
    at = parse_moment(ts)
    try:
        a.kill()
        killed = time.monotonic()
        b = start_worker(env_b, log_b)
        markers = {}
        pending = [(ward.ids[i], await producer.send(inputs.vitals, ward.observation(i, ts, True), key=ward.keys[i]))
                   for i in ward.afebrile_in_risk_period]
        for patient_id, delivery in pending:
            markers[patient_id] = (await delivery).partition
        result.markers = len(markers)
        partitions = set(markers.values())
        result.partitions_with_markers = len(partitions)
        output_on, restored_on, alerted = set(), set(), set()
        while time.monotonic() - killed < timeout:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for tp, records in batches.items():
                for record in records:
                    body = orjson.loads(record.value)
                    partition = markers.get(body.get("patient_id"))
                    if partition is None:
                        continue
                    caused_at = body.get("observed_at") if tp.topic == alerts_topic else body.get("ts")
                    if caused_at is None or parse_moment(caused_at) != at:
                        continue
                    output_on.add(partition)
                    if tp.topic == alerts_topic and body.get("status") == "firing":
                        restored_on.add(partition)
                        alerted.add(body["patient_id"])
            if result.to_ready is None and READY in b.output():
                result.to_ready = now - killed
            if result.to_output is None and output_on >= partitions:
                result.to_output = now - killed
            if result.to_restored is None and restored_on >= partitions:
                result.to_restored = now - killed
            if len(alerted) == len(markers):
                result.to_all_markers = now - killed
                break
            if not b.alive():
                break
        return b
    finally:
        await producer.stop()
        await consumer.stop()


def measure_takeover(
    bootstrap: str, workdir: Path, run: str, partitions: int, ward: Ward, sets_per_patient: int,
    state_wait: float, timeout: float, extra_env: dict[str, str],
) -> Takeover:
    result = Takeover(patients=ward.patients)
    inputs = Inputs.named(run)
    topics = run_topics(inputs, run)
    ensure_topics(settings_for(bootstrap, topics, partitions))
    app_id = f"bench-{run}"
    env_a = worker_environment(bootstrap, app_id, topics, partitions, workdir / f"{run}-a", extra_env)
    a = start_worker(env_a, workdir / f"{run}-a.log")
    b = None
    try:
        a.wait_until_ready()
        time.sleep(2.0)
        result.idle_rss = _steady_rss(a)
        therapy = asyncio.run(produce_all(bootstrap, inputs.clinical_events, ward.therapy_events()))
        sets = asyncio.run(produce_all(bootstrap, inputs.vitals, ward.observation_sets(sets_per_patient)))
        total = therapy + sets
        follow(lambda: metric_total(a.port), total, max_seconds=float("inf"), alive=a.alive)
        time.sleep(1.0)
        result.loaded_rss = _steady_rss(a)
        wait_for_commits(bootstrap, app_id, inputs.names, total)
        result.changelog_messages = wait_for_changelog(bootstrap, app_id, ward.patients, state_wait)
        env_b = worker_environment(bootstrap, app_id, topics, partitions, workdir / f"{run}-b", extra_env)
        b = asyncio.run(_kill_and_take_over(
            bootstrap, a, env_b, workdir / f"{run}-b.log", ward, inputs,
            (topics.patient_status, topics.alerts), sets_per_patient, timeout, result,
        ))
        result.restored_patients = metric_total(b.port, "crsmon_state_restores")
    finally:
        a.stop()
        if b is not None:
            b.stop()
    return result
