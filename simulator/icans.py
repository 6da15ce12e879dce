"""ICANS courses and the bedside neurological assessments that chart them (issue 21, outcome 6).

Why a module of its own: neurotoxicity is graded beside CRS, never folded into it
(CLINICAL.md, "Neurotoxicity: ICANS"), starts later (days 3–8 after the therapy here) and can
come without CRS or after it has resolved. It is drawn from a random stream of its own, so
that the vital signs and CRS course of every patient stay as they were.

The course: the ICE score falls with the writing item first (handwriting changes first,
CARTOX, Neelapu 2018), then attention, orientation and naming; drowsiness comes near the worst;
grade >= 3 in a minority; a corticosteroid for grade >= 2 brings it back over days, grade 1
resolves by itself. Assessments are charted every 8–12 h, as wards chart them; a patient
without ICANS scores ICE 10 and is alert. The truth grades each assessment by the published
table from what was charted (simulator/organ_truth.py), not from this plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.course import CRS, DAY, HOUR, Course

#: The order in which ICE points are lost (and regained in reverse): writing first.
LOSS_ORDER = (
    "writing",
    "attention",
    "orientation",
    "orientation",
    "naming",
    "orientation",
    "commands",
    "naming",
    "orientation",
    "naming",
)
FULL_ITEMS = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}
#: Peak points lost by planned grade: ICE 7–9, 3–6, 0–2, and 0 (then unarousable).
PEAK_LOSS = {1: (1, 3), 2: (4, 7), 3: (8, 10), 4: (10, 10)}
#: Depressed consciousness at the worst (ASTCT 2019), charted in half the courses of grades 1–3.
PEAK_AROUSAL = {1: "spontaneous", 2: "voice", 3: "touch", 4: "unarousable"}
NEAR_PEAK = 0.75  # share of the peak loss from which drowsiness and seizures are charted


def ice_items(loss: int) -> dict[str, int]:
    """The five ICE tasks after losing `loss` points in LOSS_ORDER."""
    items = dict(FULL_ITEMS)
    for item in LOSS_ORDER[:loss]:
        items[item] -= 1
    return items


@dataclass
class IcansPlan:
    """One patient's neurological course and assessments; `grade` 0 means no ICANS."""

    grade: int = 0
    onset: float | None = None
    steroid_at: float | None = None
    assessments: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    medications: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    knots: tuple[list[float], list[float]] = ([0.0], [0.0])  # ICE points lost over time
    peak_loss: int = 0
    arousal: str = "alert"
    seizure_from: float | None = None
    seizure_to: float | None = None

    def loss_at(self, at: float) -> float:
        return float(np.interp(at, *self.knots))


def _onset(
    rng: np.random.Generator, course: Course, begin: float, end: float, days: tuple[float, float]
) -> float | None:
    """Onset days 3–8 after the therapy, inside the monitored window (6 h after it starts,
    12 h before it ends, so it is seen), and at least 12 h after the fever of a CRS course
    (ICANS follows CRS). None when no such moment exists."""
    therapy = float(course.therapy_at)  # type: ignore[arg-type]
    low = max(therapy + days[0] * DAY, begin + 6 * HOUR)
    if course.kind == CRS and course.start is not None:
        low = max(low, course.start + 12 * HOUR)
    high = min(therapy + days[1] * DAY, end - 12 * HOUR)
    return float(rng.uniform(low, high)) if high > low else None


def plan_course(
    rng: np.random.Generator,
    course: Course,
    begin: float,
    end: float,
    share: float,
    severe_share: float,
    days: tuple[float, float],
) -> IcansPlan:
    """An ICANS course for `share` of the patients with a therapy; its peak grade, timeline and
    treatment (the assessments are charted by `chart`)."""
    plan = IcansPlan()
    gets, severe, grade4, mild = rng.random(), rng.random(), rng.random(), rng.random()
    if course.therapy_at is None or gets >= share:
        return plan
    onset = _onset(rng, course, begin, end, days)
    if onset is None:
        return plan
    grade = (4 if grade4 < 0.2 else 3) if severe < severe_share else (1 if mild < 0.6 else 2)
    loss = int(rng.integers(PEAK_LOSS[grade][0], PEAK_LOSS[grade][1] + 1))
    peak = onset + rng.uniform(*((6, 24) if grade == 1 else (12, 48))) * HOUR
    if grade >= 2:
        crossing = onset + (4 - 1) / max(loss - 1, 1) * (peak - onset)  # ICE 6: grade 2
        plan.steroid_at = crossing + rng.uniform(0.5, 2.0) * HOUR
        plan.medications.append((plan.steroid_at, {"type": "medication", "drug": "corticosteroid"}))
        better_from = max(peak, plan.steroid_at + rng.uniform(6, 18) * HOUR)
        back = better_from + rng.uniform(*((24, 72) if grade == 2 else (48, 96))) * HOUR
    else:
        better_from = peak + rng.uniform(6, 24) * HOUR
        back = better_from + rng.uniform(24, 48) * HOUR
    plan.grade, plan.onset, plan.peak_loss = grade, onset, loss
    plan.knots = ([onset - 1.0, onset, peak, better_from, back], [0.0, 1.0, float(loss), float(loss), 0.0])
    if grade == 4 or rng.random() < 0.5:
        plan.arousal = PEAK_AROUSAL[grade]
    if grade == 3 and rng.random() < 0.3:  # a seizure that resolved rapidly, charted near the worst
        plan.seizure_from, plan.seizure_to = peak, peak + 12 * HOUR
    return plan


def chart(
    rng: np.random.Generator, plan: IcansPlan, begin: float, end: float, interval_h: tuple[float, float], confused_at
) -> None:
    """Assessments every 8–12 h from a random moment in the first interval. Outside an ICANS
    course: ICE 10 and alert. A patient without ICANS who is confused for another reason (new
    confusion on ACVPU from sepsis or grade-4 CRS, `confused_at`) is not charted: grading that
    ICE would be grading something that is not ICANS."""
    nurses = [f"rn-{int(n):04d}" for n in rng.integers(1000, 10_000, 6)]
    at = begin + rng.uniform(0.0, interval_h[1]) * HOUR
    while at < end:
        draws = rng.random(3)
        who = nurses[int(rng.integers(len(nurses)))]
        step = rng.uniform(*interval_h) * HOUR
        moment = float(round(at))
        loss = int(round(plan.loss_at(moment)))
        if loss == 0 and plan.grade == 0 and confused_at(moment):
            at += step
            continue
        fields: dict[str, Any] = {"type": "neuro", "by": who}
        near_peak = plan.peak_loss and loss >= NEAR_PEAK * plan.peak_loss
        arousal = plan.arousal if near_peak else "alert"
        if arousal == "unarousable":
            fields["arousal"] = arousal  # ICE cannot be assessed
        elif loss or draws[0] < 0.3:
            fields["ice_items"] = ice_items(loss)
            fields["ice"] = 10 - loss
            fields["arousal"] = arousal
        else:
            fields["ice"] = 10
            fields["arousal"] = arousal
        seizure = (
            plan.seizure_from is not None
            and plan.seizure_to is not None
            and plan.seizure_from <= moment <= plan.seizure_to
        )
        if loss or plan.grade and plan.onset is not None and plan.onset <= moment or draws[1] < 0.5:
            fields.update(seizure="resolved" if seizure else "none", motor="none", cerebral_edema="none")
        plan.assessments.append((moment, fields))
        at += step
