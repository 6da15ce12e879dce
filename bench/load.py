"""Input that looks like a ward: observation sets and therapy events for many patients.

Each patient has a baseline of their own and every set has noise around it, so the worker's
full job runs (decoding, validation, the engine, statuses, alerts), not a fast path for
identical messages. A share of patients had a CAR-T or bispecific therapy two days before the
window, which puts them in their CRS risk period, and some of those turn febrile: their sets
then raise alerts, as on a real ward.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np
import orjson
from aiokafka import AIOKafkaProducer

Message = tuple[bytes, bytes]  # (key, value)

WINDOW_START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
THERAPY_BEFORE_WINDOW = timedelta(days=2)  # inside the 14-day risk period
BEDS_PER_WARD = 30
#: A haematology ward's morning panel, with typical adult values (canonical units).
LAB_PANEL = {
    "creatinine": (0.9, "mg/dL"),
    "bilirubin": (0.8, "mg/dL"),
    "alt": (30.0, "U/L"),
    "ast": (28.0, "U/L"),
    "platelets": (180.0, "10^9/L"),
    "wbc": (6.5, "10^9/L"),
    "crp": (8.0, "mg/L"),
    "ferritin": (400.0, "ng/mL"),
}
FEVER_CELSIUS = 38.0  # the engine's default threshold (ASTCT 2019); sets stay clear of it


def timestamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds and a Z, as the contract asks of producers."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Ward:
    """`patients` beds; who had a therapy and who turns febrile is drawn once from `seed`."""

    patients: int
    therapy_share: float = 0.3
    febrile_share: float = 0.3  # of the patients with a therapy
    seed: int = 4
    prefix: str = "BENCH"
    #: Lab panels per patient before the window, 6 h apart (issue 20: a panel per patient per
    #: 6 h beside 1 Hz vitals), so every patient's state carries a lab history while measured.
    lab_panels: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = self._rng = np.random.default_rng(self.seed)
        n = self.patients
        self.ids = [f"{self.prefix}-{i:06d}" for i in range(n)]
        self.keys = [pid.encode() for pid in self.ids]
        self.heart_rate = rng.uniform(60, 100, n).tolist()
        self.systolic = rng.uniform(100, 140, n).tolist()
        self.diastolic = rng.uniform(60, 85, n).tolist()
        self.temperature = rng.uniform(36.3, 37.3, n).tolist()
        self.fever_peak = rng.uniform(38.4, 39.6, n).tolist()
        self.spo2 = rng.uniform(94, 99, n).tolist()
        self.respiratory_rate = rng.uniform(12, 20, n).tolist()
        self.had_therapy = rng.random(n) < self.therapy_share
        self.turns_febrile = self.had_therapy & (rng.random(n) < self.febrile_share)

    @property
    def in_risk_period(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.had_therapy)]

    def therapy_events(self, window_start: datetime = WINDOW_START) -> Iterator[Message]:
        """One `therapy` ClinicalEvent per treated patient, two days before the window starts."""
        at = timestamp(window_start - THERAPY_BEFORE_WINDOW)
        for i in self.in_risk_period:
            therapy = "car-t" if i % 3 else "bispecific"
            yield (
                self.keys[i],
                orjson.dumps({"patient_id": self.ids[i], "ts": at, "type": "therapy", "therapy": therapy}),
            )

    def clinical_events(self, window_start: datetime = WINDOW_START) -> Iterator[Message]:
        """The therapy events, then every patient's lab panels (`lab_panels`), oldest first."""
        yield from self.therapy_events(window_start)
        yield from self.lab_events(window_start)

    def lab_events(self, window_start: datetime = WINDOW_START) -> Iterator[Message]:
        """`lab_panels` panels of eight tests per patient, 6 h apart, the last 10 minutes
        before the window; each patient's values drawn around a normal of their own."""
        rng = np.random.default_rng(self.seed + 1)
        for panel in range(self.lab_panels, 0, -1):
            at = timestamp(window_start - timedelta(minutes=10) - timedelta(hours=6) * (panel - 1))
            noise = rng.uniform(0.85, 1.2, (self.patients, len(LAB_PANEL))).tolist()
            for i in range(self.patients):
                for (test, (typical, unit)), factor in zip(LAB_PANEL.items(), noise[i]):
                    yield (
                        self.keys[i],
                        orjson.dumps(
                            {
                                "patient_id": self.ids[i],
                                "ts": at,
                                "type": "lab",
                                "test": test,
                                "value": round(typical * factor, 2),
                                "unit": unit,
                            }
                        ),
                    )

    def observation(self, i: int, ts: str, febrile: bool, noise: list[float] | None = None) -> bytes:
        """One VitalSigns set of patient `i` at time `ts`; `noise` is 7 standard normal draws."""
        if noise is None:
            noise = self._rng.standard_normal(7).tolist()
        if febrile:  # fever brings a faster heart and breathing with it
            temperature = max(FEVER_CELSIUS + 0.2, self.fever_peak[i] + 0.15 * noise[3])
            heart_rate = self.heart_rate[i] + 15 + 3 * noise[0]
            respiratory_rate = self.respiratory_rate[i] + 3 + noise[5]
        else:
            temperature = min(FEVER_CELSIUS - 0.3, self.temperature[i] + 0.1 * noise[3])
            heart_rate = self.heart_rate[i] + 3 * noise[0]
            respiratory_rate = self.respiratory_rate[i] + noise[5]
        systolic = round(self.systolic[i] + 4 * noise[1])
        diastolic = round(self.diastolic[i] + 3 * noise[2])
        return orjson.dumps(
            {
                "patient_id": self.ids[i],
                "ts": ts,
                "ward": f"W{i // BEDS_PER_WARD:04d}",
                "bed": str(i % BEDS_PER_WARD + 1),
                "source": "bench-gateway",
                "heart_rate": round(heart_rate),
                "systolic_bp": systolic,
                "diastolic_bp": diastolic,
                "mean_arterial_pressure": round((systolic + 2 * diastolic) / 3),
                "temperature": round(temperature, 1),
                "spo2": min(100, round(self.spo2[i] + noise[4])),
                "respiratory_rate": round(respiratory_rate),
                "on_oxygen": False,
                "consciousness": "A",
            }
        )

    def observation_sets(self, seconds: int) -> Iterator[Message]:
        """Every patient once a second for `seconds`, in time order, as a gateway sends them.

        A patient who turns febrile does so at a drawn second and stays febrile, so each of
        them opens one episode.
        """
        onset = self._rng.integers(0, max(1, seconds), self.patients)
        for second in range(seconds):
            ts = timestamp(WINDOW_START + timedelta(seconds=second))
            febrile = (self.turns_febrile & (onset <= second)).tolist()
            noise = self._rng.standard_normal((self.patients, 7)).tolist()
            for i in range(self.patients):
                yield self.keys[i], self.observation(i, ts, febrile[i], noise[i])


def new_producer(bootstrap: str, **options) -> AIOKafkaProducer:
    """The producer a gateway would use; keyed messages go through Kafka's default partitioner."""
    settings = dict(bootstrap_servers=bootstrap, acks=1, linger_ms=5, max_batch_size=262144)
    settings.update(options)
    return AIOKafkaProducer(**settings)


async def produce_all(bootstrap: str, topic: str, messages: Iterable[Message], chunk: int = 20000) -> int:
    """Send everything in large batches and wait for the broker's acknowledgements."""
    producer = new_producer(bootstrap, linger_ms=50)
    await producer.start()
    sent = 0
    try:
        pending = []
        for key, value in messages:
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) >= chunk:
                await asyncio.gather(*pending)
                sent += len(pending)
                pending.clear()
        await asyncio.gather(*pending)
        sent += len(pending)
    finally:
        await producer.stop()
    return sent
