"""The provisional ASTCT grade (Lee et al. 2019), one vignette per row and rule of the table.

First the grading function alone, then the same vignettes through the engine, with the
clinical events that put oxygen, vasopressors and drugs in force.
"""

import pytest

from monitor.grading.astct import grade_crs
from tests.support.clinical import Bedside


@pytest.mark.parametrize(
    "vignette, expected",
    [
        # Row 1: fever, no hypotension, no hypoxia
        (dict(temperature=38.0), 1),
        (dict(temperature=39.4, systolic_bp=118, spo2=97), 1),
        # No fever: no CRS, whatever else
        (dict(temperature=37.9, systolic_bp=85), 0),
        (dict(temperature=37.2, device="non_rebreather"), 0),
        # Row 2: hypotension not requiring vasopressors (SBP < 90 or MAP < 65)
        (dict(temperature=38.5, systolic_bp=89), 2),
        (dict(temperature=38.5, systolic_bp=95, mean_arterial_pressure=64), 2),
        (dict(temperature=38.5, systolic_bp=90, mean_arterial_pressure=65), 1),  # edges are strict
        # Row 2: hypoxia needing low-flow cannula (≤ 6 L/min) or blow-by, or SpO2 ≤ 93 % on air
        (dict(temperature=38.5, device="nasal_cannula", flow_l_min=6), 2),
        (dict(temperature=38.5, device="nasal_cannula"), 2),
        (dict(temperature=38.5, device="blow_by"), 2),
        (dict(temperature=38.5, spo2=93), 2),
        (dict(temperature=38.5, spo2=94), 1),
        (dict(temperature=38.5, on_oxygen=True), 2),  # oxygen, device not named: the lowest that fits
        # Row 3: one vasopressor with or without vasopressin
        (dict(temperature=38.5, vasopressors=1), 3),
        (dict(temperature=38.5, vasopressors=1, vasopressin=True), 3),
        (dict(temperature=38.5, vasopressin=True), 3),  # vasopressin alone is one vasopressor
        # Row 3: high-flow cannula (> 6 L/min), face mask, non-rebreather or Venturi
        (dict(temperature=38.5, device="nasal_cannula", flow_l_min=6.5), 3),
        (dict(temperature=38.5, device="high_flow_nasal_cannula", flow_l_min=40), 3),
        (dict(temperature=38.5, device="face_mask"), 3),
        (dict(temperature=38.5, device="non_rebreather"), 3),
        (dict(temperature=38.5, device="venturi"), 3),
        # Row 4: several vasopressors (vasopressin not counted)
        (dict(temperature=38.5, vasopressors=2), 4),
        (dict(temperature=38.5, vasopressors=2, vasopressin=True), 4),
        # Row 4: positive pressure
        (dict(temperature=38.5, device="cpap"), 4),
        (dict(temperature=38.5, device="bipap"), 4),
        (dict(temperature=38.5, device="ventilator"), 4),
        # The more severe of hypotension and hypoxia sets the grade
        (dict(temperature=38.5, systolic_bp=85, device="face_mask"), 3),
        (dict(temperature=38.5, vasopressors=2, device="nasal_cannula", flow_l_min=2), 4),
        # The consensus's worked example: fever + one vasopressor + low-flow cannula = grade 3
        (dict(temperature=38.3, vasopressors=1, device="nasal_cannula", flow_l_min=2), 3),
        # Room air is no device
        (dict(temperature=38.5, device="room_air", spo2=97), 1),
    ],
)
def test_grade_from_one_moment(vignette, expected):
    assert grade_crs(**vignette).grade == expected


@pytest.mark.parametrize(
    "vignette, expected",
    [
        # Once antipyretics or anti-cytokine therapy are given, fever is no longer required
        (dict(temperature=37.1), 0),
        (dict(temperature=37.1, systolic_bp=86), 2),
        (dict(temperature=36.8, device="face_mask"), 3),
        (dict(temperature=None, vasopressors=3), 4),
        (dict(temperature=38.6), 1),  # a fever still counts
    ],
)
def test_fever_not_required_after_treatment(vignette, expected):
    assert grade_crs(fever_not_required=True, **vignette).grade == expected


# -- the same rules through the engine ---------------------------------------------------


def febrile_patient() -> Bedside:
    bed = Bedside()
    bed.therapy(bed.at(0))
    bed.vitals(bed.at(24 * 60), heart_rate=96, systolic_bp=118, spo2=97, respiratory_rate=18, temperature=38.4)
    return bed


def test_engine_fever_in_the_risk_period_is_grade_1():
    bed = febrile_patient()
    crs = bed.status().crs
    assert (crs.grade, crs.fever, crs.risk_period) == (1, True, True)


def test_engine_fever_outside_the_risk_period_is_no_crs_grade():
    bed = Bedside()
    bed.vitals(bed.at(0), heart_rate=96, temperature=38.9)
    assert bed.status().crs.grade == 0 and bed.status().crs.fever
    bed.therapy(bed.at(10))
    bed.vitals(bed.at(10 + 15 * 24 * 60), temperature=38.9)  # day 15: the risk period is over
    assert bed.status().crs.grade == 0 and not bed.status().crs.risk_period


def test_engine_worked_example_fever_one_vasopressor_low_flow_cannula_is_grade_3():
    bed = febrile_patient()
    bed.oxygen(bed.at(24 * 60 + 10), "nasal_cannula", 3)
    assert bed.status().crs.grade == 2
    bed.vasopressor(bed.at(24 * 60 + 20), count=1)
    crs = bed.status().crs
    assert (crs.grade, crs.hypotension, crs.hypoxia) == (3, True, True)


def test_engine_hypotension_without_pressors_is_grade_2_and_several_pressors_grade_4():
    bed = febrile_patient()
    bed.vitals(bed.at(24 * 60 + 15), systolic_bp=104)
    bed.vitals(bed.at(24 * 60 + 30), systolic_bp=86)
    assert bed.status().crs.grade == 2
    bed.vasopressor(bed.at(24 * 60 + 40), count=2, vasopressin=True)
    assert bed.status().crs.grade == 4
    bed.vasopressor(bed.at(24 * 60 + 50), count=0, vasopressin=True)
    assert bed.status().crs.grade == 3


@pytest.mark.parametrize(
    "device, flow, grade",
    [
        ("blow_by", None, 2),
        ("nasal_cannula", 6, 2),
        ("nasal_cannula", 8, 3),
        ("high_flow_nasal_cannula", 30, 3),
        ("face_mask", None, 3),
        ("non_rebreather", 15, 3),
        ("venturi", None, 3),
        ("cpap", None, 4),
        ("bipap", None, 4),
        ("ventilator", None, 4),
        ("room_air", None, 1),
    ],
)
def test_engine_oxygen_devices(device, flow, grade):
    bed = febrile_patient()
    bed.oxygen(bed.at(24 * 60 + 5), device, flow)
    assert bed.status().crs.grade == grade


def test_engine_the_latest_oxygen_event_is_in_force():
    bed = febrile_patient()
    bed.oxygen(bed.at(24 * 60 + 5), "face_mask")
    bed.oxygen(bed.at(24 * 60 + 6), "room_air")
    assert bed.status().crs.grade == 1
    bed.oxygen(bed.at(24 * 60 + 4), "cpap")  # an older event arriving late changes nothing
    assert bed.status().crs.grade == 1


@pytest.mark.parametrize("drug", ["tocilizumab", "siltuximab", "corticosteroid", "antipyretic"])
def test_engine_fever_lifted_by_treatment_given_after_fever(drug):
    bed = febrile_patient()
    bed.medication(bed.at(24 * 60 + 10), drug)
    bed.vitals(bed.at(24 * 60 + 60), temperature=37.0, systolic_bp=100)
    assert bed.status().crs.grade == 0 and not bed.status().crs.fever
    bed.vitals(bed.at(24 * 60 + 90), systolic_bp=87)
    crs = bed.status().crs
    assert (crs.grade, crs.fever, crs.hypotension) == (2, False, True)


def test_engine_antipyretic_lift_wears_off_but_tocilizumab_lasts():
    for drug, grade_after_a_day in (("antipyretic", 0), ("tocilizumab", 2)):
        bed = febrile_patient()
        bed.medication(bed.at(24 * 60 + 10), drug)
        bed.vitals(bed.at(24 * 60 + 60), temperature=37.0, systolic_bp=105)
        bed.vitals(bed.at(48 * 60), temperature=37.0, systolic_bp=100)
        bed.vitals(bed.at(48 * 60 + 20), temperature=37.0, systolic_bp=88)
        assert bed.status().crs.grade == grade_after_a_day, drug


def test_engine_premedication_before_any_fever_does_not_lift_the_fever_requirement():
    bed = Bedside()
    bed.therapy(bed.at(0))
    bed.medication(bed.at(1), "antipyretic")  # paracetamol before the infusion
    bed.vitals(bed.at(60), temperature=37.0, systolic_bp=110)
    bed.vitals(bed.at(90), temperature=37.0, systolic_bp=86)
    assert bed.status().crs.grade == 0 and bed.status().crs.hypotension


def test_engine_discharge_resolves_the_episode_and_forgets_the_patient():
    bed = febrile_patient()
    assert [a.status for a in bed.alerts] == ["firing"]
    bed.discharge(bed.at(24 * 60 + 30))
    assert [a.status for a in bed.alerts] == ["firing", "resolved"]
    assert bed.alerts[-1].reasons == ["patient discharged"]
    assert bed.patient_id not in bed.engine.patients()
