"""The ASTCT 2019 ICANS grade (monitor/grading/icans.py), row by row and domain by domain.

Expected grades are read off the consensus table (Lee et al. 2019, as ../shared/CLINICAL.md
copies it), not off the code: each domain alone at each of its values, the ICE bands at both
edges, the two ways to ICE 0, and the worst domain winning over the others.
"""

from __future__ import annotations

import pytest

from monitor.grading.icans import grade_icans, ice_grade


@pytest.mark.parametrize(
    ("ice", "grade"),
    [
        (10, 0),
        (9, 1),
        (7, 1),
        (6, 2),
        (3, 2),
        (2, 3),
        (1, 3),
        (0, 3),
    ],
)
def test_the_ice_bands(ice, grade):
    # 7–9 grade 1, 3–6 grade 2, 0–2 grade 3; 10 is normal.
    assert ice_grade(ice) == grade
    result = grade_icans(ice=ice)
    assert result.grade == grade
    assert result.set_by == (() if grade == 0 else ("ice",))


@pytest.mark.parametrize(
    ("arousal", "grade"),
    [
        ("alert", 0),
        ("spontaneous", 1),
        ("voice", 2),
        ("touch", 3),
        ("vigorous", 4),
        ("unarousable", 4),
    ],
)
def test_depressed_consciousness(arousal, grade):
    result = grade_icans(arousal=arousal)
    assert result.grade == grade
    assert result.set_by == (() if grade == 0 else ("arousal",))


@pytest.mark.parametrize(
    ("domain", "value", "grade"),
    [
        ("seizure", "none", 0),
        ("seizure", "resolved", 3),
        ("seizure", "prolonged", 4),
        ("motor", "none", 0),
        ("motor", "deep_focal_weakness", 4),
        ("cerebral_edema", "none", 0),
        ("cerebral_edema", "focal", 3),
        ("cerebral_edema", "diffuse", 4),
    ],
)
def test_seizure_motor_and_oedema(domain, value, grade):
    result = grade_icans(ice=10, arousal="alert", **{domain: value})
    assert result.grade == grade
    assert result.by_domain[domain] == grade
    assert result.set_by == (() if grade == 0 else (domain,))


def test_ice_0_from_global_aphasia_in_an_awake_patient_is_grade_3():
    assert grade_icans(ice=0, arousal="alert").grade == 3
    assert grade_icans(ice=0, arousal="spontaneous").grade == 3


def test_ice_0_because_unarousable_is_grade_4_by_the_consciousness_domain():
    result = grade_icans(ice=0, arousal="unarousable")
    assert result.grade == 4
    assert result.set_by == ("arousal",)
    # the patient who cannot be assessed at all: no ICE, unarousable
    assert grade_icans(ice=None, arousal="unarousable").grade == 4


def test_the_worst_domain_sets_the_grade_and_every_domain_at_it_is_named():
    # ICE 8 (1), awakens to voice (2), a seizure that resolved (3): grade 3, by the seizure
    result = grade_icans(ice=8, arousal="voice", seizure="resolved")
    assert result.grade == 3
    assert result.set_by == ("seizure",)
    assert result.by_domain == {"ice": 1, "arousal": 2, "seizure": 3, "motor": 0, "cerebral_edema": 0}
    # two domains at the worst: both set it, in the table's order
    both = grade_icans(ice=5, arousal="voice")
    assert (both.grade, both.set_by) == (2, ("ice", "arousal"))
    # grade 4 by motor weakness in an otherwise grade-1 patient
    assert grade_icans(ice=9, arousal="spontaneous", motor="deep_focal_weakness").grade == 4


def test_a_domain_not_assessed_scores_nothing():
    assert grade_icans().grade == 0
    assert grade_icans(ice=None, arousal=None, seizure=None).set_by == ()
