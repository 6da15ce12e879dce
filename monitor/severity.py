"""The severity policy: which alarm priority each clinical finding earns (IEC 60601-1-8 words).

Kept apart from the rules so that a hospital's policy (configuration) and the clinical facts
(grading, scores) can change independently.
"""

from __future__ import annotations

from monitor.config import EngineConfig
from monitor.wire import SEVERITY_RANK


def stronger(first: str | None, second: str | None) -> str | None:
    """The higher of two severities; None counts as no severity."""
    if first is None:
        return second
    if second is None:
        return first
    return first if SEVERITY_RANK[first] >= SEVERITY_RANK[second] else second


def crs_severity(grade: int, early_warning: bool, config: EngineConfig) -> str | None:
    """Grade 1 → medium, grade 2 or an early warning → high, grade 3–4 → critical (defaults).
    An early warning counts at grade 0 too, for a patient whose fever antipyretics or
    anti-cytokine drugs mask: the caller decides when it applies."""
    if grade <= 0:
        return config.early_warning_severity if early_warning else None
    if grade >= 3:
        severity = config.crs_grade_3_4_severity
    elif grade == 2:
        severity = config.crs_grade_2_severity
    else:
        severity = config.crs_grade_1_severity
    return stronger(severity, config.early_warning_severity) if early_warning else severity


def news2_severity(band: str, config: EngineConfig) -> str | None:
    """A single parameter 3 → medium, 5–6 → high, ≥ 7 → critical (defaults); low band: none."""
    if band == "high":
        return config.news2_emergency_severity
    if band == "medium":
        return config.news2_key_threshold_severity
    if band == "low_medium":
        return config.news2_single_parameter_severity
    return None
