"""The simulated ward's labs and ICANS courses (issues 20 and 21, outcome 6): contract-valid,
shaped as CLINICAL.md describes, with a ground truth the charted data bear out, reproducible,
and leaving every vital sign and CRS event of the ward as it was."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import timedelta

import numpy as np
import orjson
import pytest

from monitor.catalogue import CATALOGUE
from monitor.wire import LabEvent, NeuroEvent, decode_input, encode, format_timestamp
from simulator import ArtifactRates, Simulation, SimulationSettings
from simulator.course import CRS, DAY, HOUR, STABLE
from simulator.organ_truth import icans_grade

NO_ARTIFACTS = ArtifactRates().scaled(0)


@pytest.fixture(scope="module")
def ward():
    """Eight days, so that ICANS (days 3–8) and AKI after severe CRS fall inside the window;
    axi-cel only and every severe course with a creatinine rise, so that both are common. Coarse
    numerics: labs and assessments do not depend on them."""
    settings = SimulationSettings(
        patients=120,
        days=8,
        seed=11,
        crs_share=0.6,
        deterioration_share=0.1,
        numerics_interval_s=300,
        artifacts=NO_ARTIFACTS,
        busy_share=0.0,
        product_mix={"axi-cel-like": 1.0},
        aki_share_of_severe_crs=1.0,
        icans_share_of_post_therapy_stable=0.5,
    )
    simulation = Simulation(settings)
    return simulation, {truth.patient_id: truth for truth in simulation.truths}


def observations(patient, kind: str) -> list[tuple[int, dict]]:
    return [(at, fields) for at, fields in patient.observations if fields["type"] == kind]


def lab_values(patient, test: str) -> list[tuple[int, float]]:
    return [(at, fields["value"]) for at, fields in observations(patient, "lab") if fields["test"] == test]


# -- on the wire -------------------------------------------------------------------------------
def test_lab_and_neuro_events_are_contract_valid_in_canonical_units():
    simulation = Simulation(SimulationSettings(patients=20, days=2, seed=3))
    labs, neuro, last = [], [], None
    for message in simulation.events():
        if last is not None:
            assert message.ts >= last  # the labs and assessments join the ward in event time
        last = message.ts
        if isinstance(message, (LabEvent, NeuroEvent)):
            assert decode_input(encode(message, drop_none=True)) == message  # a replay line as it is
            (labs if isinstance(message, LabEvent) else neuro).append(message)
    assert len(labs) > 20 * 2 * 6 and len(neuro) > 20 * 2  # a panel a morning, 2–3 assessments a day
    for lab in labs:
        entry = CATALOGUE[lab.test]
        assert lab.unit == entry.unit and entry.within_bounds(lab.value)
    assert {lab.test for lab in labs} >= {"creatinine", "crp", "platelets", "ldh", "ferritin"}


# -- labs --------------------------------------------------------------------------------------
def test_every_patient_has_a_morning_panel_each_day_around_six(ward):
    """ALT is drawn in the morning panel only: once a day, 05:30–06:30 (UTC offset 0), on
    every day the patient is monitored at that hour."""
    simulation, _ = ward
    window = simulation.settings.window_s
    for patient in simulation.patients:
        mornings = [at for at, _ in lab_values(patient, "alt")]
        assert all(abs(at % DAY - 6 * HOUR) <= 0.5 * HOUR for at in mornings)
        days = [at // DAY for at in mornings]
        assert days == sorted(set(days))
        monitored = {
            d
            for d in range(int(window // DAY) + 1)
            if patient.begin + 0.5 * HOUR <= d * DAY + 6 * HOUR <= window - 0.5 * HOUR
        }
        assert monitored <= set(days), patient.patient_id


def test_patients_with_a_therapy_have_a_pre_therapy_panel_before_it(ward):
    simulation, _ = ward
    for patient in simulation.patients:
        therapy = patient.course.therapy_at
        if therapy is None:
            continue
        before = {fields["test"] for at, fields in observations(patient, "lab") if therapy - 2 * HOUR <= at < therapy}
        assert before >= {"ldh", "crp", "platelets", "creatinine"}, patient.patient_id


def test_crp_rises_within_a_day_of_the_fever_and_il6_jumps_after_tocilizumab(ward):
    simulation, _ = ward
    checked_crp = checked_il6 = 0
    for patient in simulation.patients:
        course = patient.course
        if course.kind != CRS:
            continue
        crp = lab_values(patient, "crp")
        before = [value for at, value in crp if at < course.start]
        within_a_day = [value for at, value in crp if course.start + 12 * HOUR <= at <= course.start + DAY]
        if before and within_a_day:
            # CRS grade 1 adds at least 40 mg/L at its peak, half of it within a day; own CRP ≤ 8.
            assert max(within_a_day) > max(before) + 15, patient.patient_id
            checked_crp += 1
        doses = [
            at for at, fields in course.events if fields["type"] == "medication" and fields["drug"] == "tocilizumab"
        ]
        il6 = lab_values(patient, "il6")
        if doses:
            last_before = [value for at, value in il6 if at <= doses[0]]
            day_after = [value for at, value in il6 if doses[0] + 12 * HOUR <= at <= doses[0] + 36 * HOUR]
            if last_before and day_after:
                assert max(day_after) > last_before[-1], patient.patient_id  # expected, not worsening
                checked_il6 += 1
    assert checked_crp >= 10 and checked_il6 >= 3


def test_some_severe_crs_courses_reach_one_and_a_half_times_their_creatinine_baseline(ward):
    simulation, truths = ward
    reached = 0
    for patient in simulation.patients:
        truth = truths[patient.patient_id]
        highest = max(value for _, value in lab_values(patient, "creatinine"))
        if patient.course.kind == CRS and patient.course.planned_grade >= 3:
            if highest >= 1.5 * truth.creatinine_baseline:
                reached += 1
                assert truth.aki_max_stage >= 1, patient.patient_id
                assert highest < 3.0 * truth.creatinine_baseline * 1.1  # planned 1.6–2.8 ×, noise ±8 %
        elif patient.course.kind == STABLE:
            # Noise alone (±8 % at most) never looks like AKI: KDIGO's 1.5 × or + 0.3 mg/dL.
            lowest = min(value for _, value in lab_values(patient, "creatinine"))
            assert highest < 1.5 * truth.creatinine_baseline and highest - lowest < 0.3
            assert truth.aki_max_stage == 0
    assert reached >= 2


def test_the_aki_truth_follows_kdigo_against_the_true_baseline(ward):
    """Stage 1 from 1.5 ×, stage 2 from 2 ×: checked on the true curve at each result."""
    simulation, truths = ward
    staged = 0
    for patient in simulation.patients:
        truth = truths[patient.patient_id]
        for (at, stage), (result_at, _) in zip(truth.aki, lab_values(patient, "creatinine")):
            true = float(patient.labs.true_value("creatinine", np.array([float(result_at)]))[0])
            ratio = true / truth.creatinine_baseline
            if ratio >= 2.0:
                assert stage >= 2
            elif ratio >= 1.5:
                assert stage == 1
            staged += stage > 0
    assert staged > 0


# -- ICANS -------------------------------------------------------------------------------------
def icans_patients(simulation):
    return [patient for patient in simulation.patients if patient.icans.grade]


def test_icans_starts_3_to_8_days_after_therapy_with_and_without_crs(ward):
    simulation, truths = ward
    patients = icans_patients(simulation)
    assert len(patients) >= 10
    for patient in patients:
        days = (patient.icans.onset - patient.course.therapy_at) / DAY
        assert 3.0 <= days <= 8.0, patient.patient_id
        first_abnormal = next(at for at, fields in observations(patient, "neuro") if icans_grade(fields) > 0)
        assert first_abnormal >= patient.icans.onset
    kinds = {patient.course.kind for patient in patients}
    assert kinds == {CRS, STABLE}  # some without CRS
    after_crs = [p for p in patients if p.course.kind == CRS and p.icans.onset > p.course.end]
    assert after_crs  # some after CRS has resolved
    severe = [p for p in patients if truths[p.patient_id].icans_max_grade >= 3]
    assert 0 < len(severe) < len(patients) / 2  # grade >= 3 in a minority


def test_the_writing_item_is_lost_first_and_regained_last(ward):
    simulation, _ = ward
    charted = 0
    for patient in icans_patients(simulation):
        for _, fields in observations(patient, "neuro"):
            items = fields.get("ice_items")
            if items is None or fields["ice"] == 10:
                continue
            charted += 1
            assert items["writing"] == 0, (patient.patient_id, fields)
            if fields["ice"] == 9:
                assert items == {"orientation": 4, "naming": 3, "commands": 1, "writing": 0, "attention": 1}
    assert charted >= 20


def test_steroids_follow_grade_2_and_bring_icans_back(ward):
    simulation, _ = ward
    recovered = 0
    for patient in icans_patients(simulation):
        steroids = [
            at
            for at, fields in patient.events
            if fields["type"] == "medication" and fields["drug"] == "corticosteroid" and at >= patient.icans.onset
        ]
        grades = [(at, icans_grade(fields)) for at, fields in observations(patient, "neuro")]
        if patient.icans.grade >= 2:  # given once the ICE score has fallen to 6 (grade 2)
            given = patient.icans.steroid_at
            assert given is not None and patient.icans.loss_at(given) >= 4, patient.patient_id
            assert (
                given in {float(at) for at in steroids}
                or round(given) in steroids
                or given >= simulation.settings.window_s
            )
        if patient.icans.grade == 1:
            assert not steroids  # grade 1: supportive care
        back = patient.icans.knots[0][-1]
        if back < simulation.settings.window_s:
            assert all(grade == 0 for at, grade in grades if at > back)
            recovered += 1
    assert recovered >= 3


def test_controls_and_crs_only_patients_score_ice_10_and_are_alert(ward):
    simulation, truths = ward
    assessments = 0
    for patient in simulation.patients:
        if patient.icans.grade or patient.course.kind not in (CRS, STABLE):
            continue
        neuro = observations(patient, "neuro")
        assert len(neuro) >= (simulation.settings.window_s - patient.begin) / (12 * HOUR) - 1
        gaps = np.diff([at for at, _ in neuro]) / HOUR
        assert gaps.min() >= 8 - 1 / 3600
        if not patient.course.consciousness:  # new confusion from CRS is not charted as ICANS
            assert gaps.max() <= 12 + 1 / 3600
        for _, fields in neuro:
            assert fields["ice"] == 10 and fields["arousal"] == "alert"
            assert fields.get("seizure", "none") == "none"
            assessments += 1
        assert truths[patient.patient_id].icans_max_grade == 0
    assert assessments > 500


def test_the_icans_truth_is_the_worst_domain_of_what_was_charted(ward):
    simulation, truths = ward
    for patient in simulation.patients:
        truth = truths[patient.patient_id]
        assert [grade for _, grade in truth.icans] == [
            icans_grade(fields) for _, fields in observations(patient, "neuro")
        ]
    # The ASTCT 2019 table (CLINICAL.md), domain by domain:
    assert icans_grade({"ice": 8, "arousal": "alert"}) == 1
    assert icans_grade({"ice": 9, "arousal": "voice"}) == 2  # arousal worse than ICE
    assert icans_grade({"ice": 0, "arousal": "alert"}) == 3  # awake, global aphasia
    assert icans_grade({"arousal": "unarousable"}) == 4  # ICE 0 because unarousable
    assert icans_grade({"ice": 10, "seizure": "resolved"}) == 3
    assert icans_grade({"ice": 10, "cerebral_edema": "diffuse"}) == 4
    assert (
        icans_grade({"ice_items": {"orientation": 4, "naming": 2, "commands": 1, "writing": 0, "attention": 0}}) == 1
    )  # items add up to ICE 7
    assert icans_grade({"ice": 6}) == 2 and icans_grade({"ice": 3}) == 2 and icans_grade({"ice": 2}) == 3


# -- reproducible, and the rest of the ward untouched -------------------------------------------
def digest(settings: SimulationSettings, keep) -> str:
    h = hashlib.sha256()
    for message in Simulation(settings).events():
        if keep(message):
            h.update(encode(message, drop_none=True))
    return h.hexdigest()


def is_new(message) -> bool:
    return isinstance(message, (LabEvent, NeuroEvent))


def test_the_same_seed_gives_the_same_labs_and_assessments_and_another_seed_others():
    settings = SimulationSettings(patients=12, days=2, seed=5, numerics_interval_s=600)
    assert digest(settings, is_new) == digest(settings, is_new)
    assert digest(settings, is_new) != digest(settings.model_copy(update={"seed": 6}), is_new)


def test_labs_and_neuro_leave_every_vital_sign_and_crs_event_as_it_was():
    on = SimulationSettings(patients=30, days=4, seed=7, numerics_interval_s=300, crs_share=0.5)
    off = on.model_copy(update={"labs_and_neuro": False})
    icans_steroids = defaultdict(set)
    for patient in Simulation(on).patients:
        for at, fields in patient.icans.medications:
            icans_steroids[patient.patient_id].add(int(round(at)))

    def old(message) -> bool:
        return not is_new(message) and not (
            getattr(message, "type", None) == "medication"
            and message.drug == "corticosteroid"
            and round(message.ts.timestamp() - on.start.timestamp()) in icans_steroids[message.patient_id]
        )

    assert digest(on, old) == digest(off, lambda message: True)


def test_the_truth_document_lists_aki_stages_and_icans_grades_with_their_times():
    simulation = Simulation(SimulationSettings(patients=6, days=1, seed=4, numerics_interval_s=600))
    document = orjson.loads(orjson.dumps(simulation.truth_document()))
    for truth, patient in zip(document["patients"], simulation.patients):
        neuro = [at for at, _ in observations(patient, "neuro")]
        creatinine = [at for at, _ in lab_values(patient, "creatinine")]
        start = simulation.settings.start
        assert [entry["at"] for entry in truth["icans"]] == [
            format_timestamp(start + timedelta(seconds=at)) for at in neuro
        ]
        assert [entry["at"] for entry in truth["aki"]] == [
            format_timestamp(start + timedelta(seconds=at)) for at in creatinine
        ]
        assert truth["creatinine_baseline"] == round(patient.labs.own["creatinine"], 3)
        assert truth["icans_max_grade"] == max((e["grade"] for e in truth["icans"]), default=0)
