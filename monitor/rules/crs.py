"""The `crs` rule: the provisional ASTCT grade in the CRS risk period, severity by policy,
raised to `high` by an early warning (monitor/trends.py) and, by default, never below what the
ward rule (NEWS2, or the deterioration warning) alone would say. A measured fever opens it at
once. The ward rules yield to it: in a patient watched as possible CRS, its episode speaks for
them (`takes_over`).
"""

from __future__ import annotations

from monitor import trends
from monitor.assessment import Assessment, oxygen_in_force
from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.grading.astct import DEVICE_WORDS
from monitor.organs.reasons import with_lab_context
from monitor.parameters import MEAN_ARTERIAL, SPO2, SYSTOLIC, TEMPERATURE, describe
from monitor.patient_state import Patient
from monitor.rules.news2 import news2_reasons, news2_timing
from monitor.rules.registry import Rule
from monitor.severity import crs_severity, news2_severity
from monitor.trends import EarlyWarning
from monitor.wire import SEVERITY_RANK


def crs_level(
    patient: Patient,
    a: Assessment,
    early: EarlyWarning,
    config: EngineConfig,
    episode_open: bool,
    ward: Level | None = None,
) -> Level | None:
    """With a CRS grade, the CRS policy sets the severity. Without one, in the risk period or
    while the episode is open, the ward rule does — NEWS2, or the deterioration warning
    (`ward`) where it is on: in a patient at risk of CRS every deterioration is watched as
    possible CRS, as one episode."""
    graded = crs_severity(a.grade, False, config)
    # A trend raises an episode; without a CRS grade it never opens one by itself.
    warned = bool(early) and a.grade < 3 and (a.grade > 0 or episode_open)
    severity = crs_severity(a.grade, warned, config)
    if severity is None and config.news2_within_crs_episode and (a.risk_period or episode_open):
        if config.deterioration_rule:
            if ward is not None:
                return ward._replace(grade=a.grade, explain=lambda: ("no CRS grade now",) + ward.explain())
            return None
        severity = news2_severity(a.news2_band, config)
    if severity is None:
        return None
    if ward is not None and config.deterioration_rule and SEVERITY_RANK[ward.severity] > SEVERITY_RANK[severity]:
        # A graded patient sliding by the other measurements (the warning leaves the fever
        # to the grade in a risk period): the warning raises the episode, as a trend does.
        return Level(
            ward.severity, a.grade, lambda: crs_reasons(patient, a, early, config) + ward.explain(), at_once=True
        )
    # No persistence for a fever (ASTCT counts it at once) nor for an early warning (a trend
    # over hours already persists); the other criteria must hold, against motion and noise.
    raised_by_trend = warned and severity != graded
    return Level(
        severity,
        a.grade,
        lambda: crs_reasons(patient, a, early, config),
        at_once=raised_by_trend or (a.grade == 1 and a.fever),
    )


def crs_reasons(patient: Patient, a: Assessment, early: EarlyWarning, config: EngineConfig) -> tuple[str, ...]:
    value = patient.value
    reasons = [f"provisional ASTCT grade {a.grade}" if a.grade else "no CRS grade now"]
    if a.fever:
        reasons.append(f"{describe(TEMPERATURE, value[TEMPERATURE])} >= {config.fever_celsius:.1f}")
    elif a.fever_not_required:
        reasons.append(f"fever no longer required: {patient.fever_lifted_by} given after fever")
    if patient.vasopressors or patient.vasopressin:
        pressors = f"{patient.vasopressors} vasopressor{'s' if patient.vasopressors != 1 else ''}"
        reasons.append(pressors + (" and vasopressin" if patient.vasopressin else ""))
    systolic, mean = value[SYSTOLIC], value[MEAN_ARTERIAL]
    if systolic is not None and systolic < config.hypotension_systolic_mmhg:
        reasons.append(f"{describe(SYSTOLIC, systolic)} < {config.hypotension_systolic_mmhg:g}")
    if mean is not None and mean < config.hypotension_map_mmhg:
        reasons.append(f"{describe(MEAN_ARTERIAL, mean)} < {config.hypotension_map_mmhg:g}")
    on_oxygen, device = oxygen_in_force(patient)
    if device is not None:
        flow = "" if patient.flow_l_min is None else f" {patient.flow_l_min:g} L/min"
        reasons.append(f"oxygen by {DEVICE_WORDS[device]}{flow}")
    elif on_oxygen:
        reasons.append("on oxygen (monitor), device not recorded")
    elif a.hypoxia and value[SPO2] is not None:
        reasons.append(f"{describe(SPO2, value[SPO2])} <= {config.hypoxia_spo2_percent:g} on air")
    reasons.extend(f"early warning: {reason}" for reason in early)
    if news2_severity(a.news2_band, config):
        reasons.extend(news2_reasons(patient, a, config))
    return tuple(reasons)


def early_warning_of(
    patient: Patient, a: Assessment, at: float, vitals: bool, crs_open: bool, config: EngineConfig
) -> tuple[Assessment, EarlyWarning]:
    """The assessment with the CRS early warning, and the warning. It is for a febrile
    risk-period patient, or one whose fever treatment has masked (ASTCT); the baseline stays
    while the episode is open."""
    early = trends.NONE
    if a.risk_period and (a.grade > 0 or a.fever_not_required):
        if vitals:
            _follow_trends(patient, a, at, config)
        if patient.early_warning:
            early = patient.early_warning
            a = a._replace(early_warning=True)
    elif not crs_open and (patient.baseline is not None or patient.early_warning):
        patient.baseline, patient.trend_at, patient.early_warning = None, None, trends.NONE
    return a, early


def _follow_trends(patient: Patient, a: Assessment, at: float, config: EngineConfig) -> None:
    """Recompute baseline and trends of a febrile risk-period patient every interval."""
    if patient.trend_at is not None and at < patient.trend_at + config.trend_interval_s:
        return
    window = patient.window
    if patient.baseline is None:
        patient.baseline = trends.baseline(window, at, config)
    patient.trend_at = at
    patient.early_warning = trends.early_warning(
        patient.value,
        trends.slopes(window, at, config),
        patient.baseline,
        a.shock_index,
        config,
    )


def watched_as_crs(patient: Patient, a: Assessment, config: EngineConfig) -> bool:
    """Whether the CRS episode speaks for the ward rules: an open one, or a patient in the
    risk period (`news2_within_crs_episode`)."""
    return config.news2_within_crs_episode and (patient.episodes["crs"].episode_id is not None or a.risk_period)


def crs_timing(config: EngineConfig) -> Timing:
    return Timing(config.crs_persistence_s, config.crs_downgrade_after_min * 60, config.crs_resolve_after_h * 3600)


RULE = Rule(
    name="crs",
    timing=crs_timing,
    precedence=0,
    graded=True,
    # lab context (CTCAE grade ≥ 2 in force) after the rule's own reasons: monitor/organs/reasons.py
    level=lambda f: with_lab_context(
        crs_level(f.patient, f.a, f.early, f.config, f.crs_open, f.ward), f.patient, f.config
    ),
    ungraded_timing=news2_timing,  # an episode that has had no CRS grade is a NEWS2 deterioration
    takes_over=watched_as_crs,
)
