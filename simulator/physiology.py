"""A patient's vital signs as functions of time: own baseline, circadian rhythm, slow wandering,
and the course's illness, coupled the way the body couples them.

The couplings are why a simulated CRS looks like CRS rather than five independent curves: fever
raises the heart rate by about 10/min per °C (Liebermeister's rule) and the respiratory rate,
and dilates vessels; a falling pressure raises the heart rate (baroreflex); a falling SpO2
raises the respiratory and heart rate (hypoxic drive). Magnitudes are documented judgements
(docs/simulator.md), not fitted to data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.course import HOUR, Course
from simulator.curves import Curve, bounded_normal, slow_variation

# Circadian rhythm: (amplitude, local hour of the peak). Heart rate and pressure are lowest
# around 04:00 (nocturnal dipping ≈ 10 % of systolic), core temperature peaks in the early
# evening and is lowest before dawn (±0.3 °C).
CIRCADIAN = {
    "heart_rate": (4.0, 16.0),
    "systolic": (6.0, 15.0),
    "temperature": (0.3, 18.0),
    "respiratory_rate": (0.8, 15.0),
    "spo2": (0.4, 14.0),
}
LIEBERMEISTER_PER_C = 10.0  # heart rate /min per °C of fever
FEVER_BREATHS_PER_C = 2.5  # respiratory rate /min per °C of fever
FEVER_VASODILATION_PER_C = 3.0  # systolic mmHg lost per °C of fever
BAROREFLEX_PER_MMHG = 0.7  # heart rate /min gained per mmHg of systolic lost
HYPOXIC_BREATHS_PER_POINT = 0.8  # respiratory rate /min per SpO2 point lost
HYPOXIC_BEATS_PER_POINT = 1.0  # heart rate /min per SpO2 point lost

NON_FEBRILE_MAX_CELSIUS = 37.8  # a patient without a fever course never reads ≥ 38.0
PLAUSIBLE = {  # what a living ward patient can show; clamps the sums of many ramps
    "heart_rate": (30.0, 200.0),
    "systolic": (50.0, 220.0),
    "spo2": (60.0, 100.0),
    "respiratory_rate": (5.0, 50.0),
    "temperature": (34.0, 41.5),
}
# Measurement noise (σ) of one reading, and of the slow wandering of the patient's own level.
READING_SIGMA = {
    "heart_rate": 1.5,
    "systolic": 4.0,
    "diastolic": 2.5,
    "spo2": 0.5,
    "respiratory_rate": 0.8,
    "temperature": 0.08,
}
WANDERING_SIGMA = {"heart_rate": 2.0, "systolic": 1.5, "spo2": 0.3, "respiratory_rate": 0.5, "temperature": 0.1}


@dataclass(frozen=True)
class Baseline:
    """A patient's own resting values at the circadian mean."""

    heart_rate: float
    systolic: float
    diastolic_ratio: float
    spo2: float
    respiratory_rate: float
    temperature: float
    spo2_scale: int = 1

    @property
    def sleep_dips(self) -> bool:
        return self.spo2_scale == 1 and self.spo2 >= 97.5


def draw_baseline(rng: np.random.Generator, *, scale2: bool = False) -> Baseline:
    """Resting values of an adult haematology ward patient, chosen inside NEWS2's 0 bands with
    room for noise and daily life, so that being stable reads as stable."""
    return Baseline(
        heart_rate=float(rng.uniform(60, 90)),
        systolic=float(rng.uniform(115, 148)),
        diastolic_ratio=float(rng.uniform(0.6, 0.68)),
        spo2=float(rng.uniform(89, 91.5) if scale2 else rng.uniform(96, 99)),
        respiratory_rate=float(rng.uniform(13, 17)),
        temperature=float(rng.uniform(36.4, 37.1)),
        spo2_scale=2 if scale2 else 1,
    )


class Physiology:
    """The underlying (noise-free) vital signs of one patient at any times, in seconds."""

    def __init__(
        self,
        baseline: Baseline,
        course: Course,
        rng: np.random.Generator,
        begin: float,
        end: float,
        utc_offset_h: float,
    ) -> None:
        self.baseline = baseline
        self.course = course
        self._offset_s = utc_offset_h * HOUR
        self._wandering: dict[str, Curve] = {
            name: slow_variation(rng, begin, end, sigma) for name, sigma in WANDERING_SIGMA.items()
        }

    def _own(self, name: str, times: np.ndarray) -> np.ndarray:
        amplitude, peak_hour = CIRCADIAN[name]
        local_hours = (times + self._offset_s) / HOUR
        rhythm = amplitude * np.cos(2 * np.pi * (local_hours - peak_hour) / 24.0)
        return getattr(self.baseline, name) + rhythm + self._wandering[name](times)

    def fever(self, times: np.ndarray) -> np.ndarray:
        return np.maximum(self.course.fever(times), 0.0)

    def _pressure_lost(self, times: np.ndarray, fever: np.ndarray) -> np.ndarray:
        return np.maximum(FEVER_VASODILATION_PER_C * fever - self.course.systolic(times), 0.0)

    def _spo2_lost(self, times: np.ndarray) -> np.ndarray:
        return np.maximum(-self.course.spo2(times), 0.0)

    def temperature(self, times: np.ndarray) -> np.ndarray:
        fever = self.fever(times)
        value = self._own("temperature", times) + fever + self.course.temperature(times)
        return np.clip(value, *PLAUSIBLE["temperature"])

    def cap_afebrile(self, times: np.ndarray, readings: np.ndarray) -> np.ndarray:
        """Readings of a patient without fever stay below 38.0 °C: in a risk-period patient a
        single 38.0 is CRS grade 1 by definition, so noise must not invent one."""
        return np.where(self.fever(times) > 0, readings, np.minimum(readings, NON_FEBRILE_MAX_CELSIUS))

    def systolic(self, times: np.ndarray) -> np.ndarray:
        fever = self.fever(times)
        value = self._own("systolic", times) + self.course.systolic(times)
        return np.clip(value - FEVER_VASODILATION_PER_C * fever, *PLAUSIBLE["systolic"])

    def heart_rate(self, times: np.ndarray) -> np.ndarray:
        fever = self.fever(times)
        value = (
            self._own("heart_rate", times)
            + self.course.heart_rate(times)
            + LIEBERMEISTER_PER_C * fever
            + BAROREFLEX_PER_MMHG * self._pressure_lost(times, fever)
            + HYPOXIC_BEATS_PER_POINT * self._spo2_lost(times)
        )
        return np.clip(value, *PLAUSIBLE["heart_rate"])

    def respiratory_rate(self, times: np.ndarray) -> np.ndarray:
        value = (
            self._own("respiratory_rate", times)
            + self.course.respiratory_rate(times)
            + FEVER_BREATHS_PER_C * self.fever(times)
            + HYPOXIC_BREATHS_PER_POINT * self._spo2_lost(times)
        )
        return np.clip(value, *PLAUSIBLE["respiratory_rate"])

    def spo2(self, times: np.ndarray) -> np.ndarray:
        value = self._own("spo2", times) + self.course.spo2(times) + self.course.oxygen_boost(times)
        return np.clip(value, *PLAUSIBLE["spo2"])


def read(rng: np.random.Generator, name: str, values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """What the device displays: the underlying value plus bounded noise, rounded as it shows it."""
    noisy = values + bounded_normal(rng, READING_SIGMA[name], len(values))
    if name == "spo2":
        noisy = np.minimum(noisy, 100.0)
    return np.round(noisy, decimals)


def mean_arterial(systolic: np.ndarray, diastolic: np.ndarray) -> np.ndarray:
    """MAP as a cuff reports it when it does not measure it: diastolic plus a third of the
    pulse pressure."""
    return np.round(diastolic + (systolic - diastolic) / 3.0)


def exertion_room(baseline: Baseline) -> tuple[float, float]:
    """The largest rises of heart rate and respiratory rate that keep every reading of this
    patient below NEWS2's single-parameter 3 (pulse ≥ 131, respiration ≥ 25), whatever the
    circadian rhythm, the wandering (cut at 2 σ) and the reading noise (cut at 2.5 σ) add."""

    def room(name: str, red: float) -> float:
        worst = CIRCADIAN[name][0] + 2.0 * WANDERING_SIGMA[name] + 2.5 * READING_SIGMA[name]
        return max(red - 0.75 - worst - getattr(baseline, name), 0.0)  # a reading rounds up at red − 0.5

    return room("heart_rate", 131.0), room("respiratory_rate", 25.0)
