"""The `aki` rule: acute kidney injury by the KDIGO 2012 creatinine stage (monitor/kidney.py).

An episode opens at stage 1 (`aki_stage_1_severity`, medium), is updated at stage 2 (high) and
stage 3 (`aki_stage_3_severity`, high by default: docs/clinical-reference.md says why not
critical), and resolves once no AKI has been found for `aki_resolve_after_h`.

Why no persistence delay: a lab result is one discrete measurement that the laboratory has
already verified, not a per-second signal a motion artifact can spike; the stage holds until
the next result, so waiting would only delay the page. Why a long downgrade and resolve delay
instead: creatinine lags filtration by a day or two and is drawn about daily, so one lower
result is weak evidence of recovery; ending and reopening an episode on it would page twice
for one injury.

The stage is the patient's derived `kidney` part, set by the engine when a creatinine result
arrives (and on restore), so this level is a field read on every vital sign, never a
recomputation. The stage is carried as the Level's grade: a step from stage 2 to 3 at the same
severity is still an update whose reasons name the new stage (alerts carry no `crs_grade` for
this rule: it is not `graded`).
"""

from __future__ import annotations

from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.kidney import describe_stage
from monitor.organs.reasons import with_lab_context
from monitor.patient_state import Patient
from monitor.rules.registry import Rule


def aki_level(patient: Patient, config: EngineConfig) -> Level | None:
    """The latest creatinine's stage as a severity; None without a stage or at stage 0."""
    kidney = patient.kidney
    if kidney is None or kidney.stage == 0:
        return None
    severity = (config.aki_stage_1_severity, config.aki_stage_2_severity, config.aki_stage_3_severity)[kidney.stage - 1]
    return Level(severity, kidney.stage, lambda: (describe_stage(kidney, config),))


def aki_timing(config: EngineConfig) -> Timing:
    """No persistence (a result holds until the next), then the configured hysteresis."""
    return Timing(0.0, config.aki_downgrade_after_h * 3600, config.aki_resolve_after_h * 3600)


RULE = Rule(
    name="aki",
    timing=aki_timing,
    precedence=1,
    ward_level=False,
    level=lambda f: with_lab_context(aki_level(f.patient, f.config), f.patient, f.config),
    enabled=lambda config: config.aki_rule,
)
