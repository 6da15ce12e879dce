"""A patient's course: what happens to them during the simulated window, as curves and events.

The course is planned completely before a single sample is drawn — illness, treatment, the
nurses' responses — so that measurement (noise, cadence, artifacts) is a separate, pure step,
and the ground truth can be read off the measured data afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from simulator.curves import Curve

HOUR = 3600.0
DAY = 86_400.0
BOUT_CLEARANCE_S = 900.0  # no daily-life walk this close to a bout of exercise

STABLE = "stable"
CRS = "crs"
OTHER_DETERIORATION = "other_deterioration"


@dataclass
class Course:
    """Curves are changes from the patient's own baseline, in seconds since the window start.

    `fever` is the illness's fever in °C (never below 0 once evaluated; antipyretics are its
    negative ramps); the physiology derives the fever's heart and respiratory rate and
    vasodilation from it, so the three move together as they do at the bedside.
    """

    kind: str
    label: str
    planned_grade: int = 0
    therapy_at: float | None = None
    start: float | None = None
    end: float | None = None
    monitored_from: float = 0.0
    fever: Curve = field(default_factory=Curve)
    temperature: Curve = field(default_factory=Curve)
    heart_rate: Curve = field(default_factory=Curve)
    systolic: Curve = field(default_factory=Curve)
    spo2: Curve = field(default_factory=Curve)
    oxygen_boost: Curve = field(default_factory=Curve)
    respiratory_rate: Curve = field(default_factory=Curve)
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    consciousness: list[tuple[float, str]] = field(default_factory=list)
    escalated: list[tuple[float, float]] = field(default_factory=list)
    transfers: list[tuple[float, str]] = field(default_factory=list)  # (when, to which ward)
    # Bouts of exercise (walks, physiotherapy): (start, end of the effort, settled at rest).
    bouts: list[tuple[float, float, float]] = field(default_factory=list)
    # What the team does once it has seen the first febrile reading (e.g. paracetamol): called
    # with that reading's time, because a response cannot be planned before its trigger.
    after_first_fever: list[Callable[[float], None]] = field(default_factory=list)

    def event(self, at: float, type: str, **fields: Any) -> None:
        self.events.append((at, {"type": type, **fields}))

    def oxygen(self, at: float, device: str, flow: float | None, boost: float) -> None:
        """Start or change an oxygen device; `boost` is how many SpO2 points it adds (or, when
        negative, takes back on weaning)."""
        self.event(at, "oxygen", device=device, flow_l_min=flow)
        self.oxygen_boost.ramp(at, at + 600.0, boost)

    def finish(self, end: float) -> None:
        self.end = end if self.end is None else max(self.end, end)


def daily_life(
    course: Course, rng: np.random.Generator, begin: float, end: float, utc_offset_h: float, sleep_dips: bool
) -> None:
    """Walking to the bathroom and sleeping: stable physiology that is not deterioration.

    Short daytime bursts of heart and respiratory rate (mobilising), and at night brief SpO2
    dips in patients whose SpO2 has room for them; both are bounded so that a stable patient
    never reaches a NEWS2 single-parameter 3 (see docs/simulator.md). A walk that would fall
    within 15 minutes of a bout of exercise (`course.bouts`, planned first) is left out, so
    that their rises never add up; the draws are the same either way.
    """
    busy = [(start - BOUT_CLEARANCE_S, stop + BOUT_CLEARANCE_S) for start, _, stop in course.bouts]
    for day_start in np.arange(np.floor(begin / DAY) * DAY, end, DAY):
        local_midnight = day_start - utc_offset_h * HOUR
        free_from = begin
        for at in np.sort(local_midnight + rng.uniform(8, 21, rng.poisson(3.0)) * HOUR):
            if not free_from <= at < end:  # one walk at a time: rises never add up
                continue
            length = rng.uniform(5, 20) * 60
            free_from = at + length + 900
            rise = rng.uniform(15, 25)
            breaths = rng.uniform(2, 3)
            if any(at < stop and at + length + 300 > start for start, stop in busy):
                continue
            course.heart_rate.ramp(at, at + 120, rise).ramp(at + length, at + length + 300, -rise)
            course.respiratory_rate.ramp(at, at + 120, breaths).ramp(at + length, at + length + 300, -breaths)
        if sleep_dips:
            for _ in range(rng.integers(0, 3)):
                at = local_midnight + rng.uniform(0, 6) * HOUR
                if not begin <= at < end:
                    continue
                length, depth = rng.uniform(10, 30) * 60, rng.uniform(1.0, 1.5)
                course.spo2.ramp(at, at + 180, -depth).ramp(at + length, at + length + 180, depth)


def place_in_window(rng: np.random.Generator, window_s: float) -> float:
    """When in the window an illness starts: late enough for a baseline before it, early
    enough that its first day is seen."""
    earliest = min(6 * HOUR, window_s / 4)
    latest = max(window_s - 12 * HOUR, window_s / 2)
    return float(rng.uniform(earliest, latest))


def lognormal(rng: np.random.Generator, median: float, sigma: float, low: float, high: float) -> float:
    """A skewed duration with its median where the literature puts it, cut to its range."""
    return float(np.clip(median * np.exp(rng.normal(0.0, sigma)), low, high))


@dataclass(frozen=True)
class Exertion:
    """The shape of one busy patient's bouts of exercise (SimulationSettings.busy_*)."""

    bouts_per_day: int
    bout_min: tuple[float, float]
    ramp_min: tuple[float, float]
    settle_min: tuple[float, float]
    heart_rate_rise: tuple[float, float]
    breaths_rise: float


def exercise(
    course: Course,
    rng: np.random.Generator,
    shape: Exertion,
    allowed: list[tuple[float, float]],
    utc_offset_h: float,
    heart_rate_room: float,
    breaths_room: float,
) -> None:
    """Walks or physiotherapy (CLINICAL.md, exertion): heart and respiratory rate rise over a
    few minutes, hold for the bout, and settle within 10–30 minutes of rest; temperature,
    pressure and SpO2 are left alone.

    One bout in each equal slot of 08:00–20:00 local time, placed so that it and its settling
    fit in the slot (bouts never overlap); a bout that would not lie wholly inside one of the
    `allowed` intervals (monitored, not ill) is left out. The rises are cut to `heart_rate_room`
    and `breaths_room`, the largest rises that keep every reading of this patient below a NEWS2
    single-parameter 3 (a stable patient stays stable, docs/simulator.md).
    """
    if shape.bouts_per_day < 1 or not allowed:
        return
    first, last = min(a for a, _ in allowed), max(b for _, b in allowed)
    slot = 12 * HOUR / shape.bouts_per_day
    for day_start in np.arange(np.floor(first / DAY) * DAY - DAY, last + DAY, DAY):
        morning = day_start - utc_offset_h * HOUR + 8 * HOUR
        for number in range(shape.bouts_per_day):
            length = rng.uniform(*shape.bout_min) * 60
            ramp = rng.uniform(*shape.ramp_min) * 60
            settle = rng.uniform(*shape.settle_min) * 60
            rise = min(rng.uniform(*shape.heart_rate_rise), heart_rate_room)
            breaths = min(shape.breaths_rise, breaths_room)
            slot_start = morning + number * slot
            at = slot_start + rng.uniform(0.0, max(slot - length - settle, 0.0))
            settled = at + length + settle
            if not any(a <= at and settled <= b for a, b in allowed):
                continue
            ramp = min(ramp, length)
            course.heart_rate.ramp(at, at + ramp, rise).ramp(at + length, settled, -rise)
            course.respiratory_rate.ramp(at, at + ramp, breaths).ramp(at + length, settled, -breaths)
            course.bouts.append((float(at), float(at + length), float(settled)))
