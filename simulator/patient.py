"""One simulated patient: a planned course measured by a bedside monitor and by nurses.

Three sources, each on its own cadence: the monitor's continuous numerics (heart rate, SpO2,
respiratory rate), its cuff (NIBP), and the nurse's round (temperature, consciousness, air or
oxygen). Numerics are produced in chunks so that a day of 1-second samples for a whole ward
never sits in memory at once; every chunk draws its noise from its own seed, so the data do not
depend on how far anyone has read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator, cast

import numpy as np

from monitor.wire import InputEvent, VitalSigns, validate_input
from simulator.artifacts import ArtifactPlan, plan_artifacts, stamp_numerics, within
from simulator.course import CRS, HOUR, STABLE, Course, Exertion, daily_life, exercise
from simulator.icans import IcansPlan, chart, plan_course
from simulator.labs import LabPlan, plan_labs
from simulator.physiology import Baseline, Physiology, exertion_room, mean_arterial, read
from simulator.settings import SimulationSettings

CHUNK_SAMPLES = 1440
# Within one second, context comes before the vitals it explains.
EVENT, NURSE, NIBP, NUMERICS = range(4)
_NUMERICS_SEED, _NIBP_SEED, _NURSE_SEED, _EXERCISE_SEED = 1, 2, 3, 4
_LABS_SEED, _ICANS_SEED = 5, 6  # streams of their own: the vitals stay as they were without them


@dataclass
class Numerics:
    """Continuous numerics; `sent` False where the source was silent, `artifact` where the value
    is not the patient's."""

    times: np.ndarray
    heart_rate: np.ndarray
    spo2: np.ndarray
    respiratory_rate: np.ndarray
    sent: np.ndarray
    artifact: np.ndarray


@dataclass
class Spot:
    """Intermittent readings (cuff or nurse), only those that were sent."""

    times: np.ndarray
    values: dict[str, np.ndarray]
    artifact: np.ndarray


class SimulatedPatient:
    def __init__(
        self,
        settings: SimulationSettings,
        index: int,
        patient_id: str,
        ward: str,
        bed: str,
        baseline: Baseline,
        course: Course,
        plan_rng: np.random.Generator,
        busy: bool = False,
    ) -> None:
        self.settings = settings
        self.index = index
        self.patient_id = patient_id
        self.ward, self.bed = ward, bed
        self.baseline = baseline
        self.course = course
        self.busy = busy
        self.end = settings.window_s
        self.begin = int(course.monitored_from)
        if busy:  # its own random stream: everything else about the patient stays as it was
            exercise(
                course,
                self._rng(_EXERCISE_SEED),
                _exertion(settings),
                self._well_between(),
                settings.utc_offset_hours,
                *exertion_room(baseline),
            )
        if not course.start:  # daily life before an illness only; the ill stay in bed
            daily_life(course, plan_rng, self.begin, self.end, settings.utc_offset_hours, baseline.sleep_dips)
        elif course.start > self.begin:
            daily_life(course, plan_rng, self.begin, course.start, settings.utc_offset_hours, baseline.sleep_dips)
        self.physiology = Physiology(baseline, course, plan_rng, self.begin, self.end, settings.utc_offset_hours)
        self.artifacts: ArtifactPlan = plan_artifacts(plan_rng, settings.artifacts, self.begin, self.end)
        self.nibp_interval_s = int(plan_rng.choice(settings.nibp_intervals_min)) * 60
        interval = settings.numerics_interval_s
        self.numerics_times = np.arange(
            self.begin + int(plan_rng.integers(interval)), self.end, interval, dtype=np.int64
        )
        self._nibp_phase = int(plan_rng.integers(self.nibp_interval_s))
        self._nurse_phase = int(plan_rng.integers(settings.temperature_interval_min * 60))
        self.nurse = self._measure_nurse()
        self._respond_to_first_fever()
        self.events = self._clinical_events()
        self.nibp = self._measure_nibp()
        self.labs: LabPlan | None = None
        self.icans = IcansPlan()
        #: Lab results and neurological assessments: sparse ClinicalEvents that change no vital sign.
        self.observations: list[tuple[int, dict[str, Any]]] = []
        if settings.labs_and_neuro:
            self._plan_labs_and_neuro()

    def _well_between(self) -> list[tuple[float, float]]:
        """When a busy patient may exercise: monitored and not ill (from an hour before an
        illness starts to its planned end the patient rests)."""
        course = self.course
        spans: list[tuple[float, float]]
        if course.start is None:
            spans = [(self.begin, self.end)]
        else:
            spans = [(self.begin, course.start - HOUR)]
            if course.end is not None:
                spans.append((course.end, self.end))
        return [(float(a), float(b)) for a, b in spans if b > a]

    # -- what was measured ---------------------------------------------------------------
    def _rng(self, stream: int, chunk: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.settings.seed, self.index, stream, chunk])

    def numerics_chunks(self) -> Iterator[Numerics]:
        interval = self.settings.numerics_interval_s
        for number, first in enumerate(range(0, len(self.numerics_times), CHUNK_SAMPLES)):
            times = self.numerics_times[first : first + CHUNK_SAMPLES]
            seconds = times.astype(float)
            rng = self._rng(_NUMERICS_SEED, number)
            readings = {
                name: read(rng, name, getattr(self.physiology, name)(seconds))
                for name in ("heart_rate", "spo2", "respiratory_rate")
            }
            sent, artifact = stamp_numerics(self.artifacts, rng, seconds, interval, readings)
            yield Numerics(
                times, readings["heart_rate"], readings["spo2"], readings["respiratory_rate"], sent, artifact
            )

    def numerics(self) -> Numerics:
        """All numerics at once: for the ground truth and tests, not for streaming."""
        chunks = list(self.numerics_chunks())
        return Numerics(
            *(
                np.concatenate([getattr(c, name) for c in chunks]) if chunks else np.zeros(0)
                for name in Numerics.__dataclass_fields__
            )
        )

    def _schedule(self, phase: int, interval_at) -> np.ndarray:
        times, at = [], self.begin + phase
        while at < self.end:
            times.append(at)
            at += interval_at(at)
        return np.asarray(times, np.int64)

    def _nibp_interval(self, at: int) -> int:
        for begin, end in self.course.escalated:
            if begin <= at < end:
                return self.settings.nibp_escalated_interval_min * 60
        return self.nibp_interval_s

    def _measure_nibp(self) -> Spot:
        rng = self._rng(_NIBP_SEED)
        rates = self.settings.artifacts
        times = self._schedule(self._nibp_phase, self._nibp_interval)
        systolic = read(rng, "systolic", self.physiology.systolic(times.astype(float)))
        diastolic = read(rng, "diastolic", systolic * self.baseline.diastolic_ratio)
        implausible = rng.random(len(times)) < rates.nibp_implausible
        systolic[implausible] = np.round(rng.uniform(60, 75, int(implausible.sum())))
        diastolic[implausible] = np.round(rng.uniform(35, 45, int(implausible.sum())))
        sent = (rng.random(len(times)) >= rates.nibp_failed) & ~within(times, self.artifacts.monitor_off)
        values = {
            "systolic_bp": systolic,
            "diastolic_bp": diastolic,
            "mean_arterial_pressure": mean_arterial(systolic, diastolic),
        }
        return Spot(times[sent], {k: v[sent] for k, v in values.items()}, implausible[sent])

    def _measure_nurse(self) -> Spot:
        """A nurse's round on the hour (give or take 5 minutes): temperature, ACVPU, oxygen."""
        rng = self._rng(_NURSE_SEED)
        every = self.settings.temperature_interval_min * 60
        times = self._schedule(self._nurse_phase, lambda at: every)
        jitter = np.clip(rng.integers(-300, 301, len(times)), -(every // 3), every // 3)
        times = np.clip(times + jitter, self.begin, self.end - 1)
        seconds = times.astype(float)
        temperature = self.physiology.cap_afebrile(
            seconds, read(rng, "temperature", self.physiology.temperature(seconds), 1)
        )
        under = rng.random(len(times)) < self.settings.artifacts.temperature_under_read
        temperature[under] = np.round(temperature[under] - rng.uniform(0.5, 1.2, int(under.sum())), 1)
        return Spot(times, {"temperature": temperature}, under)

    def _respond_to_first_fever(self) -> None:
        """Apply the responses to the first febrile reading the nurse saw, and measure again.

        The response only changes the patient after it is given, and every reading draws the
        same noise on the second pass, so the readings up to the trigger stay as they were.
        """
        if not self.course.after_first_fever:
            return
        febrile = np.flatnonzero(
            (self.nurse.values["temperature"] >= self.settings.truth.fever_celsius) & ~self.nurse.artifact
        )
        if not len(febrile):
            return
        for respond in self.course.after_first_fever:
            respond(float(self.nurse.times[febrile[0]]))
        self.nurse = self._measure_nurse()

    def _icans_share(self) -> float:
        settings, course = self.settings, self.course
        if course.kind == CRS:
            return settings.icans_share_by_product.get(course.label, 0.0)
        if course.kind == STABLE and course.therapy_at is not None:
            return settings.icans_share_of_post_therapy_stable
        return 0.0

    def _plan_labs_and_neuro(self) -> None:
        """Labs and ICANS from streams of their own; only an ICANS corticosteroid joins the
        clinical events (it lifts ASTCT's CRS fever requirement, so the truth must see it)."""
        settings = self.settings
        self.labs = plan_labs(
            self._rng(_LABS_SEED),
            self.course,
            self.begin,
            self.end,
            settings.utc_offset_hours,
            settings.lab_panel_local_hour,
            settings.aki_share_of_severe_crs,
        )
        rng = self._rng(_ICANS_SEED)
        self.icans = plan_course(
            rng,
            self.course,
            self.begin,
            self.end,
            self._icans_share(),
            settings.icans_severe_share,
            settings.icans_onset_days,
        )
        chart(
            rng,
            self.icans,
            self.begin,
            self.end,
            settings.neuro_interval_h,
            lambda at: self.consciousness_at(at) != "A",
        )
        steroids = [(int(round(at)), fields) for at, fields in self.icans.medications if at < self.end]
        if steroids:
            self.events = sorted(self.events + steroids, key=lambda e: e[0])
        observed = [(int(round(at)), fields) for at, fields in (*self.labs.results, *self.icans.assessments)]
        self.observations = sorted((e for e in observed if e[0] < self.end), key=lambda e: e[0])

    def _clinical_events(self) -> list[tuple[int, dict[str, Any]]]:
        events = [(int(round(at)), fields) for at, fields in self.course.events]
        if self.baseline.spo2_scale == 2:
            events.append((self.begin, {"type": "spo2_target", "scale": 2}))
        return sorted((e for e in events if e[0] < self.end), key=lambda e: e[0])

    # -- context in force ------------------------------------------------------------------
    def consciousness_at(self, at: float) -> str:
        level = "A"
        for since, value in sorted(self.course.consciousness):
            if since <= at:
                level = value
        return level

    def device_at(self, at: float) -> str:
        device = "room_air"
        for since, fields in self.events:
            if since <= at and fields["type"] == "oxygen":
                device = fields["device"]
        return device

    def place_at(self, at: float) -> tuple[str, str]:
        """Ward and bed; a transfer to intensive care moves the patient to an ICU bed."""
        place = (self.ward, self.bed)
        for since, ward in self.course.transfers:
            if since <= at:
                place = (ward, f"I{self.index + 1}")
        return place

    # -- as contract messages ------------------------------------------------------------
    def records(self, start: datetime) -> Iterator[tuple[int, int, InputEvent]]:
        """(seconds, source order, message) in event time."""
        fixed = self._fixed_records(start)
        position = 0
        for chunk in self.numerics_chunks():
            rows = np.flatnonzero(chunk.sent)
            times = chunk.times[rows].tolist()
            heart = chunk.heart_rate[rows].tolist()
            spo2 = chunk.spo2[rows].tolist()
            breaths = chunk.respiratory_rate[rows].tolist()
            ward, bed = self.place_at(chunk.times[0]) if len(chunk.times) else (self.ward, self.bed)
            moves = bool(self.course.transfers)
            for row, at in enumerate(times):
                while position < len(fixed) and fixed[position][0] <= at:
                    yield fixed[position]
                    position += 1
                if moves:
                    ward, bed = self.place_at(at)
                yield (
                    at,
                    NUMERICS,
                    VitalSigns(
                        patient_id=self.patient_id,
                        ts=start + timedelta(seconds=at),
                        ward=ward,
                        bed=bed,
                        source=f"gw-{ward}",
                        heart_rate=heart[row],
                        spo2=spo2[row],
                        respiratory_rate=breaths[row],
                    ),
                )
        yield from fixed[position:]

    def _fixed_records(self, start: datetime) -> list[tuple[int, int, InputEvent]]:
        rows: list[tuple[int, int, InputEvent]] = []
        for at, fields in (*self.events, *self.observations):
            rows.append(
                (
                    at,
                    EVENT,
                    validate_input({"patient_id": self.patient_id, "ts": start + timedelta(seconds=at), **fields}),
                )
            )
        for at, values in _spot_rows(self.nibp):
            ward, bed = self.place_at(at)
            rows.append(
                (
                    at,
                    NIBP,
                    VitalSigns(
                        patient_id=self.patient_id,
                        ts=start + timedelta(seconds=at),
                        ward=ward,
                        bed=bed,
                        source=f"gw-{ward}",
                        **values,
                    ),
                )
            )
        for at, values in _spot_rows(self.nurse):
            ward, bed = self.place_at(at)
            rows.append(
                (
                    at,
                    NURSE,
                    VitalSigns(
                        patient_id=self.patient_id,
                        ts=start + timedelta(seconds=at),
                        ward=ward,
                        bed=bed,
                        source="ehr",
                        consciousness=cast(Any, self.consciousness_at(at)),  # ACVPU letter
                        on_oxygen=self.device_at(at) != "room_air",
                        **values,
                    ),
                )
            )
        rows.sort(key=lambda row: (row[0], row[1]))
        return rows


def _exertion(settings: SimulationSettings) -> Exertion:
    return Exertion(
        settings.busy_bouts_per_day,
        settings.busy_bout_min,
        settings.busy_ramp_min,
        settings.busy_settle_min,
        settings.busy_heart_rate_rise,
        settings.busy_breaths_rise,
    )


def _spot_rows(spot: Spot) -> Iterator[tuple[int, dict[str, Any]]]:
    columns = {name: values.tolist() for name, values in spot.values.items()}
    for row, at in enumerate(spot.times.tolist()):
        yield at, {name: column[row] for name, column in columns.items()}
