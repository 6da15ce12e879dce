"""The cohort benchmark's ICANS and AKI figures (bench/cohort.py, issues 20 and 21): every truth
point gets the engine's answer, agreement is counted against the truth, and the figures say
"not available" / "not registered" rather than fail while the engine has no such part or rule."""

from __future__ import annotations

import dataclasses

import bench.cohort as cohort
from bench.cohort import Figures, organ_figures, run_cohort, split_by_patient
from monitor.engine import Engine
from simulator import Simulation, SimulationSettings
from tests.test_cohort_matching import T0, H, alert, truth


def test_every_neuro_assessment_and_creatinine_result_gets_the_engines_answer():
    simulation = Simulation(SimulationSettings(patients=4, days=1, seed=2, numerics_interval_s=300))
    run = run_cohort(simulation, Engine())
    points = {(t.patient_id, at, "icans") for t in simulation.truths for at, _ in t.icans}
    points |= {(t.patient_id, at, "aki") for t in simulation.truths for at, _ in t.aki}
    in_window = {p for p in points if p[1] >= simulation.settings.start}
    assert in_window and in_window <= set(run.organ)  # a status follows each of them
    assert all(value is None or 0 <= value <= 4 for value in run.organ.values())
    assert run.kinds["lab"] > 0 and run.kinds["neuro"] > 0


def organ_truth(patient_id: str, kind: str, icans=(), aki=(), icans_max=0, aki_max=0):
    return dataclasses.replace(
        truth(patient_id, kind), icans=tuple(icans), aki=tuple(aki), icans_max_grade=icans_max, aki_max_stage=aki_max
    )


def test_without_the_parts_and_rules_the_figures_say_so(monkeypatch):
    monkeypatch.setattr(cohort, "RULES", ("crs", "news2"))
    patients = split_by_patient([organ_truth("A", "stable", icans=[(T0 + H, 0)], aki=[(T0 + 2 * H, 0)])], [])
    figures = Figures()
    organ_figures(figures, patients, {("A", T0 + H, "icans"): None, ("A", T0 + 2 * H, "aki"): None})
    text = "\n".join(figures.lines)
    assert "ICANS grade agreement: not available" in text and "AKI stage agreement: not available" in text
    assert "rule 'icans' not registered" in text and "rule 'aki' not registered" in text


def test_agreement_and_false_alerts_per_control_day(monkeypatch):
    monkeypatch.setattr(cohort, "RULES", ("crs", "icans", "aki"))
    ill = organ_truth("B", "crs", icans=[(T0 + H, 0), (T0 + 9 * H, 2), (T0 + 18 * H, 3)], icans_max=3)
    control = organ_truth("C", "stable", icans=[(T0 + H, 0), (T0 + 10 * H, 0)], aki=[(T0 + 6 * H, 0)])
    engine = {
        ("B", T0 + H, "icans"): 0,
        ("B", T0 + 9 * H, "icans"): 2,
        ("B", T0 + 18 * H, "icans"): 2,
        ("C", T0 + H, "icans"): 0,
        ("C", T0 + 10 * H, "icans"): 1,
        ("C", T0 + 6 * H, "aki"): 0,
    }
    alerts = [
        alert("C", T0 + 10 * H, rule="icans"),
        alert("C", T0 + 11 * H, "updated", rule="icans"),
        alert("B", T0 + 18 * H, rule="icans", episode="n1"),
    ]
    figures = Figures()
    organ_figures(figures, split_by_patient([ill, control], alerts), engine)
    text = "\n".join(figures.lines)
    # 5 ICANS points: B 0=0, 2=2, 3 vs 2 (lower); C 0=0, 0 vs 1 (higher): 3 exact.
    assert "ICANS grade agreement: 3/5 = 60 % of 5 points exact" in text
    assert "where the truth is >= 1: 1/2 = 50 %" in text and "engine lower 1, higher 1" in text
    assert "AKI stage agreement: 1/1 = 100 %" in text
    # One firing on the one control over its 2 monitored days; B is no control.
    assert "false icans alerts (firing) per control patient-day: 1 in 2.0 days (1 stable" in text
    assert "= 0.500" in text
    assert "false aki alerts (firing) per control patient-day: 0 in 2.0 days" in text
    # B's course shows grade >= 1 from 9 h and was alerted at 18 h; C's two changes count against it.
    assert "icans: courses whose data show it alerted (medium+): 1/1 = 100 %" in text
    assert "medium+ changes on patients whose data never show it: 2 in 2.0 days = 1.000" in text


def test_icans_alerts_are_kept_out_of_the_deterioration_figures(monkeypatch):
    """A stable patient's ICANS is not a false CRS or NEWS2 alert, and a CRS patient's ICANS
    episode is not a second firing of the CRS course: the organ rules are matched apart."""
    monkeypatch.setattr(cohort, "RULES", ("crs", "icans"))
    stable = organ_truth("S", "stable", icans=[(T0 + 5 * H, 2)], icans_max=2)
    course = dataclasses.replace(
        truth("R", "crs", start=T0 + 2 * H, end=T0 + 20 * H, onset=T0 + 3 * H),
        icans=((T0 + 10 * H, 1),),
        icans_max_grade=1,
    )
    patients = split_by_patient(
        [stable, course],
        [
            alert("S", T0 + 5 * H, rule="icans"),
            alert("S", T0 + 7 * H, severity="low", rule="neuro_overdue"),
            alert("R", T0 + 3 * H),
            alert("R", T0 + 10 * H, rule="icans", episode="n"),
        ],
    )
    assert not patients[0].false and [a.rule for a in patients[0].organ] == ["icans", "neuro_overdue"]
    assert patients[1].firings() == 1 and [a.rule for a in patients[1].organ] == ["icans"]
    figures = Figures()
    organ_figures(figures, patients, {})
    assert "icans: courses whose data show it alerted (medium+): 2/2 = 100 %" in "\n".join(figures.lines)
