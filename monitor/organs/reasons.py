"""Lab context in an alert's reasons: the organ toxicities in force when a clinical alert fires
(CRS, deterioration, NEWS2, AKI, ICANS): "platelets 42 ×10⁹/L, CTCAE grade 3".

Why in the reasons: the person paged reads the alert, not the status, and a fever with platelets
of 42 or a bilirubin five times the limit is a different bedside visit (bleeding risk, drug
doses, the liver in HLH-like syndromes). Why grade ≥ 2 only: grade 1 is common and mild after
lymphodepletion; naming it on every alert would bury the reasons that matter. Why on every
clinical rule: the page a nurse reads is the one that fired, and an AKI with platelets of 20
(no line without platelets first) or an ICANS with them (a bleed is on the differential of
confusion, and a lumbar puncture waits for them) is as different a visit as a CRS with them.
The technical rules (signal loss, an overdue assessment) carry no context. The rules ask this
module through `with_lab_context`, once, where their level is made (monitor/rules/); a patient
without labs gets the level it had, so its alerts are byte for byte what they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.catalogue import observation
from monitor.config import EngineConfig
from monitor.episodes import Level
from monitor.labs import LabHistory
from monitor.organs.ctcae import GRADED_TESTS, ctcae_grade

if TYPE_CHECKING:
    from monitor.patient_state import Patient

#: CTCAE grades from this one up are named in an alert's reasons.
NAMED_FROM_GRADE = 2
#: How a sentence writes a canonical unit that people write otherwise.
_UNIT_WORDS = {"10^9/L": "×10⁹/L"}


def lab_reasons(labs: LabHistory, at: float, config: EngineConfig) -> tuple[str, ...]:
    """A reason for each graded test whose result in force at `at` has grade ≥ 2, the highest
    grade first (the display order among equals): the worst is read first."""
    reasons: list[tuple[int, str]] = []
    for test in GRADED_TESTS:
        result = labs.latest(test, at)
        if result is None:
            continue
        grade = ctcae_grade(test, result.value, config)
        if grade is not None and grade >= NAMED_FROM_GRADE:
            entry = observation(test)
            number = f"{result.value:.{entry.digits}f}"
            reasons.append(
                (grade, f"{entry.label} {number} {_UNIT_WORDS.get(entry.unit, entry.unit)}, CTCAE grade {grade}")
            )
    return tuple(reason for _, reason in sorted(reasons, key=lambda item: -item[0]))


def with_lab_context(level: Level | None, patient: Patient, config: EngineConfig) -> Level | None:
    """The rule's level with the lab reasons after its own (the patient's clock is the step's
    moment); the very same level for a patient without labs."""
    labs = patient.labs
    if level is None or labs is None:
        return level
    explain, at = level.explain, patient.clock
    if at is None:
        return level
    return level._replace(explain=lambda: explain() + lab_reasons(labs, at, config))
