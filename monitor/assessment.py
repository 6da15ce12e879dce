"""One patient's assessment at one moment: NEWS2, shock index, qSOFA and the ASTCT grade,
from the values believed then and the clinical events in force."""

from __future__ import annotations

from typing import NamedTuple

from monitor.config import EngineConfig
from monitor.grading.astct import grade, hypotension, hypoxia
from monitor.parameters import (
    HEART_RATE,
    MEAN_ARTERIAL,
    RESPIRATORY_RATE,
    SPO2,
    SYSTOLIC,
    TEMPERATURE,
)
from monitor.patient_state import Patient
from monitor.scores.news2 import news2
from monitor.scores.shock import qsofa, shock_index


class Assessment(NamedTuple):
    news2_score: int
    news2_band: str
    news2_complete: bool
    news2_components: tuple[int, ...]
    shock_index: float | None
    qsofa: int | None
    grade: int
    fever: bool
    fever_not_required: bool
    hypotension: int
    hypoxia: int
    risk_period: bool
    on_oxygen: bool
    early_warning: bool = False

    def status_key(self) -> tuple:
        """What makes a new PatientStatus worth sending before the minute is up: the NEWS2 band
        (not the score, which flickers with every beat of a 1 Hz heart rate near a band edge),
        the CRS assessment and a positive qSOFA."""
        return (
            self.news2_band,
            self.news2_complete,
            self.grade,
            self.fever,
            self.hypotension > 0,
            self.hypoxia > 0,
            self.risk_period,
            self.early_warning,
            self.qsofa is not None and self.qsofa >= 2,
        )


def in_risk_period(patient: Patient, at: float, config: EngineConfig) -> bool:
    """Within `risk_period_days` of the latest therapy (CAR-T, bispecific, other, infection)."""
    started = patient.therapy_at
    return started is not None and started <= at < started + config.risk_period_days * 86400


def oxygen_in_force(patient: Patient) -> tuple[bool, str | None]:
    """Whether the patient is on oxygen, and the device to grade by.

    The newer of the oxygen event and the monitor's own `on_oxygen` flag decides; neither
    means air. A monitor saying "on oxygen" after a device was named keeps that device; one
    saying "off" after it overrides it.
    """
    device = None if patient.device in (None, "room_air") else patient.device
    flag, flag_at, device_at = patient.monitor_oxygen, patient.monitor_oxygen_at, patient.device_at
    # Each `_at` is set together with its value, so a flag or a device has one.
    if (
        flag is None
        or flag_at is None
        or (patient.device is not None and device_at is not None and device_at >= flag_at)
    ):
        return device is not None, device
    return flag, device if flag else None


def assess(patient: Patient, at: float, config: EngineConfig) -> Assessment:
    value = patient.value
    if patient.device is None and patient.monitor_oxygen is None:
        oxygen, device = False, None
    else:
        oxygen, device = oxygen_in_force(patient)
    rate, spo2, systolic = value[RESPIRATORY_RATE], value[SPO2], value[SYSTOLIC]
    pulse, temperature = value[HEART_RATE], value[TEMPERATURE]
    consciousness = patient.consciousness
    score, band, complete, components = news2(
        respiratory_rate=rate,
        spo2=spo2,
        on_oxygen=oxygen,
        systolic_bp=systolic,
        heart_rate=pulse,
        consciousness=consciousness,
        temperature=temperature,
        scale=patient.scale,
        key=config.news2_key_threshold,
        emergency=config.news2_emergency_threshold,
        red=config.news2_single_parameter_red,
    )

    risk = in_risk_period(patient, at, config)
    fever = temperature is not None and temperature >= config.fever_celsius
    lifted = patient.fever_lift_until is not None and at < patient.fever_lift_until
    pressure = hypotension(
        systolic,
        value[MEAN_ARTERIAL],
        patient.vasopressors,
        patient.vasopressin,
        config.hypotension_systolic_mmhg,
        config.hypotension_map_mmhg,
    )
    oxygen_need = hypoxia(
        device, patient.flow_l_min, oxygen, spo2, config.hypoxia_spo2_percent, config.low_flow_max_l_min
    )
    crs_grade = grade(fever, lifted, pressure, oxygen_need) if risk else 0
    return Assessment(
        score,
        band,
        complete,
        components,
        shock_index(pulse, systolic),
        qsofa(rate, systolic, consciousness, config.qsofa_respiratory_rate, config.qsofa_systolic_mmhg),
        crs_grade,
        fever,
        lifted,
        pressure,
        oxygen_need,
        risk,
        oxygen,
    )
