"""The registry of alert rules: every place that needs the list of rules reads it here.

A rule is a `Rule`: its name, its timing (from configuration), how it levels a patient at a
step, and how it yields to another rule. The engine steps the registered rules; a patient's
episodes, the alert builder, the worker's open-episode gauge, validate's figures and the case
report take their rules from `REGISTRY`. docs/rules.md says how to add one.

Two orders, both declared here, because both reach output:
- registration order (`REGISTRY`, `RULES`): a patient's episodes, hence the snapshot's bytes
  and the order a discharge resolves them in. A new rule goes at the end: old snapshots then
  still read as they were written.
- step order (`precedence`, lower first, registration order among equals): the order the
  engine levels the rules in a step and publishes their alerts. CRS leads, because the ward
  rules yield to its episode in the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.trends import EarlyWarning

if TYPE_CHECKING:
    from monitor.assessment import Assessment
    from monitor.patient_state import Patient


@dataclass(slots=True)
class Findings:
    """What a step found before the rules level the patient: the assessment, the CRS early
    warning, whether a CRS episode was open at the start of the step, and the deterioration
    warning's finding (`ward`, None where that rule is off or finds nothing)."""

    patient: Patient
    a: Assessment
    config: EngineConfig
    early: EarlyWarning
    crs_open: bool
    ward: Level | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule, as the engine and every report see it."""

    #: The rule's name on the wire (`Alert.rule`), in episode ids and metric labels.
    name: str
    #: Persistence, downgrade and resolve delays, from configuration.
    timing: Callable[[EngineConfig], Timing]
    #: What the rule finds in a step: a Level the episode machine follows, or None.
    level: Callable[[Findings], Level | None]
    #: Lower steps first (see the module's docstring).
    precedence: int = 0
    #: Whether the rule is on under this configuration (off: no episode ever opens).
    enabled: Callable[[EngineConfig], bool] = lambda config: True
    #: Clinical: counted in validate's figures, its alerts carry the NEWS2 score. A technical
    #: rule (signal loss) says the monitoring is impaired, not the patient.
    clinical: bool = True
    #: Counted in validate's headline detectors (`crsmon ≥ medium`, `crsmon ≥ high`), which
    #: answer the bedside scores' question — is this patient deteriorating, from the vital
    #: signs and the CRS grade — like for like beside NEWS2, qSOFA and SIRS, and which site
    #: calibration tunes (validation/calibration.py moves the warning's thresholds; a burden the
    #: thresholds cannot move would make a target out of reach). An organ rule read from labs or
    #: bedside assessments (`aki`, `icans`) has its own row instead; on a sepsis cohort its
    #: labels are partly its own inputs (Sepsis-3 onset is a SOFA rise, creatinine included).
    ward_level: bool = True
    #: The rule's alerts carry the episode's CRS grade.
    graded: bool = False
    #: Timing of an episode that has had no grade (CRS: a ward deterioration inside CRS is
    #: timed as NEWS2); None: `timing` always.
    ungraded_timing: Callable[[EngineConfig], Timing] | None = None
    #: The rule whose episode speaks for this one while it `takes_over` (the ward rules yield
    #: to CRS): an open episode of this rule resolves into it, none opens meanwhile.
    yields_to: str | None = None
    #: For a rule others yield to: whether it speaks for them now, after its own step.
    takes_over: Callable[[Patient, Assessment, EngineConfig], bool] | None = None


def _registered() -> tuple[Rule, ...]:
    from monitor.rules import aki, crs, deterioration, icans, neuro_overdue, news2, signal_loss

    return (crs.RULE, news2.RULE, signal_loss.RULE, deterioration.RULE, aki.RULE, icans.RULE, neuro_overdue.RULE)


REGISTRY: tuple[Rule, ...] = _registered()
#: The rules' names in registration order (a patient's episodes, the snapshot's order).
RULES: tuple[str, ...] = tuple(rule.name for rule in REGISTRY)
RULE_NAMED: dict[str, Rule] = {rule.name: rule for rule in REGISTRY}
CLINICAL_RULES: frozenset[str] = frozenset(rule.name for rule in REGISTRY if rule.clinical)
TECHNICAL_RULES: frozenset[str] = frozenset(rule.name for rule in REGISTRY if not rule.clinical)
GRADED_RULES: frozenset[str] = frozenset(rule.name for rule in REGISTRY if rule.graded)


def in_step_order(config: EngineConfig) -> tuple[Rule, ...]:
    """The rules on under `config`, in the order a step levels them and publishes alerts."""
    return tuple(sorted((rule for rule in REGISTRY if rule.enabled(config)), key=lambda rule: rule.precedence))
