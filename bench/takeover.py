"""Memory per patient, and how long a fresh worker takes over the patients of a killed one.

One worker (A) starts idle on topics of its own; its resident memory is read, it is given
`patients` patients and read again: the difference over the patients is the memory per patient
(engine state, the table's store, whatever the worker keeps per key). Then A is killed with
SIGKILL, a fresh worker (B) with an empty data directory joins the same consumer group, and a
new observation set arrives for every patient, two minutes of event time after their last one,
so that each is due a PatientStatus (the contract: at least one a minute while vitals flow).
B can say `crs.risk_period: true` in the status of a patient who had a therapy only if it
restored that patient's state from A's table changelog: the therapy event itself was consumed
and committed by A long before. So the clock stops when B has published such a status on every
partition: state restored and processing resumed. Time runs from the SIGKILL, because that is
when the ward lost its worker.
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
from bench.services import READY, Inputs, Process, run_topics, settings_for, start_worker, worker_environment
from streams.topic_setup import ensure_topics

MARKER_GAP_SECONDS = 120  # event time after each patient's last set: a status is due


@dataclass
class Takeover:
    patients: int
    idle_rss: int = 0
    loaded_rss: int = 0
    changelog_messages: int = 0
    markers: int = 0  # patients given a new set after the kill
    witnesses: int = 0  # of them, patients in their risk period (whose status shows a restore)
    partitions_with_markers: int = 0
    to_ready: float | None = None  # SIGKILL → B's Faust worker says Ready
    to_output: float | None = None  # SIGKILL → B published a status for new input on every partition
    to_restored: float | None = None  # SIGKILL → a status showing restored state on every partition
    to_all_markers: float | None = None  # SIGKILL → a status for every patient
    risk_period_lost: int = 0  # witnesses whose status said risk_period false: state not restored
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
    bootstrap: str,
    a: Process,
    env_b: dict[str, str],
    log_b: Path,
    ward: Ward,
    inputs: Inputs,
    status_topic: str,
    last_second: int,
    timeout: float,
    result: Takeover,
) -> Process:
    consumer = await reading_from_now(bootstrap, [status_topic])
    producer = new_producer(bootstrap, linger_ms=5)
    await producer.start()
    ts = timestamp(WINDOW_START + timedelta(seconds=last_second + MARKER_GAP_SECONDS))
    at = parse_moment(ts)
    witnesses = set(ward.ids[i] for i in ward.in_risk_period)
    try:
        a.kill()
        killed = time.monotonic()
        b = start_worker(env_b, log_b)
        pending = [
            (ward.ids[i], await producer.send(inputs.vitals, ward.observation(i, ts, False), key=ward.keys[i]))
            for i in range(ward.patients)
        ]
        markers = {patient_id: (await delivery).partition for patient_id, delivery in pending}
        partitions = set(markers.values())
        result.markers, result.witnesses, result.partitions_with_markers = len(markers), len(witnesses), len(partitions)
        output_on, restored_on, seen = set(), set(), set()
        while time.monotonic() - killed < timeout:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    status = orjson.loads(record.value)
                    patient_id = status.get("patient_id")
                    partition = markers.get(patient_id)
                    if partition is None or parse_moment(status["ts"]) != at or patient_id in seen:
                        continue
                    seen.add(patient_id)
                    output_on.add(partition)
                    if patient_id in witnesses:
                        if status["crs"]["risk_period"]:
                            restored_on.add(partition)
                        else:
                            result.risk_period_lost += 1
            if result.to_ready is None and READY in b.output():
                result.to_ready = now - killed
            if result.to_output is None and output_on >= partitions:
                result.to_output = now - killed
            if result.to_restored is None and restored_on >= partitions:
                result.to_restored = now - killed
            if len(seen) == len(markers):
                result.to_all_markers = now - killed
                break
            if not b.alive():
                break
        return b
    finally:
        await producer.stop()
        await consumer.stop()


def measure_takeover(
    bootstrap: str,
    workdir: Path,
    run: str,
    partitions: int,
    ward: Ward,
    sets_per_patient: int,
    state_wait: float,
    timeout: float,
    extra_env: dict[str, str],
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
        therapy = asyncio.run(produce_all(bootstrap, inputs.clinical_events, ward.clinical_events()))
        sets = asyncio.run(produce_all(bootstrap, inputs.vitals, ward.observation_sets(sets_per_patient)))
        total = therapy + sets
        follow(lambda: metric_total(a.port), total, max_seconds=float("inf"), alive=a.alive)
        time.sleep(1.0)
        result.loaded_rss = _steady_rss(a)
        wait_for_commits(bootstrap, app_id, inputs.names, total)
        result.changelog_messages = wait_for_changelog(bootstrap, app_id, ward.patients, state_wait)
        env_b = worker_environment(bootstrap, app_id, topics, partitions, workdir / f"{run}-b", extra_env)
        b = asyncio.run(
            _kill_and_take_over(
                bootstrap,
                a,
                env_b,
                workdir / f"{run}-b.log",
                ward,
                inputs,
                topics.patient_status,
                sets_per_patient - 1,
                timeout,
                result,
            )
        )
        result.restored_patients = metric_total(b.port, "crsmon_state_restores")
    finally:
        a.stop()
        if b is not None:
            b.stop()
    return result
