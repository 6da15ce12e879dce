"""A simulated ward: who lies in which bed, what happens to each, and every message in event time.

`Simulation.events()` is the one way out: a time-ordered iterator of contract models, merged
across patients with a heap so that only one chunk of numerics per patient is ever in memory.
A file writer, the cohort benchmark and a future "publish to Kafka at accelerated time" mode are
all consumers of that iterator; none of them needs to know how a patient is simulated.
"""

from __future__ import annotations

import heapq
from functools import cached_property
from typing import Any, Iterator

import numpy as np

from monitor.wire import InputEvent
from simulator.course import CRS, DAY, HOUR, OTHER_DETERIORATION, STABLE, Course
from simulator.crs import plan_crs
from simulator.deterioration import plan_other_deterioration
from simulator.patient import SimulatedPatient
from simulator.physiology import Baseline, draw_baseline
from simulator.settings import SimulationSettings
from simulator.truth import GroundTruth, ground_truth

_CENSUS_SEED = 0
_BUSY_SEED = 200_000  # [seed, 200000]: no patient's own stream ([seed, index ≤ 100000, …])


def _beds(settings: SimulationSettings, count: int) -> list[tuple[str, str]]:
    """Fill the wards bed by bed; a cohort larger than the wards opens more of the same."""
    places = []
    for index in range(count):
        ward_number, bed = divmod(index, settings.beds_per_ward)
        name = settings.wards[ward_number % len(settings.wards)]
        copy = ward_number // len(settings.wards)
        places.append((name if copy == 0 else f"{name}-{copy + 1}", str(bed + 1)))
    return places


def _kinds(settings: SimulationSettings, rng: np.random.Generator) -> list[str]:
    crs = int(round(settings.patients * settings.crs_share))
    other = min(int(round(settings.patients * settings.deterioration_share)), settings.patients - crs)
    kinds = [CRS] * crs + [OTHER_DETERIORATION] * other + [STABLE] * (settings.patients - crs - other)
    rng.shuffle(kinds)
    return kinds


def _busy(settings: SimulationSettings) -> set[int]:
    """Who walks or does physiotherapy: `busy_share` of the cohort, whatever their course, drawn
    from a stream of its own so that the rest of the ward does not change with it."""
    count = int(round(settings.patients * settings.busy_share))
    rng = np.random.default_rng([settings.seed, _BUSY_SEED])
    return {int(i) for i in rng.choice(settings.patients, size=count, replace=False)}


def _plan_stable(rng: np.random.Generator, settings: SimulationSettings) -> tuple[Baseline, Course]:
    """A patient who stays well: a ward patient, or one in the risk period who gets no CRS."""
    baseline = draw_baseline(rng, scale2=rng.random() < settings.scale2_share_of_stable)
    if rng.random() >= settings.post_therapy_share_of_stable:
        return baseline, Course(STABLE, "ward")
    therapy_at = rng.uniform(-10 * DAY, max(settings.window_s - 12 * HOUR, 0.0))
    course = Course(STABLE, "post-therapy", therapy_at=therapy_at, monitored_from=max(0.0, therapy_at - 2 * HOUR))
    course.event(therapy_at, "therapy", therapy=str(rng.choice(["car-t", "bispecific"])))
    return baseline, course


def _plan(kind: str, rng: np.random.Generator, settings: SimulationSettings) -> tuple[Baseline, Course]:
    if kind == CRS:
        names = list(settings.product_mix)
        weights = np.array([settings.product_mix[name] for name in names], float)
        product = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        return plan_crs(rng, product, settings.window_s, settings.antipyretic_share)
    if kind == OTHER_DETERIORATION:
        post_therapy = rng.random() < settings.post_therapy_share_of_deterioration
        return plan_other_deterioration(rng, settings.window_s, post_therapy)
    return _plan_stable(rng, settings)


class Simulation:
    """One ward, fully determined by its settings (the seed among them)."""

    def __init__(self, settings: SimulationSettings) -> None:
        self.settings = settings
        census = np.random.default_rng([settings.seed, _CENSUS_SEED])
        kinds = _kinds(settings, census)
        numbers = census.choice(900_000, size=settings.patients, replace=False) + 100_000
        busy = _busy(settings)
        self.patients: list[SimulatedPatient] = []
        for index, (kind, number, (ward, bed)) in enumerate(zip(kinds, numbers, _beds(settings, len(kinds)))):
            rng = np.random.default_rng([settings.seed, index, 0])
            baseline, course = _plan(kind, rng, settings)
            self.patients.append(
                SimulatedPatient(
                    settings, index, f"MRN-{int(number):06d}", ward, bed, baseline, course, rng, busy=index in busy
                )
            )

    def events(self) -> Iterator[InputEvent]:
        """Every message of the ward in event time (ties: by patient, then as each patient's
        sources produced them)."""
        start = self.settings.start
        streams = [_keyed(patient, start) for patient in self.patients]
        for *_, message in heapq.merge(*streams):
            yield message

    @cached_property
    def truths(self) -> list[GroundTruth]:
        return [ground_truth(patient, self.settings.start, self.settings.truth) for patient in self.patients]

    def truth_document(self) -> dict[str, Any]:
        """The ground truth as JSON, with the settings that reproduce it."""
        return {
            "settings": self.settings.model_dump(mode="json"),
            "patients": [truth.to_json() for truth in self.truths],
        }


def _keyed(patient: SimulatedPatient, start) -> Iterator[tuple[int, int, int, InputEvent]]:
    for sequence, (at, _, message) in enumerate(patient.records(start)):
        yield at, patient.index, sequence, message
