"""CTCAE v5 grades of bilirubin, ALT, AST and platelets at each boundary the standard writes
(docs/clinical-reference.md, "Liver and blood"), against the local limits from configuration.

Boundaries as CTCAE writes them: bilirubin G1 > ULN – 1.5 × ULN, G2 > 1.5 – 3.0 ×, G3 > 3.0 –
10.0 ×, G4 > 10.0 ×; ALT/AST G1 > ULN – 3.0 ×, G2 > 3.0 – 5.0 ×, G3 > 5.0 – 20.0 ×, G4 > 20.0 ×;
platelets G1 < LLN – 75, G2 < 75 – 50, G3 < 50 – 25, G4 < 25 (10⁹/L). A value on a boundary
belongs to the milder grade."""

import pytest

from monitor.config import EngineConfig
from monitor.organs.ctcae import ctcae_grade

DEFAULT = EngineConfig()
EPSILON = 1e-6


@pytest.mark.parametrize(
    "test, uln, multiples",
    [
        ("bilirubin", 1.0, (1.0, 1.5, 3.0, 10.0)),
        ("alt", 40.0, (1.0, 3.0, 5.0, 20.0)),
        ("ast", 40.0, (1.0, 3.0, 5.0, 20.0)),
    ],
)
def test_uln_grades_change_just_above_each_multiple(test, uln, multiples):
    for grade, multiple in enumerate(multiples):  # on the multiple: still the milder grade
        assert ctcae_grade(test, multiple * uln, DEFAULT) == grade
        assert ctcae_grade(test, multiple * uln + EPSILON, DEFAULT) == grade + 1


def test_values_within_the_limit_are_grade_0_not_none():
    assert ctcae_grade("bilirubin", 0.4, DEFAULT) == 0
    assert ctcae_grade("alt", 12, DEFAULT) == 0
    assert ctcae_grade("platelets", 250, DEFAULT) == 0


def test_platelet_grades_at_each_count():
    cases = [(150, 0), (149.9, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (42, 3), (25, 3), (24.9, 4), (0, 4)]
    for count, grade in cases:
        assert ctcae_grade("platelets", count, DEFAULT) == grade, count


def test_limits_come_from_configuration():
    local = EngineConfig(bilirubin_uln_mg_dl=1.2, alt_uln_u_l=33, ast_uln_u_l=32, platelets_lln_10e9_l=140)
    assert ctcae_grade("bilirubin", 1.1, DEFAULT) == 1 and ctcae_grade("bilirubin", 1.1, local) == 0
    # 1.8 is exactly 1.5 × 1.2: grade 1, though 1.8 / 1.2 is 1.5000000000000002 in floating point
    assert ctcae_grade("bilirubin", 1.8, DEFAULT) == 2 and ctcae_grade("bilirubin", 1.8, local) == 1
    assert ctcae_grade("alt", 100, DEFAULT) == 1 and ctcae_grade("alt", 100, local) == 2  # > 3 × 33
    assert ctcae_grade("ast", 161, DEFAULT) == 2 and ctcae_grade("ast", 161, local) == 3  # > 5 × 32
    assert ctcae_grade("platelets", 145, DEFAULT) == 1 and ctcae_grade("platelets", 145, local) == 0


def test_platelet_grades_2_to_4_are_absolute_counts_whatever_the_lln():
    odd = EngineConfig(platelets_lln_10e9_l=60)  # a limit below 75 does not hide grade 2
    assert ctcae_grade("platelets", 70, odd) == 2
    assert ctcae_grade("platelets", 61, odd) == 2


def test_tests_without_a_ctcae_grade_here_have_none():
    for test in ("creatinine", "crp", "ferritin", "il6", "ldh", "lactate", "wbc"):
        assert ctcae_grade(test, 10.0, DEFAULT) is None
