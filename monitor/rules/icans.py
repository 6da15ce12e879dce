"""The `icans` rule: the ASTCT ICANS grade of the neurological assessment in force, with an
episode of its own beside `crs` (issue 21).

ICANS is graded beside CRS, never folded into it: it can come without CRS and outlast it, and
its treatment (corticosteroids, not tocilizumab) differs. Severity follows the grade as CRS's
does (grade 1 medium, 2 high, 3–4 critical, configurable); an ICE that has fallen by
`icans_ice_fall_points` from the patient's own best since therapy is at least
`icans_ice_fall_severity` at any grade, because a fall from the patient's own best comes first
(handwriting goes first, CARTOX) and a hospital that lowers grade 1's severity keeps it.

No persistence: an assessment is a discrete, charted judgement, not a sensor sample to confirm,
so the alert comes with the assessment that shows the change. It resolves once grade 0 (ICE 10
or not scored, every other domain normal) has held for `icans_resolve_after_h` — at grade 0 the
ICE is 10 or unscored, so it is within a point of any best: a separate "ICE back near the best"
condition would add nothing. The rule watches a patient for `icans_watch_days` after therapy
(monitor/neuro_watch.py) and follows an episode opened in the watch to its end.
"""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.grading.icans import DOMAINS, WORDS
from monitor.neuro import NeuroState
from monitor.neuro_watch import in_watch
from monitor.organs.reasons import with_lab_context
from monitor.patient_state import Patient
from monitor.rules.registry import Rule
from monitor.wire import SEVERITY_RANK


def icans_severity(grade: int, config: EngineConfig) -> str | None:
    if grade >= 3:
        return config.icans_grade_3_4_severity
    if grade == 2:
        return config.icans_grade_2_severity
    if grade == 1:
        return config.icans_grade_1_severity
    return None


def ice_fall(neuro: NeuroState, therapy_at: float | None) -> int:
    """How far the ICE in force is below the patient's best since therapy (0 if not below)."""
    ice, best = neuro.current.ice, neuro.best_since(therapy_at)
    return 0 if ice is None or best is None else max(best[0] - ice, 0)


def icans_level(patient: Patient, config: EngineConfig) -> Level | None:
    neuro, at = patient.neuro, patient.clock
    # Grade 0 means an ICE of 10 or none, so no fall either: most steps of an assessed patient
    # (the rule levels at every vital sign) end here.
    if neuro is None or at is None or neuro.grade.grade == 0:
        return None
    if not (in_watch(patient, at, config) or patient.episodes["icans"].open):
        return None
    grade = neuro.grade.grade
    severity = icans_severity(grade, config)
    if ice_fall(neuro, patient.therapy_at) >= config.icans_ice_fall_points and (
        severity is None or SEVERITY_RANK[severity] < SEVERITY_RANK[config.icans_ice_fall_severity]
    ):
        severity = config.icans_ice_fall_severity
    if severity is None:
        return None
    return Level(severity, grade, lambda: icans_reasons(neuro, patient.therapy_at), at_once=True)


def icans_reasons(neuro: NeuroState, therapy_at: float | None) -> tuple[str, ...]:
    """Each abnormal domain with the grade it gives, those that set the grade first:
    "ICE 5 (was 10 at 08:00): grade 2", "awakens only to touch: grade 3"."""
    graded, current = neuro.grade, neuro.current
    order = sorted(DOMAINS, key=lambda domain: -graded.by_domain[domain])  # stable: table order
    reasons = []
    for domain in order:
        points = graded.by_domain[domain]
        if domain == "ice":
            if current.ice is None or (points == 0 and ice_fall(neuro, therapy_at) == 0):
                continue
            reasons.append(f"{ice_words(neuro, therapy_at)}: grade {points}")
        elif points:
            reasons.append(f"{WORDS[(domain, getattr(current, domain))]}: grade {points}")
    return tuple(reasons)


def ice_words(neuro: NeuroState, therapy_at: float | None) -> str:
    """ "ICE 5", with the patient's best since therapy when the ICE is below it."""
    ice, best = neuro.current.ice, neuro.best_since(therapy_at)
    if ice is None or best is None or best[0] <= ice:
        return f"ICE {ice}"
    then = datetime.fromtimestamp(best[1], timezone.utc)
    now = datetime.fromtimestamp(neuro.current.at, timezone.utc)
    when = then.strftime("%H:%M") if then.date() == now.date() else then.strftime("%H:%M on %d %b")
    return f"ICE {ice} (was {best[0]} at {when})"


def icans_timing(config: EngineConfig) -> Timing:
    return Timing(0.0, config.icans_downgrade_after_h * 3600, config.icans_resolve_after_h * 3600)


RULE = Rule(
    name="icans",
    precedence=1,
    timing=icans_timing,
    ward_level=False,
    level=lambda f: with_lab_context(icans_level(f.patient, f.config), f.patient, f.config),
    enabled=lambda config: config.icans_rule,
)
