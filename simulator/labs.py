"""Lab results of one simulated patient: morning panels, a pre-therapy panel, and what a CRS
course does to them (issue 20, outcome 6).

Why labs are planned here and not in the course: they are sparse results, hours apart, and they
must not change a single vital sign of a ward that existed before them. They are drawn from a
random stream of their own (SimulatedPatient's `_LABS_SEED`) and read the course only.

The shapes follow CLINICAL.md ("Labs"): CRP tracks IL-6 and rises within a day of the fever;
ferritin rises later and stays up longer; IL-6 rises after tocilizumab, which blocks its
receptor (Nishimoto, Blood 2008) — expected, not worsening; platelets fall; creatinine rises in
some grade >= 3 courses to 1.5–3 × the patient's own baseline (KDIGO stage 1–2). Magnitudes and
timings are judgements written down in docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from simulator.course import CRS, DAY, HOUR, Course

Curve = Callable[[np.ndarray], np.ndarray]

#: Every morning; ferritin and the rest are the CAR-T ward's daily bloods (judgement).
MORNING_PANEL = ("creatinine", "crp", "platelets", "wbc", "ldh", "ferritin", "alt", "bilirubin")
#: Before the infusion: the m-EASIX ingredients (LDH, CRP, platelets), creatinine for EASIX,
#: and ferritin (Pennisi 2021, Greenbaum 2021; CLINICAL.md).
PRE_THERAPY_PANEL = ("ldh", "crp", "platelets", "creatinine", "ferritin", "wbc")
#: Drawn an hour or two after the first fever of a CRS course (the fever work-up).
FEVER_PANEL = ("crp", "ferritin", "il6", "creatinine", "platelets")
#: Twice a day in intensive care: the evening chemistry of a grade >= 3 course until it is over.
EVENING_PANEL = ("creatinine", "crp", "platelets")
#: Coefficient of variation (analytical and within-person, judgement near the EFLM biological
#: variation figures), cut at ±2 σ so that no control's creatinine moves 0.3 mg/dL by noise.
NOISE_CV = {
    "creatinine": 0.04,
    "crp": 0.08,
    "platelets": 0.06,
    "wbc": 0.08,
    "ldh": 0.06,
    "ferritin": 0.08,
    "alt": 0.10,
    "bilirubin": 0.10,
    "il6": 0.15,
}
DIGITS = {
    "creatinine": 2,
    "crp": 1,
    "platelets": 0,
    "wbc": 1,
    "ldh": 0,
    "ferritin": 0,
    "alt": 0,
    "bilirubin": 1,
    "il6": 1,
}
#: A haematology patient's own values before any CRS (uniform ranges, judgement; platelets low
#: after lymphodepletion).
OWN_RANGE = {
    "creatinine": (0.6, 1.1),
    "crp": (1.0, 8.0),
    "platelets": (120.0, 300.0),
    "wbc": (3.0, 9.0),
    "ldh": (150.0, 280.0),
    "ferritin": (150.0, 600.0),
    "alt": (10.0, 40.0),
    "bilirubin": (0.3, 1.0),
    "il6": (2.0, 10.0),
}
#: Every result is sent in its test's canonical unit (monitor/catalogue.py).
UNITS = {
    "creatinine": "mg/dL",
    "crp": "mg/L",
    "platelets": "10*9/L",
    "wbc": "10*9/L",
    "ldh": "U/L",
    "ferritin": "ng/mL",
    "alt": "U/L",
    "bilirubin": "mg/dL",
    "il6": "pg/mL",
}


@dataclass
class LabPlan:
    """A patient's true lab values over time, the results drawn from them, and the truth."""

    own: dict[str, float]
    curves: dict[str, Curve] = field(default_factory=dict)
    results: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    aki_planned: bool = False

    def true_value(self, test: str, at: np.ndarray) -> np.ndarray:
        curve = self.curves.get(test)
        return np.full(len(at), self.own[test]) if curve is None else curve(at)


def _knots(times: list[float], values: list[float]) -> Curve:
    xs, ys = np.asarray(times, float), np.asarray(values, float)
    return lambda at: np.interp(at, xs, ys)


def _flat(value: float) -> Curve:
    return lambda at: np.full(len(at), value)


def _plus(first: Curve, amount: float, shape: Curve) -> Curve:
    """`first` with `amount` times `shape` added: a course's change on top of what was there."""

    def curve(at: np.ndarray) -> np.ndarray:
        return first(at) + amount * shape(at)

    return curve


def _rise_and_decay(begin: float, peak_at: float, half_life: float) -> Curve:
    """0 before `begin`, 1 at `peak_at` (linear), then halving every `half_life` seconds."""

    def shape(at: np.ndarray) -> np.ndarray:
        rising = np.clip((at - begin) / max(peak_at - begin, 1.0), 0.0, 1.0)
        falling = np.exp(-np.log(2) * np.maximum(at - peak_at, 0.0) / half_life)
        return np.where(at < peak_at, rising, falling)

    return shape


def _first_event(course: Course, accept: Callable[[dict[str, Any]], bool]) -> float | None:
    times = [at for at, fields in course.events if accept(fields)]
    return min(times) if times else None


def _severe_at(course: Course) -> float | None:
    """When a grade >= 3 course needed a vasopressor or a grade-3 oxygen device."""
    return _first_event(
        course,
        lambda f: (
            (f["type"] == "vasopressor" and f["count"] >= 1)
            or (f["type"] == "oxygen" and f["device"] not in ("room_air", "nasal_cannula", "blow_by"))
        ),
    )


def _crs_curves(rng: np.random.Generator, course: Course, plan: LabPlan, aki_share: float) -> None:
    onset = float(course.start)  # type: ignore[arg-type]  # a CRS course has a start
    grade = course.planned_grade
    severe = grade >= 3
    tocilizumab = _first_event(course, lambda f: f["type"] == "medication" and f["drug"] == "tocilizumab")
    own = plan.own

    # CRP: half of its rise within a day of the fever, peak at 36–60 h, or 12 h after
    # tocilizumab stops its production; then its plasma half-life of about 19 h.
    crp_peak = rng.uniform(*((40, 120), (80, 200), (150, 300), (150, 300))[grade - 1])
    crp_top = onset + rng.uniform(36, 60) * HOUR
    if tocilizumab is not None:
        crp_top = max(min(crp_top, tocilizumab + 12 * HOUR), onset + 12 * HOUR)
    crp_shape = _rise_and_decay(onset, crp_top, (19 if tocilizumab is not None else rng.uniform(24, 48)) * HOUR)
    plan.curves["crp"] = _plus(_flat(own["crp"]), crp_peak, crp_shape)

    # Ferritin: later and slower (peak day 3–5), a multiple of the patient's own value.
    ferritin_from = onset + rng.uniform(12, 24) * HOUR
    ferritin_top = onset + rng.uniform(72, 120) * HOUR
    factor = rng.uniform(*((1.5, 3.0), (2.0, 5.0), (4.0, 15.0), (4.0, 15.0))[grade - 1])
    ferritin_shape = _rise_and_decay(ferritin_from, ferritin_top, rng.uniform(48, 96) * HOUR)
    plan.curves["ferritin"] = _plus(_flat(own["ferritin"]), own["ferritin"] * (factor - 1), ferritin_shape)

    # IL-6: peaks early, and jumps 3–10 fold within a day of tocilizumab (receptor blocked,
    # clearance stops), falling over days after that.
    il6_peak = rng.uniform(*((15, 80), (40, 400), (200, 2000), (200, 2000))[grade - 1])
    il6_shape = _rise_and_decay(onset, onset + rng.uniform(6, 24) * HOUR, rng.uniform(12, 24) * HOUR)
    before = _plus(_flat(own["il6"]), il6_peak, il6_shape)
    if tocilizumab is None:
        plan.curves["il6"] = before
    else:
        at_dose = float(before(np.array([tocilizumab]))[0])
        jump = at_dose * (rng.uniform(3, 10) - 1)
        after = _rise_and_decay(tocilizumab, tocilizumab + rng.uniform(12, 24) * HOUR, rng.uniform(48, 96) * HOUR)
        plan.curves["il6"] = _plus(before, jump, after)

    # Platelets: fall to a nadir on day 2–4 of the course, recover over 5–10 days.
    nadir = rng.uniform(*((0.7, 0.9), (0.55, 0.8), (0.3, 0.6), (0.3, 0.6))[grade - 1])
    low_at = onset + rng.uniform(48, 96) * HOUR
    plan.curves["platelets"] = _knots(
        [onset, low_at, low_at + rng.uniform(5, 10) * DAY],
        [own["platelets"], own["platelets"] * nadir, own["platelets"]],
    )

    # Creatinine: in some severe courses, from the first vasopressor or grade-3 oxygen device, a
    # rise over 18–36 h to 1.6–2.8 × baseline (KDIGO stage 1–2), held 12–36 h, back near
    # baseline over 3–7 days.
    aki_draws = (
        rng.random(),
        rng.uniform(0, 6),
        rng.uniform(18, 36),
        rng.uniform(1.6, 2.8),
        rng.uniform(12, 36),
        rng.uniform(3, 7),
    )
    severe_at = _severe_at(course)
    if severe and aki_draws[0] < aki_share:
        begin = (severe_at if severe_at is not None else onset + DAY) + aki_draws[1] * HOUR
        top = begin + aki_draws[2] * HOUR
        base = own["creatinine"]
        plan.curves["creatinine"] = _knots(
            [begin, top, top + aki_draws[4] * HOUR, top + aki_draws[4] * HOUR + aki_draws[5] * DAY],
            [base, base * aki_draws[3], base * aki_draws[3], base * 1.05],
        )
        plan.aki_planned = True


def _measure(rng: np.random.Generator, plan: LabPlan, at: float, tests: tuple[str, ...]) -> None:
    for test in tests:
        true = float(plan.true_value(test, np.array([at]))[0])
        cv = NOISE_CV[test]
        value = round(true * (1 + float(np.clip(rng.normal(0, cv), -2 * cv, 2 * cv))), DIGITS[test])
        plan.results.append((at, {"type": "lab", "test": test, "value": value, "unit": UNITS[test]}))


def plan_labs(
    rng: np.random.Generator,
    course: Course,
    begin: float,
    end: float,
    utc_offset_h: float,
    panel_hour: float,
    aki_share: float,
) -> LabPlan:
    """The patient's lab results from `begin` to `end` (and a pre-therapy panel, which may lie
    before the window like the therapy it precedes), in time order."""
    plan = LabPlan({test: float(rng.uniform(*bounds)) for test, bounds in OWN_RANGE.items()})
    crs = course.kind == CRS and course.start is not None
    if crs:
        _crs_curves(rng, course, plan, aki_share)
    draws: list[tuple[float, tuple[str, ...]]] = []
    if course.therapy_at is not None:
        draws.append((course.therapy_at - rng.uniform(0.5, 1.5) * HOUR, PRE_THERAPY_PANEL))
    severe_from = _severe_at(course) if crs and course.planned_grade >= 3 else None
    for day_start in np.arange(np.floor(begin / DAY) * DAY - DAY, end + DAY, DAY):
        at = float(day_start + (panel_hour - utc_offset_h) * HOUR + rng.uniform(-0.5, 0.5) * HOUR)
        if begin <= at < end:
            il6 = ("il6",) if crs and at >= float(course.start) else ()  # type: ignore[arg-type]
            draws.append((at, MORNING_PANEL + il6))
        evening = at + 12 * HOUR
        if severe_from is not None and severe_from <= evening < min(end, float(course.end or end)):
            draws.append((evening, EVENING_PANEL))
    if crs:
        workup = float(course.start) + rng.uniform(1.0, 3.0) * HOUR  # type: ignore[arg-type]
        if workup < end:
            draws.append((workup, FEVER_PANEL))
    for at, tests in sorted(draws):
        _measure(rng, plan, at, tests)
    return plan
