"""What a simulated ward looks like: cohort mix, monitor cadences, artifact rates, and the
thresholds that decide the ground truth.

Every number a user might want to vary is here, with where its default came from. Defaults that
are the simulator's own judgement say so: the clinical reference gives onset days and grade
shares, not how often a pulse-oximeter probe falls off. docs/simulator.md explains each one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.config import EngineConfig, setting
from monitor.wire import Timestamp
from simulator.crs import PRODUCTS

JUDGEMENT = "simulator judgement, see docs/simulator.md"


class ArtifactRates(BaseModel):
    """How often each kind of artifact occurs, per patient-day of monitoring.

    An artifact is what the monitor reports when the patient did not change: the engine must
    not open a clinical episode for it (issue 3, outcome 2).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spo2_probe_off: float = setting(3.0, f"{JUDGEMENT}: finger probe slips off a few times a day", "/day")
    ecg_leads_off: float = setting(1.0, f"{JUDGEMENT}: ECG leads off (heart and respiratory rate 0)", "/day")
    heart_rate_spike: float = setting(1.0, "issue 3: one heart rate 80 → 190 → 80", "/day")
    spo2_single_dip: float = setting(2.0, "issue 3: one SpO2 of 74 amid 97s", "/day")
    motion: float = setting(
        4.0, "Alarm safety (docs/clinical-reference.md): motion spikes; rate is a judgement", "/day"
    )
    gap: float = setting(0.5, f"{JUDGEMENT}: patient off the monitor 10–45 min (shower, imaging)", "/day")
    monitor_off: float = setting(0.1, f"{JUDGEMENT}: monitor disconnected 1–3 h (a silent source)", "/day")
    nibp_implausible: float = setting(
        0.01, "issue 3: one systolic 68 between two of 125; share of NIBP readings", "share"
    )
    nibp_failed: float = setting(0.02, f"{JUDGEMENT}: cuff reading that fails and is not sent", "share")
    temperature_under_read: float = setting(
        0.03, f"{JUDGEMENT}: a probe that reads 0.5–1.2 °C low; share of readings", "share"
    )

    def scaled(self, factor: float) -> "ArtifactRates":
        """The same mix, more or less of it (0 switches artifacts off)."""
        return ArtifactRates(**{name: value * factor for name, value in self.model_dump().items()})


def _published(name: str) -> Any:
    """The engine's default for a published criterion, with its source: the same number in
    code once, while a hospital's configuration of the engine leaves the truth where it is."""
    field = EngineConfig.model_fields[name]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return setting(field.default, str(extra.get("source", "")), str(extra.get("unit", "")))


class TruthThresholds(BaseModel):
    """The criteria the ground truth is computed with, independent of the engine's settings.

    The engine's thresholds are a hospital's to change; the truth it is measured against must
    not move with them, so the simulator takes the published defaults (never a hospital's
    configuration file) and keeps them here, where only a simulation's settings change them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fever_celsius: float = _published("fever_celsius")
    hypotension_systolic_mmhg: float = _published("hypotension_systolic_mmhg")
    hypotension_map_mmhg: float = _published("hypotension_map_mmhg")
    hypoxia_spo2_percent: float = _published("hypoxia_spo2_percent")
    low_flow_max_l_min: float = _published("low_flow_max_l_min")
    risk_period_days: float = _published("risk_period_days")
    # NEWS2 (RCP 2017): any single parameter scoring 3 calls for an urgent ward review; the
    # truth marks the first such reading of a deterioration as the moment it became urgent.
    red_pulse_low: float = setting(40.0, "NEWS2 2017: pulse ≤ 40 scores 3", "/min")
    red_pulse_high: float = setting(131.0, "NEWS2 2017: pulse ≥ 131 scores 3", "/min")
    red_breaths_low: float = setting(8.0, "NEWS2 2017: respiration rate ≤ 8 scores 3", "/min")
    red_breaths_high: float = setting(25.0, "NEWS2 2017: respiration rate ≥ 25 scores 3", "/min")
    red_spo2_scale1: float = setting(91.0, "NEWS2 2017: SpO2 scale 1 ≤ 91 % scores 3", "%")
    red_spo2_scale2: float = setting(83.0, "NEWS2 2017: SpO2 scale 2 ≤ 83 % scores 3", "%")
    red_systolic_low: float = setting(90.0, "NEWS2 2017: systolic BP ≤ 90 scores 3", "mmHg")
    red_systolic_high: float = setting(220.0, "NEWS2 2017: systolic BP ≥ 220 scores 3", "mmHg")
    red_temperature_low: float = setting(35.0, "NEWS2 2017: temperature ≤ 35.0 °C scores 3", "°C")
    # KDIGO 2012 by creatinine (CLINICAL.md, labs), against the patient's true baseline, which
    # the simulator knows (an engine has to estimate it from the results it has seen).
    aki_rise_mg_dl: float = setting(0.3, "KDIGO 2012 stage 1: a rise ≥ 0.3 mg/dL within 48 h", "mg/dL")
    aki_rise_window_h: float = setting(48.0, "KDIGO 2012 stage 1: the rise counts within 48 h", "h")
    aki_stage1_ratio: float = setting(1.5, "KDIGO 2012 stage 1: 1.5–1.9 × baseline", "ratio")
    aki_stage2_ratio: float = setting(2.0, "KDIGO 2012 stage 2: 2.0–2.9 × baseline", "ratio")
    aki_stage3_ratio: float = setting(3.0, "KDIGO 2012 stage 3: ≥ 3.0 × baseline", "ratio")
    aki_stage3_mg_dl: float = setting(4.0, "KDIGO 2012 stage 3: or creatinine ≥ 4.0 mg/dL", "mg/dL")


class SimulationSettings(BaseModel):
    """One simulated ward, reproducible from these settings alone (the seed included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patients: int = Field(20, ge=1, le=100_000)
    days: float = Field(3.0, gt=0, le=60)
    seed: int = Field(1, ge=0)
    start: Timestamp = datetime(2026, 11, 23, tzinfo=timezone.utc)
    utc_offset_hours: float = setting(0.0, "the ward's local time, for circadian rhythms and daytime activity", "h")

    numerics_interval_s: int = setting(60, f"{JUDGEMENT}: gateways export continuous numerics every 1–60 s", "s")
    nibp_intervals_min: tuple[int, ...] = setting(
        (30, 60), f"{JUDGEMENT}: each patient's routine NIBP cycle is one of these", "min"
    )
    nibp_escalated_interval_min: int = setting(
        15, f"{JUDGEMENT}: NIBP cycle once a patient is febrile or deteriorating", "min"
    )
    temperature_interval_min: int = setting(
        60, "issue 3: hourly temperature (with consciousness and oxygen, a nurse round)", "min"
    )

    crs_share: float = setting(0.3, f"{JUDGEMENT}: share of patients with a CRS course", "share")
    deterioration_share: float = setting(
        0.1, f"{JUDGEMENT}: share with non-CRS deterioration (sepsis-like or respiratory)", "share"
    )
    post_therapy_share_of_stable: float = setting(
        0.5, f"{JUDGEMENT}: stable patients in the risk period without CRS (6–28 % get none)", "share"
    )
    scale2_share_of_stable: float = setting(
        0.05, f"{JUDGEMENT}: stable patients with hypercapnic failure on NEWS2 SpO2 scale 2", "share"
    )
    post_therapy_share_of_deterioration: float = setting(
        0.25, f"{JUDGEMENT}: non-CRS deterioration after therapy (e.g. neutropenic sepsis)", "share"
    )
    product_mix: dict[str, float] = setting(
        {"axi-cel-like": 0.5, "tisa-cel-like": 0.25, "teclistamab-like": 0.25},
        f"{JUDGEMENT}: which therapy each CRS course follows",
        "share",
    )
    antipyretic_share: float = setting(
        0.5, f"{JUDGEMENT}: febrile CRS patients given paracetamol (lifts ASTCT's fever rule)", "share"
    )

    # Activity (issue 12, outcome 3): walks or physiotherapy, a normal response and not a
    # deterioration. CLINICAL.md, exertion: heart rate +20–40/min and respiratory rate +a few
    # breaths for minutes, settling within 10–30 min of rest, no fever, no fall in pressure or
    # SpO2 (general physiology, not a guideline: the shape below is a documented judgement).
    busy_share: float = setting(
        0.2, f"{JUDGEMENT}: patients who walk or do physiotherapy (stable or ill alike)", "share"
    )
    busy_bouts_per_day: int = setting(
        3, f"{JUDGEMENT}: bouts a day, one in each equal slot of 08:00–20:00 local time", "/day"
    )
    busy_bout_min: tuple[float, float] = setting((20.0, 30.0), f"{JUDGEMENT}: how long a bout of exertion lasts", "min")
    busy_ramp_min: tuple[float, float] = setting(
        (2.0, 5.0), "CLINICAL.md exertion: the rise takes a few minutes", "min"
    )
    busy_settle_min: tuple[float, float] = setting(
        (10.0, 30.0), "CLINICAL.md exertion: settling within 10–30 minutes of rest", "min"
    )
    busy_heart_rate_rise: tuple[float, float] = setting(
        (25.0, 30.0), "CLINICAL.md exertion (+20–40/min); the middle of it is a judgement", "/min"
    )
    busy_breaths_rise: float = setting(4.0, "CLINICAL.md exertion: respiratory rate up by a few breaths", "/min")

    # Labs and neurological assessments (issues 20 and 21): each from a random stream of its
    # own, so that the vital signs and the CRS course of every patient stay as they were.
    labs_and_neuro: bool = setting(
        True, "issues 20 and 21: lab results and ICANS assessments as ClinicalEvents", "switch"
    )
    lab_panel_local_hour: float = setting(
        6.0, f"{JUDGEMENT}: the ward's morning bloods, drawn around 06:00 (± 30 min)", "h"
    )
    aki_share_of_severe_crs: float = setting(
        0.6, "CLINICAL.md labs (KDIGO); AKI goes with grade >= 3 CRS — the share is a judgement", "share"
    )
    icans_share_by_product: dict[str, float] = setting(
        {"axi-cel-like": 0.6, "tisa-cel-like": 0.21, "teclistamab-like": 0.03},
        "CLINICAL.md ICANS course: JULIET 21 %, teclistamab 3 %; axi-cel below ZUMA-1's 87 % "
        "neurological events, which counted any neurological adverse event (judgement)",
        "share",
    )
    icans_share_of_post_therapy_stable: float = setting(
        0.1, f"{JUDGEMENT}: ICANS without CRS in risk-period patients who get no CRS", "share"
    )
    icans_severe_share: float = setting(
        0.3, "CLINICAL.md ICANS course: grade >= 3 in a minority (axi-cel 31 %, cilta-cel 4 %)", "share"
    )
    icans_onset_days: tuple[float, float] = setting(
        (3.0, 8.0),
        "issue 21: onset days 3–8 after therapy (CLINICAL.md: axi-cel median day 4, tisa-cel day 6)",
        "d",
    )
    neuro_interval_h: tuple[float, float] = setting(
        (8.0, 12.0), f"{JUDGEMENT}: a neurological assessment (ICE) charted every 8–12 h", "h"
    )

    artifacts: ArtifactRates = ArtifactRates()
    truth: TruthThresholds = TruthThresholds()

    wards: tuple[str, ...] = ("5-West", "Haem-2", "7-North")
    beds_per_ward: int = Field(24, ge=1)

    @model_validator(mode="after")
    def _describes_a_ward(self) -> "SimulationSettings":
        shares = {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name.endswith("_share") or "_share_of_" in name
        }
        for name, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} {value} must be between 0 and 1")
        if self.crs_share + self.deterioration_share > 1.0:
            raise ValueError(f"crs_share {self.crs_share} + deterioration_share {self.deterioration_share} exceed 1")
        cadences = {
            "numerics_interval_s": self.numerics_interval_s,
            "nibp_escalated_interval_min": self.nibp_escalated_interval_min,
            "temperature_interval_min": self.temperature_interval_min,
        }
        cadences.update({f"nibp_intervals_min[{i}]": v for i, v in enumerate(self.nibp_intervals_min)})
        for name, value in cadences.items():
            if value < 1:
                raise ValueError(f"{name} {value} must be at least 1")
        for name in ("busy_bout_min", "busy_ramp_min", "busy_settle_min", "busy_heart_rate_rise"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} {(low, high)} must be a range (low, high) with 0 < low <= high")
        if self.busy_bouts_per_day < 0 or self.busy_breaths_rise < 0:
            raise ValueError("busy_bouts_per_day and busy_breaths_rise must be 0 or more")
        slot_min = 12 * 60 / max(self.busy_bouts_per_day, 1)
        longest = self.busy_bout_min[1] + self.busy_settle_min[1]
        if longest > slot_min:
            raise ValueError(
                f"a bout and its settling ({longest:g} min) must fit in its slot of "
                f"{slot_min:g} min (12 daytime hours / busy_bouts_per_day)"
            )
        for name in ("icans_onset_days", "neuro_interval_h"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} {(low, high)} must be a range (low, high) with 0 < low <= high")
        for name, value in self.icans_share_by_product.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"icans_share_by_product[{name}] {value} must be between 0 and 1")
        if not 0.0 <= self.lab_panel_local_hour < 24.0:
            raise ValueError(f"lab_panel_local_hour {self.lab_panel_local_hour} must be in 0–24")
        if not self.nibp_intervals_min:
            raise ValueError("nibp_intervals_min needs at least one interval")
        if not self.product_mix or min(self.product_mix.values()) < 0 or sum(self.product_mix.values()) <= 0:
            raise ValueError("product_mix needs non-negative weights that add up to more than 0")
        unknown = set(self.product_mix) - set(PRODUCTS)
        if unknown:
            raise ValueError(f"product_mix names unknown products {sorted(unknown)}; known: {sorted(PRODUCTS)}")
        return self

    @property
    def window_s(self) -> int:
        """Length of the simulated window in seconds."""
        return int(round(self.days * 86_400))
