"""Deterioration that is not CRS: the ward's everyday emergencies, which NEWS2 exists for.

Two shapes: sepsis-like (fever or hypothermia, tachycardia, tachypnoea, falling pressure,
sometimes new confusion) and respiratory (tachypnoea and falling SpO2 with little fever). Some
happen after a CAR-T infusion — neutropenic sepsis is the classic mimic of CRS, and an alert for
it is a true alert whatever rule raises it.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from simulator.course import DAY, HOUR, OTHER_DETERIORATION, Course, place_in_window
from simulator.crs import fever_knots
from simulator.physiology import Baseline, draw_baseline

SEPSIS_SHARE = 0.6
SCALE2_SHARE_OF_RESPIRATORY = 0.3  # hypercapnic patients, on NEWS2 SpO2 scale 2


def _oxygen_when_low(
    rng: np.random.Generator,
    course: Course,
    baseline: Baseline,
    start: float,
    worst_at: float,
    fall: float,
    trigger: float,
) -> bool:
    """A nurse starts low-flow oxygen 15–45 min after SpO2 passes `trigger`; returns whether."""
    if baseline.spo2 - fall > trigger:
        return False
    crossing = start + (worst_at - start) * (baseline.spo2 - trigger) / fall
    course.oxygen(
        crossing + rng.uniform(0.25, 0.75) * HOUR,
        "nasal_cannula",
        float(round(rng.uniform(1.0, 3.0))),
        rng.uniform(3.0, 4.0),
    )
    return True


def _recover(rng: np.random.Generator, course: Course, begin: float, length: float, oxygen: bool) -> None:
    for curve in (course.systolic, course.spo2, course.heart_rate, course.respiratory_rate, course.temperature):
        curve.settle(begin, begin + length)
    if oxygen:
        course.oxygen(begin + 0.7 * length, "room_air", None, -course.oxygen_boost.at(begin))
    if course.consciousness:
        course.consciousness.append((begin + 0.3 * length, "A"))
    course.finish(begin + length)


def plan_sepsis(rng: np.random.Generator, course: Course, baseline: Baseline, start: float) -> None:
    worst_at = start + rng.uniform(6.0, 18.0) * HOUR
    recovery = worst_at + rng.uniform(4.0, 18.0) * HOUR
    if rng.random() < 0.8:
        times, values = fever_knots(rng, start, recovery + 2 * HOUR - start, baseline.temperature, (38.3, 39.5))
        course.fever.path(times, values)
    else:
        course.temperature.ramp(start, worst_at, -rng.uniform(1.0, 1.6))
    course.heart_rate.ramp(start, worst_at, rng.uniform(15.0, 25.0))
    course.respiratory_rate.ramp(start, worst_at, rng.uniform(5.0, 9.0))
    course.systolic.ramp(start, worst_at, -rng.uniform(20.0, 35.0))
    fall = rng.uniform(2.0, 4.0)
    course.spo2.ramp(start, worst_at, -fall)
    if rng.random() < 0.3:
        course.consciousness.append((worst_at - rng.uniform(0.0, 2.0) * HOUR, "C"))
    oxygen = _oxygen_when_low(rng, course, baseline, start, worst_at, fall, 93.5)
    _recover(rng, course, recovery, rng.uniform(18.0, 36.0) * HOUR, oxygen)


def plan_respiratory(rng: np.random.Generator, course: Course, baseline: Baseline, start: float) -> None:
    worst_at = start + rng.uniform(8.0, 24.0) * HOUR
    fall = rng.uniform(6.0, 10.0)
    course.spo2.ramp(start, worst_at, -fall)
    course.respiratory_rate.ramp(start, worst_at, rng.uniform(7.0, 12.0))
    course.heart_rate.ramp(start, worst_at, rng.uniform(8.0, 15.0))
    course.temperature.ramp(start, worst_at, rng.uniform(0.2, 0.6))
    trigger = 87.5 if baseline.spo2_scale == 2 else 93.5
    oxygen = _oxygen_when_low(rng, course, baseline, start, worst_at, fall, trigger)
    if oxygen and fall > 8.0:
        device = "venturi" if baseline.spo2_scale == 2 else "face_mask"
        course.oxygen(worst_at, device, float(round(rng.uniform(8.0, 10.0))), rng.uniform(2.0, 3.0))
    _recover(rng, course, worst_at + rng.uniform(6.0, 24.0) * HOUR, rng.uniform(24.0, 48.0) * HOUR, oxygen)


def plan_other_deterioration(rng: np.random.Generator, window_s: float, post_therapy: bool) -> tuple[Baseline, Course]:
    """One non-CRS deterioration starting inside the window, and the patient it happens to."""
    sepsis = rng.random() < SEPSIS_SHARE
    baseline = draw_baseline(rng, scale2=not sepsis and rng.random() < SCALE2_SHARE_OF_RESPIRATORY)
    start = place_in_window(rng, window_s)
    course = Course(OTHER_DETERIORATION, "sepsis-like" if sepsis else "respiratory", start=start)
    if post_therapy:
        course.therapy_at = start - rng.uniform(2.0, 10.0) * DAY
        course.event(course.therapy_at, "therapy", therapy="car-t")
    (plan_sepsis if sepsis else plan_respiratory)(rng, course, baseline, start)
    # Each plan finishes the course, which sets its end.
    course.escalated.append((start + rng.uniform(2.0, 6.0) * HOUR, cast(float, course.end)))
    return baseline, course
