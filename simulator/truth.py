"""The ground truth of one simulated patient, read off the data it generated.

Times here are facts about the messages, not about the plan: "CRS onset" is the first febrile
temperature reading, "grade 2" is the first moment at which the readings and events in force
meet the provisional grade-2 criteria (docs/clinical-reference.md). Artifact samples are left out — an SpO2 of 74
between two of 97 is not hypoxia — which is exactly what an engine is measured on.

The grading here is deliberately a second, independent implementation of the published table:
an engine graded against its own code could never be caught wrong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, overload

import numpy as np

from monitor.wire import format_timestamp
from simulator.course import DAY
from simulator.organ_truth import aki_stages, icans_grade
from simulator.patient import SimulatedPatient
from simulator.settings import TruthThresholds

FEVER_LIFTING_DRUGS = frozenset({"tocilizumab", "siltuximab", "corticosteroid", "antipyretic"})
GRADE3_DEVICES = frozenset({"high_flow_nasal_cannula", "face_mask", "non_rebreather", "venturi"})
GRADE4_DEVICES = frozenset({"cpap", "bipap", "ventilator"})


@dataclass(frozen=True)
class GroundTruth:
    """What really happened to one patient; `None` where it did not happen in the window."""

    patient_id: str
    kind: str  # stable | crs | other_deterioration
    course: str  # e.g. axi-cel-like, sepsis-like, post-therapy, ward
    ward: str
    bed: str
    monitored_from: datetime
    monitored_to: datetime
    therapy_at: datetime | None
    deterioration_start: datetime | None  # the physiology starts to change
    deterioration_end: datetime | None  # back to baseline as planned (may lie after the window)
    first_fever_at: datetime | None  # first febrile reading
    crs_onset_at: datetime | None  # first febrile reading of a CRS course
    grade2_at: datetime | None  # provisional ASTCT grade-2 criteria first met
    grade2_criterion: str | None  # hypotension, hypoxia or oxygen
    grade2_cycle_s: int | None  # cadence of the source whose reading met the criteria
    max_grade: int  # highest provisional ASTCT grade in the data
    planned_grade: int
    urgent_at: datetime | None  # first NEWS2 single-parameter 3 (urgent ward review)
    busy: bool = False  # walks or does physiotherapy (settings.busy_share)
    bouts: tuple[tuple[datetime, datetime], ...] = ()  # each bout of exercise: (start, end of the effort)
    # Labs and ICANS (issues 20 and 21), when the ward has them (settings.labs_and_neuro):
    creatinine_baseline: float | None = None  # the patient's true baseline, mg/dL
    aki_planned: bool = False  # a severe CRS course planned with a creatinine rise
    aki: tuple[tuple[datetime, int], ...] = ()  # true KDIGO stage at each creatinine result
    aki_max_stage: int = 0
    icans_planned_grade: int = 0  # 0: no ICANS course
    icans_onset_at: datetime | None = None  # the first ICE point lost (planned)
    icans: tuple[tuple[datetime, int], ...] = ()  # true ASTCT ICANS grade at each assessment
    icans_max_grade: int = 0

    def to_json(self) -> dict[str, Any]:
        listed = ("bouts", "aki", "icans")
        document = {
            key: format_timestamp(value) if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
            if key not in listed
        }
        document["bouts"] = [
            {"start": format_timestamp(start), "end": format_timestamp(end)} for start, end in self.bouts
        ]
        document["aki"] = [{"at": format_timestamp(at), "stage": stage} for at, stage in self.aki]
        document["icans"] = [{"at": format_timestamp(at), "grade": grade} for at, grade in self.icans]
        return document


def _latest(times: np.ndarray, values: np.ndarray, at: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """The value in force at each moment: the last one at or before it."""
    found = np.searchsorted(times, at, side="right") - 1
    taken = values[np.maximum(found, 0)] if len(values) else np.full(len(at), missing)
    return np.where(found >= 0, taken, missing)


def _oxygen_grade(device: str, flow: float | None, limits: TruthThresholds) -> int:
    if device in GRADE4_DEVICES:
        return 4
    if device in GRADE3_DEVICES or (
        device == "nasal_cannula" and flow is not None and flow > limits.low_flow_max_l_min
    ):
        return 3
    return 0 if device == "room_air" else 2


class _Context:
    """The clinical events in force at each candidate moment, as arrays."""

    def __init__(self, patient: SimulatedPatient, at: np.ndarray, limits: TruthThresholds) -> None:
        columns: dict[str, tuple[list[float], list[float]]] = {
            "oxygen": ([], []),
            "vasopressor": ([], []),
            "therapy": ([], []),
            "lifted": ([], []),
        }

        def add(column: str, when: float, value: float) -> None:
            columns[column][0].append(when)
            columns[column][1].append(value)

        for when, fields in patient.events:
            kind = fields["type"]
            if kind == "oxygen":
                add(kind, when, _oxygen_grade(fields["device"], fields.get("flow_l_min"), limits))
            elif kind == "vasopressor":  # vasopressin alone is one vasopressor
                add(kind, when, max(fields["count"], int(bool(fields.get("vasopressin")))))
            elif kind == "therapy":
                add(kind, when, when)
            elif kind == "medication" and fields["drug"] in FEVER_LIFTING_DRUGS:
                add("lifted", when, 1.0)
        arrays = {name: (np.array(t, float), np.array(v, float)) for name, (t, v) in columns.items()}
        self.oxygen = _latest(*arrays["oxygen"], at, 0.0)
        self.on_air = self.oxygen == 0
        self.pressors = _latest(*arrays["vasopressor"], at, 0.0)
        since_therapy = at - _latest(*arrays["therapy"], at)  # NaN before any therapy
        self.risk = since_therapy <= limits.risk_period_days * DAY
        self.fever_lifted = np.searchsorted(arrays["lifted"][0], at, side="right") > 0


def ground_truth(patient: SimulatedPatient, start: datetime, limits: TruthThresholds) -> GroundTruth:
    course = patient.course
    numerics = patient.numerics()
    clean = numerics.sent & ~numerics.artifact
    n_times = numerics.times[clean].astype(float)
    spo2 = numerics.spo2[clean]
    b_times = patient.nibp.times[~patient.nibp.artifact].astype(float)
    t_times = patient.nurse.times[~patient.nurse.artifact].astype(float)
    temperature = patient.nurse.values["temperature"][~patient.nurse.artifact]
    event_times = np.array([t for t, _ in patient.events if t >= patient.begin], float)
    at = np.unique(np.concatenate([n_times, b_times, t_times, event_times]))

    context = _Context(patient, at, limits)
    febrile = _latest(t_times, temperature, at) >= limits.fever_celsius
    systolic = _latest(b_times, patient.nibp.values["systolic_bp"][~patient.nibp.artifact], at)
    mean_pressure = _latest(b_times, patient.nibp.values["mean_arterial_pressure"][~patient.nibp.artifact], at)
    hypotension = np.where(
        context.pressors >= 2,
        4,
        np.where(
            context.pressors >= 1,
            3,
            np.where(
                (systolic < limits.hypotension_systolic_mmhg) | (mean_pressure < limits.hypotension_map_mmhg), 2, 0
            ),
        ),
    )
    low_on_air = context.on_air & (_latest(n_times, spo2, at) <= limits.hypoxia_spo2_percent)
    hypoxia = np.maximum(context.oxygen, np.where(low_on_air, 2, 0))
    organ = np.maximum(hypotension, hypoxia)
    grade = np.where(
        context.risk & (febrile | context.fever_lifted) & (organ >= 2), organ, np.where(context.risk & febrile, 1, 0)
    )

    @overload
    def when(seconds: float) -> datetime: ...
    @overload
    def when(seconds: float | None) -> datetime | None: ...
    def when(seconds: float | None) -> datetime | None:  # whole seconds, as the messages are
        return None if seconds is None else start + timedelta(seconds=int(round(seconds)))

    fever_index = np.flatnonzero(temperature >= limits.fever_celsius)
    first_fever = float(t_times[fever_index[0]]) if len(fever_index) else None
    grade2 = np.flatnonzero(grade >= 2)
    grade2_at = float(at[grade2[0]]) if len(grade2) else None
    criterion, cycle = None, None
    if grade2_at is not None:
        i = grade2[0]
        criterion = "hypotension" if hypotension[i] >= 2 else "oxygen" if context.oxygen[i] >= 2 else "hypoxia"
        cycle = _cycle_at(patient, grade2_at, b_times, t_times, n_times)
    ward, bed = patient.ward, patient.bed
    return GroundTruth(
        patient_id=patient.patient_id,
        kind=course.kind,
        course=course.label,
        ward=ward,
        bed=bed,
        monitored_from=when(patient.begin),
        monitored_to=when(patient.end),
        therapy_at=when(course.therapy_at),
        deterioration_start=when(course.start),
        deterioration_end=when(course.end),
        first_fever_at=when(first_fever),
        crs_onset_at=when(first_fever) if course.kind == "crs" else None,
        grade2_at=when(grade2_at),
        grade2_criterion=criterion,
        grade2_cycle_s=cycle,
        max_grade=int(grade.max()) if len(grade) else 0,
        planned_grade=course.planned_grade,
        urgent_at=when(_first_red(patient, numerics, clean, limits)),
        busy=patient.busy,
        bouts=tuple((when(begin), when(end)) for begin, end, _ in course.bouts),
        **_organ_truth(patient, when, limits),
    )


def _organ_truth(patient: SimulatedPatient, when, limits: TruthThresholds) -> dict[str, Any]:
    """The kidney and ICANS truth: KDIGO stage at each creatinine result (true curve, true
    baseline) and the ASTCT grade of each charted assessment (simulator/organ_truth.py)."""
    if patient.labs is None:
        return {}
    labs = patient.labs
    creatinine = [
        at for at, fields in patient.observations if fields["type"] == "lab" and fields["test"] == "creatinine"
    ]
    stages = aki_stages(
        np.array(creatinine, float), lambda t: labs.true_value("creatinine", t), labs.own["creatinine"], limits
    )
    grades = [(at, icans_grade(fields)) for at, fields in patient.observations if fields["type"] == "neuro"]
    return {
        "creatinine_baseline": round(labs.own["creatinine"], 3),
        "aki_planned": labs.aki_planned,
        "aki": tuple((when(at), stage) for at, stage in zip(creatinine, stages)),
        "aki_max_stage": max(stages, default=0),
        "icans_planned_grade": patient.icans.grade,
        "icans_onset_at": when(patient.icans.onset),
        "icans": tuple((when(at), grade) for at, grade in grades),
        "icans_max_grade": max((grade for _, grade in grades), default=0),
    }


def _cycle_at(patient: SimulatedPatient, at: float, cuff: np.ndarray, nurse: np.ndarray, monitor: np.ndarray) -> int:
    """How long until the source that tipped the criteria measures again: the tolerance of
    'within one measurement cycle'. An event (oxygen started) is seen with the next numerics."""
    if np.any(nurse == at):
        return patient.settings.temperature_interval_min * 60
    if np.any(cuff == at):
        return patient._nibp_interval(int(at))  # noqa: SLF001
    return patient.settings.numerics_interval_s


def _first_red(patient: SimulatedPatient, numerics, clean: np.ndarray, limits: TruthThresholds) -> float | None:
    """The first reading that scores 3 on its own in NEWS2."""
    spo2_red = limits.red_spo2_scale2 if patient.baseline.spo2_scale == 2 else limits.red_spo2_scale1
    red = clean & (
        (numerics.heart_rate <= limits.red_pulse_low)
        | (numerics.heart_rate >= limits.red_pulse_high)
        | (numerics.respiratory_rate <= limits.red_breaths_low)
        | (numerics.respiratory_rate >= limits.red_breaths_high)
        | (numerics.spo2 <= spo2_red)
    )
    candidates = [float(numerics.times[red][0])] if red.any() else []
    cuff = patient.nibp
    systolic = cuff.values["systolic_bp"]
    cuff_red = ~cuff.artifact & ((systolic <= limits.red_systolic_low) | (systolic >= limits.red_systolic_high))
    if cuff_red.any():
        candidates.append(float(cuff.times[cuff_red][0]))
    nurse = patient.nurse
    nurse_red = ~nurse.artifact & (nurse.values["temperature"] <= limits.red_temperature_low)
    confused = np.array([patient.consciousness_at(t) != "A" for t in nurse.times.tolist()], bool)
    nurse_red |= confused
    if nurse_red.any():
        candidates.append(float(nurse.times[nurse_red][0]))
    return min(candidates) if candidates else None
