"""The rules: what each finds in an assessment, as a Level the episode machine can follow.

- `crs`: the provisional ASTCT grade in the CRS risk period, severity by policy, raised to
  `high` by an early warning (monitor/trends.py) and, by default, never below what NEWS2 alone
  would say. A measured fever opens it at once.
- `news2`: the NEWS2 response levels, for patients without an open CRS episode ("outside
  CRS"); inside one, NEWS2 speaks through the CRS episode instead.
- `deterioration` (`deterioration_rule`): the hourly deterioration warning in NEWS2's place,
  with NEWS2's confirmed response levels as its floor; inside CRS, through the CRS episode.
- `signal_loss`: a continuous source silent or at zero (monitor/signals.py).
"""

from __future__ import annotations

from monitor.assessment import Assessment, oxygen_in_force
from monitor.config import EngineConfig
from monitor.episodes import Level
from monitor.grading.astct import DEVICE_WORDS
from monitor.parameters import (
    MEAN_ARTERIAL, RESPIRATORY_RATE, SPO2, SYSTOLIC, TEMPERATURE, HEART_RATE, describe,
)
from monitor.patient_state import Patient
from monitor.scores.news2 import COMPONENTS
from monitor.severity import crs_severity, news2_severity
from monitor.signals import lost_signals
from monitor.wire import SEVERITY_RANK
from monitor.trends import EarlyWarning

_NEWS2_VALUE = {"respiratory_rate": RESPIRATORY_RATE, "spo2": SPO2, "systolic_bp": SYSTOLIC,
                "heart_rate": HEART_RATE, "temperature": TEMPERATURE}


def crs_level(patient: Patient, a: Assessment, early: EarlyWarning, config: EngineConfig,
              episode_open: bool, ward: Level | None = None) -> Level | None:
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
                return ward._replace(grade=a.grade, explain=lambda: (
                    "no CRS grade now",) + ward.explain())
            return None
        severity = news2_severity(a.news2_band, config)
    if severity is None:
        return None
    if (ward is not None and config.deterioration_rule
            and SEVERITY_RANK[ward.severity] > SEVERITY_RANK[severity]):
        # A graded patient sliding by the other measurements (the warning leaves the fever
        # to the grade in a risk period): the warning raises the episode, as a trend does.
        return Level(ward.severity, a.grade, lambda: crs_reasons(patient, a, early, config)
                     + ward.explain(), at_once=True)
    # No persistence for a fever (ASTCT counts it at once) nor for an early warning (a trend
    # over hours already persists); the other criteria must hold, against motion and noise.
    raised_by_trend = warned and severity != graded
    return Level(severity, a.grade, lambda: crs_reasons(patient, a, early, config),
                 at_once=raised_by_trend or (a.grade == 1 and a.fever))


def crs_reasons(patient: Patient, a: Assessment, early: EarlyWarning,
                config: EngineConfig) -> tuple[str, ...]:
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


def news2_level(patient: Patient, a: Assessment, config: EngineConfig) -> Level | None:
    severity = news2_severity(a.news2_band, config)
    if severity is None:
        return None
    return Level(severity, None, lambda: news2_reasons(patient, a, config))


def news2_reasons(patient: Patient, a: Assessment, config: EngineConfig) -> tuple[str, ...]:
    reasons = [f"NEWS2 {a.news2_score} ({a.news2_band.replace('_', '-')} band)"
               + ("" if a.news2_complete else ", some parameters missing")]
    for name, points in zip(COMPONENTS, a.news2_components):
        if points < 2:
            continue
        if name in _NEWS2_VALUE:
            reasons.append(f"{describe(_NEWS2_VALUE[name], patient.value[_NEWS2_VALUE[name]])} "
                           f"scores {points}")
        elif name == "air_or_oxygen":
            reasons.append(f"on oxygen scores {points}")
        elif name == "consciousness":
            reasons.append(f"consciousness {patient.consciousness} (ACVPU) scores {points}")
    return tuple(reasons)


def deterioration_level(patient: Patient, a: Assessment, warned: Level | None,
                        floor: tuple[str, int, int] | None, config: EngineConfig) -> Level | None:
    """The deterioration rule: the hourly warning's level (`warned`), never below NEWS2's own
    response once a repeat observation confirms it (`floor`: its severity, "medium" or
    "high", the NEWS2 score it holds from, and the score as it reads it now;
    monitor/deterioration/news2_floor.py)."""
    if floor is None:
        return warned
    name, threshold, score = floor
    severity = (config.deterioration_high_severity if name == "high"
                else config.deterioration_medium_severity)
    if warned is not None and SEVERITY_RANK[warned.severity] >= SEVERITY_RANK[severity]:
        return warned
    response = "emergency response" if name == "high" else "urgent clinical review"
    read = "" if score == a.news2_score else f" without the temperature's {a.news2_score - score}"
    said = (f"NEWS2 {score}{read} on repeat observations (≥ {threshold}: {response}, RCP 2017)"
            if score >= threshold else
            f"NEWS2 ≥ {threshold} on repeat observations ({response}, RCP 2017), now {score}{read}")
    return Level(severity, None, lambda: (said,) + news2_reasons(patient, a, config)[1:],
                 at_once=True)


def signal_loss_level(patient: Patient, config: EngineConfig) -> Level | None:
    if True not in patient.lost:
        return None
    return Level(config.signal_loss_severity, None, lambda: lost_signals(patient, config),
                 at_once=True)
