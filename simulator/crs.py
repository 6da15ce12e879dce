"""CRS courses: onset after the therapy, fever first, then tachycardia, then hypotension and/or
hypoxia for grade 2 and beyond, with the treatment a CAR-T unit gives at each step.

Onset days, grade shares and durations follow docs/clinical-reference.md (product labels and trials); where it
is silent — how fast pressure falls, when tocilizumab is given, how oxygen is escalated — the
choices are judgements written down in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from simulator.course import CRS, DAY, HOUR, Course, lognormal, place_in_window
from simulator.physiology import Baseline, draw_baseline


@dataclass(frozen=True)
class Product:
    """A therapy as the simulator knows it: when CRS starts after which dose, how long it
    lasts and how severe it gets."""

    therapy: str  # the contract's `therapy` value
    onset_median_days: float  # after the dose that triggers it
    onset_range_days: tuple[float, float]
    dose_days: tuple[float, ...]  # days after the first dose
    trigger_weights: tuple[float, ...]  # which dose triggers CRS
    duration_median_days: float
    grade_weights: tuple[float, float, float, float]  # grades 1, 2, 3, 4


PRODUCTS: dict[str, Product] = {
    # ZUMA-1: median onset day 2 (range 1–12), median duration 7 days, grade ≥ 3 in 13 %.
    "axi-cel-like": Product("car-t", 2.0, (1.0, 11.9), (0.0,), (1.0,), 7.0, (0.45, 0.42, 0.09, 0.04)),
    # Median onset day 3 in the trial, day 5 in the real-world registry.
    "tisa-cel-like": Product("car-t", 4.0, (1.0, 13.0), (0.0,), (1.0,), 7.0, (0.50, 0.35, 0.10, 0.05)),
    # MajesTEC-1: CRS during step-up dosing on days 1, 4 and 7, mostly grade 1–2, short.
    "teclistamab-like": Product(
        "bispecific", 1.0, (0.3, 2.5), (0.0, 3.0, 6.0), (0.45, 0.35, 0.20), 2.0, (0.70, 0.29, 0.01, 0.0)
    ),
}
SEVERE_ONSET_FACTOR = 0.7  # clinical reference: severe CRS tends to start earlier than mild CRS

LOW_FLOW = ("nasal_cannula", (2.0, 4.0))
GRADE3_OXYGEN = (
    ("high_flow_nasal_cannula", (40.0, 60.0)),
    ("face_mask", (8.0, 10.0)),
    ("non_rebreather", (15.0, 15.0)),
    ("venturi", (10.0, 12.0)),
)
GRADE4_OXYGEN = (("cpap", None), ("bipap", None))


def _choose(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    return int(rng.choice(len(weights), p=np.asarray(weights) / sum(weights)))


def fever_knots(
    rng: np.random.Generator, onset: float, length: float, own_celsius: float, peaks: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """A spiking fever: peaks of 38.4–40 °C and troughs that dip around 38.0 every few hours,
    the pattern that makes a threshold alarm fire twenty times a day."""
    times, values = [onset], [0.0]
    at, high = onset + rng.uniform(1.0, 2.0) * HOUR, True
    while at < onset + length:
        level = rng.uniform(*peaks) if high else rng.uniform(37.5, 38.4)
        times.append(at)
        values.append(max(level - own_celsius, 0.4))
        at += rng.uniform(2.0, 5.0) * HOUR
        high = not high
    times.append(onset + length + rng.uniform(2.0, 4.0) * HOUR)
    values.append(0.0)
    return times, values


def _cut(times: list[float], values: list[float], at: float, gone: float) -> tuple[list[float], list[float]]:
    """The fever after tocilizumab: it falls to nothing by `gone` and does not come back."""
    level = float(np.interp(at, times, values))
    kept = [(t, v) for t, v in zip(times, values) if t < at]
    return [t for t, _ in kept] + [at, gone], [v for _, v in kept] + [level, 0.0]


class _Plan:
    """The timeline of one CRS course while it is being written."""

    def __init__(self, rng: np.random.Generator, course: Course, baseline: Baseline, onset: float):
        self.rng, self.course, self.baseline, self.onset = rng, course, baseline, onset
        self.recovery_from = onset
        self.pressors = 0
        self.device_boost = 0.0

    def _fall(self, at: float) -> float:
        """A decline of 3–6 h that starts no earlier than an hour after the fever: fever first."""
        return min(self.rng.uniform(3.0, 6.0) * HOUR, at - self.onset - HOUR)

    def hypotension(self, at: float, lowest: float) -> None:
        """Systolic falls over 3–6 h to `lowest` by `at`; a fluid bolus buys a few hours."""
        rng, course = self.rng, self.course
        fall = self._fall(at)
        course.systolic.ramp(at - fall, at + 0.5 * HOUR, lowest - self.baseline.systolic)
        bolus, gain = at + rng.uniform(0.25, 0.75) * HOUR, rng.uniform(6.0, 10.0)
        course.systolic.ramp(bolus, bolus + 0.5 * HOUR, gain).ramp(bolus + HOUR, bolus + 3 * HOUR, -0.7 * gain)

    def hypoxia(self, at: float, lowest: float) -> None:
        """SpO2 falls over 3–6 h to `lowest` by `at`; the nurse starts a nasal cannula."""
        rng, course = self.rng, self.course
        fall = self._fall(at)
        course.spo2.ramp(at - fall, at + 0.5 * HOUR, lowest - self.baseline.spo2)
        device, flows = LOW_FLOW
        self.oxygen(at + rng.uniform(0.25, 0.75) * HOUR, device, flows, rng.uniform(3.0, 5.0))

    def oxygen(self, at: float, device: str, flows: tuple[float, float] | None, boost: float) -> None:
        flow = None if flows is None else float(round(self.rng.uniform(*flows)))
        self.course.oxygen(at, device, flow, boost)
        self.device_boost += boost

    def pressor(self, at: float, count: int, gain: float) -> None:
        self.course.event(at, "vasopressor", count=count, vasopressin=False)
        self.course.systolic.ramp(at, at + 0.5 * HOUR, gain)
        self.pressors = count

    def escalate(self, at: float, grade: int, hypotensive: bool) -> None:
        """Grade 3 or 4: the first measures were not enough."""
        rng, course = self.rng, self.course
        if hypotensive:
            course.systolic.ramp(at - 2 * HOUR, at, -rng.uniform(6.0, 12.0) * (grade - 2))
            self.pressor(at + 0.25 * HOUR, grade - 2, rng.uniform(18.0, 25.0))
        else:
            course.spo2.ramp(at - 2 * HOUR, at, -rng.uniform(4.0, 7.0))
            course.respiratory_rate.ramp(at - 2 * HOUR, at, rng.uniform(3.0, 6.0))
            options = GRADE3_OXYGEN if grade == 3 else GRADE4_OXYGEN
            device, flows = options[int(rng.integers(len(options)))]
            self.oxygen(at + 0.25 * HOUR, device, flows, rng.uniform(4.0, 7.0))
        if grade == 3:
            course.event(at + rng.uniform(0.5, 1.5) * HOUR, "medication", drug="corticosteroid")
            course.transfers.append((at + rng.uniform(0.5, 2.0) * HOUR, "ICU"))
        elif rng.random() < 0.5:
            course.consciousness.append((at + rng.uniform(0.0, 2.0) * HOUR, "C"))
        self.recovery_from = max(self.recovery_from, at + rng.uniform(6.0, 18.0) * HOUR)

    def recover(self, begin: float) -> float:
        """Everything returns to baseline over 12–36 h; pressors and oxygen are weaned on
        the way. Returns when the course is over."""
        rng, course = self.rng, self.course
        length = rng.uniform(12.0, 36.0) * HOUR
        for curve in (course.systolic, course.spo2, course.heart_rate, course.respiratory_rate):
            curve.settle(begin, begin + length)
        for step in range(self.pressors, 0, -1):
            course.event(
                begin + length * (1 - step / (self.pressors + 1)), "vasopressor", count=step - 1, vasopressin=False
            )
        if self.device_boost:
            off = begin + 0.85 * length
            course.oxygen(off, "room_air", None, -self.device_boost)
        if course.consciousness:
            course.consciousness.append((begin + 0.5 * length, "A"))
        return begin + length


def plan_crs(
    rng: np.random.Generator, product_name: str, window_s: float, antipyretic_share: float
) -> tuple[Baseline, Course]:
    """One CRS course whose fever starts inside the window, after its therapy, and the
    patient it happens to."""
    product = PRODUCTS[product_name]
    baseline = draw_baseline(rng)
    grade = 1 + _choose(rng, product.grade_weights)
    onset = place_in_window(rng, window_s)
    median = product.onset_median_days * (SEVERE_ONSET_FACTOR if grade >= 3 else 1.0)
    delay = lognormal(rng, median, 0.6, *product.onset_range_days) * DAY
    trigger = _choose(rng, product.trigger_weights)
    therapy_at = onset - delay - product.dose_days[trigger] * DAY
    course = Course(
        CRS,
        product_name,
        planned_grade=grade,
        therapy_at=therapy_at,
        start=onset,
        monitored_from=max(0.0, therapy_at - 2 * HOUR),
    )
    for days in product.dose_days:
        if therapy_at + days * DAY < window_s:
            course.event(therapy_at + days * DAY, "therapy", therapy=product.therapy)
    plan = _Plan(rng, course, baseline, onset)

    length = lognormal(rng, product.duration_median_days, 0.5, 0.5, 14.0) * DAY
    peaks = (38.4, 39.6) if grade == 1 else (38.8, 40.2)
    tocilizumab: float | None = None
    if grade >= 2:
        criteria_at = onset + lognormal(rng, 12.0, 0.6, 3.0, 48.0) * HOUR
        length = max(length, criteria_at - onset + 12 * HOUR)
        mode = ("hypotension", "hypoxia", "both")[_choose(rng, (0.5, 0.25, 0.25))]
        if mode != "hypoxia":
            plan.hypotension(criteria_at, rng.uniform(80.0, 87.0))
        if mode != "hypotension":
            plan.hypoxia(criteria_at, rng.uniform(89.5, 92.5))
        course.heart_rate.ramp(onset, onset + 6 * HOUR, rng.uniform(5.0, 10.0))
        tocilizumab = criteria_at + rng.uniform(1.0, 3.0) * HOUR
        plan.recovery_from = tocilizumab + rng.uniform(4.0, 12.0) * HOUR
        if grade >= 3:
            at = criteria_at + rng.uniform(3.0, 12.0) * HOUR
            hypotensive = mode == "hypotension" or (mode == "both" and rng.random() < 0.5)
            plan.escalate(at, 3, hypotensive)
            if grade == 4:
                plan.escalate(at + rng.uniform(2.0, 8.0) * HOUR, 4, hypotensive)
    elif length > 36 * HOUR and rng.random() < 0.3:
        tocilizumab = onset + rng.uniform(24.0, 36.0) * HOUR  # persistent grade-1 fever
        plan.recovery_from = tocilizumab + rng.uniform(2.0, 6.0) * HOUR

    times, values = fever_knots(rng, onset, length, baseline.temperature, peaks)
    fever_over = times[-1]
    if tocilizumab is not None:
        course.event(tocilizumab, "medication", drug="tocilizumab")
        fever_over = tocilizumab + rng.uniform(2.0, 5.0) * HOUR
        times, values = _cut(times, values, tocilizumab, fever_over)
    course.fever.path(times, values)
    if rng.random() < antipyretic_share:
        own_rng = np.random.default_rng(int(rng.integers(2**63)))
        until = min(fever_over, onset + DAY)
        course.after_first_fever.append(lambda seen: _give_antipyretics(own_rng, course, seen, until))

    over = plan.recover(max(plan.recovery_from, onset)) if grade >= 2 else fever_over
    course.finish(max(over, fever_over))
    # finish() above has set the end.
    course.escalated.append((onset + rng.uniform(0.5, 1.0) * HOUR, cast(float, course.end)))
    return baseline, course


def _give_antipyretics(rng: np.random.Generator, course: Course, seen: float, until: float) -> None:
    """Paracetamol 15–60 min after the first febrile reading, then every 6–8 h on the first
    febrile day: down ≈ 0.9 °C for 4–6 h."""
    at = seen + rng.uniform(0.25, 1.0) * HOUR
    for _ in range(3):
        if at >= until:
            return
        course.event(at, "medication", drug="antipyretic")
        drop = rng.uniform(0.7, 1.1)
        course.fever.ramp(at, at + HOUR, -drop).ramp(at + 4 * HOUR, at + 6 * HOUR, drop)
        at += rng.uniform(6.0, 8.0) * HOUR
