"""The `deterioration` rule (`deterioration_rule`): the hourly deterioration warning in
NEWS2's place, with NEWS2's confirmed response levels as its floor; inside CRS, through the CRS
episode (it yields to `crs`, and the CRS rule reads its finding as the ward's).
"""

from __future__ import annotations

from monitor.assessment import Assessment, oxygen_in_force
from monitor.config import EngineConfig
from monitor.deterioration.engine_rule import HourlyWarning
from monitor.deterioration.news2_floor import ConfirmedNews2
from monitor.episodes import Level, Timing
from monitor.organs.reasons import with_lab_context
from monitor.patient_state import Patient
from monitor.rules.news2 import news2_reasons
from monitor.rules.registry import Rule
from monitor.wire import SEVERITY_RANK


def ward_finding(
    warning: HourlyWarning,
    floor: ConfirmedNews2,
    patient: Patient,
    a: Assessment,
    at: float,
    vitals: bool,
    config: EngineConfig,
) -> Level | None:
    """Score the hour if it is due, let the NEWS2 floor observe the step, and level the
    patient: the finding the `deterioration` and `crs` rules read in this step."""
    if at >= patient.deterioration_due:
        warning.evaluate(patient, at, a.news2_score, oxygen_in_force(patient)[0], a.risk_period)
    floor_score = floor.score_of(a)
    floor.observe(patient, at, floor_score, vitals)
    severity = floor.severity(patient)
    return deterioration_level(
        patient,
        a,
        warning.level(patient),
        None if severity is None else (severity, floor.threshold(severity), floor_score),
        config,
    )


def deterioration_level(
    patient: Patient, a: Assessment, warned: Level | None, floor: tuple[str, int, int] | None, config: EngineConfig
) -> Level | None:
    """The deterioration rule: the hourly warning's level (`warned`), never below NEWS2's own
    response once a repeat observation confirms it (`floor`: its severity, "medium" or
    "high", the NEWS2 score it holds from, and the score as it reads it now;
    monitor/deterioration/news2_floor.py)."""
    if floor is None:
        return warned
    name, threshold, score = floor
    severity = config.deterioration_high_severity if name == "high" else config.deterioration_medium_severity
    if warned is not None and SEVERITY_RANK[warned.severity] >= SEVERITY_RANK[severity]:
        return warned
    response = "emergency response" if name == "high" else "urgent clinical review"
    read = "" if score == a.news2_score else f" without the temperature's {a.news2_score - score}"
    said = (
        f"NEWS2 {score}{read} on repeat observations (≥ {threshold}: {response}, RCP 2017)"
        if score >= threshold
        else f"NEWS2 ≥ {threshold} on repeat observations ({response}, RCP 2017), now {score}{read}"
    )
    return Level(severity, None, lambda: (said,) + news2_reasons(patient, a, config)[1:], at_once=True)


RULE = Rule(
    name="deterioration",
    precedence=1,
    # the hourly machines persist and resolve; the episode follows them at once
    timing=lambda config: Timing(0.0, 0.0, 0.0),
    level=lambda f: with_lab_context(f.ward, f.patient, f.config),  # monitor/organs/reasons.py
    enabled=lambda config: config.deterioration_rule,
    yields_to="crs",
)
