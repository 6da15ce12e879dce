"""Produce → alert latency on a ward that runs at a steady rate, in real time.

Each patient sends one observation set a second, stamped with the wall clock, so the engine
sees live data, not a backlog. Patients in their CRS risk period who are prone to fever turn
febrile once, at a moment drawn over the run, and stay febrile: each of them opens a CRS
episode (ASTCT counts a fever in the risk period at once), and the alert's `observed_at` names
the set that caused it. Latency is the time the alert was read from the alerts topic minus the
time that set was handed to the producer, both on this process's clock: everything a hospital
would see (producer, broker, worker, broker, consumer).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import numpy as np
import orjson

from bench.load import Ward, new_producer, timestamp
from bench.outputs import parse_moment, reading_from_now

TICK = 0.01  # s between bursts of the steady producer


@dataclass
class Latencies:
    rate_wanted: float
    patients: int
    produced: int = 0
    produce_seconds: float = 0.0
    alerts_read: int = 0  # every alert read, warm-up included
    alerts_emitted: float | None = None  # what the worker says it published (its /metrics)
    unmatched: int = 0  # alerts whose cause was not found among the sets sent
    worker_cpu_seconds: float | None = None  # while the producer ran
    samples_ms: list[float] = field(default_factory=list)
    to_emitted_ms: list[float] = field(default_factory=list)  # produce → the worker's emitted_at

    @property
    def rate_achieved(self) -> float:
        return self.produced / self.produce_seconds if self.produce_seconds else 0.0

    @property
    def worker_cores(self) -> float | None:
        """How many cores the worker kept busy: near what it could get means it was saturated."""
        if self.worker_cpu_seconds is None or not self.produce_seconds:
            return None
        return self.worker_cpu_seconds / self.produce_seconds

    def percentile(self, q: float, samples: list[float] | None = None) -> float | None:
        samples = self.samples_ms if samples is None else samples
        return float(np.percentile(samples, q)) if samples else None


class FeverOnsets:
    """Who turns febrile when: some patients in their risk period, once, spread over the run
    after the warm-up, so that episodes open at a steady pace while the latency is counted."""

    def __init__(self, ward: Ward, share: float, begin: float, end: float, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        prone = ward.had_therapy & (rng.random(ward.patients) < share)
        onset = rng.uniform(begin, max(begin, end), ward.patients)
        self.onset = np.where(prone, onset, np.inf).tolist()

    def febrile(self, i: int, elapsed: float) -> bool:
        return elapsed >= self.onset[i]


async def measure_latency(
    bootstrap: str,
    vitals_topic: str,
    alerts_topic: str,
    ward: Ward,
    febrile_share: float,
    rate: float,
    seconds: float,
    warmup: float,
    caught_up: Callable[[int], bool],
    cpu_seconds: Callable[[], float | None],
    drain: float = 10.0,
) -> Latencies:
    """Send `rate` sets/s from `ward.patients` patients for `seconds`; match the alerts.

    Alerts caused by sets sent in the first `warmup` seconds are not counted (the worker's
    code paths and the producer's connections are still warming up). After the last set,
    alerts are read until a second after `caught_up(sets sent)` says the worker consumed
    them all, or until none came for `drain` seconds. `cpu_seconds()` is the worker's CPU time,
    read as the producer starts and stops.
    """
    result = Latencies(rate_wanted=rate, patients=ward.patients)
    onsets = FeverOnsets(ward, febrile_share, warmup, seconds - 1.0)
    sent: dict[tuple[str, datetime], float] = {}
    counted_from: list[float] = []  # wall time after which causes count (set when known)
    consumer = await reading_from_now(bootstrap, [alerts_topic])
    stop_reading = asyncio.Event()

    async def read_alerts() -> None:
        quiet_since = finished_at = None
        checked = 0.0
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            received = time.time()
            for records in batches.values():
                result.alerts_read += len(records)
                for record in records:
                    alert = orjson.loads(record.value)
                    cause = sent.get((alert["patient_id"], parse_moment(alert["observed_at"])))
                    if cause is None:
                        result.unmatched += 1
                    elif cause >= counted_from[0]:
                        result.samples_ms.append((received - cause) * 1000.0)
                        emitted = parse_moment(alert["emitted_at"]).timestamp()
                        result.to_emitted_ms.append((emitted - cause) * 1000.0)
            if stop_reading.is_set():
                now = time.monotonic()
                if finished_at is None and now - checked > 0.5:
                    checked = now
                    if await asyncio.to_thread(caught_up, result.produced):
                        finished_at = now
                if finished_at is not None and now - finished_at > 1.0:
                    return
                if batches:
                    quiet_since = None
                elif quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > drain:
                    return

    producer = new_producer(bootstrap, linger_ms=0, max_batch_size=16384)
    await producer.start()
    reader = asyncio.create_task(read_alerts())
    try:
        cpu_before = cpu_seconds()
        began_wall, began = time.time(), time.monotonic()
        counted_from.append(began_wall + warmup)
        pending = []
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(rate * elapsed)
            if due > result.produced:
                while result.produced < due:
                    i = result.produced % ward.patients
                    febrile = onsets.febrile(i, elapsed)
                    moment = datetime.now(timezone.utc)
                    ts = timestamp(moment)
                    sent[(ward.ids[i], parse_moment(ts))] = time.time()
                    pending.append(
                        await producer.send(vitals_topic, ward.observation(i, ts, febrile), key=ward.keys[i])
                    )
                    result.produced += 1
                if len(pending) > 5000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.sleep(TICK)
        await asyncio.gather(*pending)
        result.produce_seconds = time.monotonic() - began
        cpu_after = cpu_seconds()
        if cpu_before is not None and cpu_after is not None:
            result.worker_cpu_seconds = cpu_after - cpu_before
        stop_reading.set()
        await asyncio.wait([reader], timeout=max(60.0, seconds))  # then whatever arrived counts
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    return result
