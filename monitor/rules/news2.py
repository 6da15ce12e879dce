"""The `news2` rule: the NEWS2 response levels, for patients without an open CRS episode
("outside CRS"); inside one, NEWS2 speaks through the CRS episode instead. Off where the
deterioration rule (`deterioration_rule`) takes its place.
"""

from __future__ import annotations

from monitor.assessment import Assessment
from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.organs.reasons import with_lab_context
from monitor.parameters import HEART_RATE, RESPIRATORY_RATE, SPO2, SYSTOLIC, TEMPERATURE, describe
from monitor.patient_state import Patient
from monitor.rules.registry import Rule
from monitor.scores.news2 import COMPONENTS
from monitor.severity import news2_severity

_NEWS2_VALUE = {
    "respiratory_rate": RESPIRATORY_RATE,
    "spo2": SPO2,
    "systolic_bp": SYSTOLIC,
    "heart_rate": HEART_RATE,
    "temperature": TEMPERATURE,
}


def news2_level(patient: Patient, a: Assessment, config: EngineConfig) -> Level | None:
    severity = news2_severity(a.news2_band, config)
    if severity is None:
        return None
    return Level(severity, None, lambda: news2_reasons(patient, a, config))


def news2_reasons(patient: Patient, a: Assessment, config: EngineConfig) -> tuple[str, ...]:
    reasons = [
        f"NEWS2 {a.news2_score} ({a.news2_band.replace('_', '-')} band)"
        + ("" if a.news2_complete else ", some parameters missing")
    ]
    for name, points in zip(COMPONENTS, a.news2_components):
        if points < 2:
            continue
        if name in _NEWS2_VALUE:
            reasons.append(f"{describe(_NEWS2_VALUE[name], patient.value[_NEWS2_VALUE[name]])} scores {points}")
        elif name == "air_or_oxygen":
            reasons.append(f"on oxygen scores {points}")
        elif name == "consciousness":
            reasons.append(f"consciousness {patient.consciousness} (ACVPU) scores {points}")
    return tuple(reasons)


def news2_timing(config: EngineConfig) -> Timing:
    return Timing(
        config.news2_persistence_s, config.news2_downgrade_after_min * 60, config.news2_resolve_after_min * 60
    )


RULE = Rule(
    name="news2",
    timing=news2_timing,
    precedence=1,
    level=lambda f: with_lab_context(news2_level(f.patient, f.a, f.config), f.patient, f.config),
    enabled=lambda config: not config.deterioration_rule,
    yields_to="crs",
)
