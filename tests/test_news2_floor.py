"""NEWS2's confirmed response levels under the deterioration warning (the default ward rule):
a patient who crashes between two hourly evaluations is paged within minutes on a monitor, at
the next set on an hourly chart, and a score wobbling at the threshold is one page."""

from __future__ import annotations

from datetime import timedelta

from monitor.config import EngineConfig
from monitor.engine import Engine
from tests.support.clinical import Bedside

STABLE = dict(heart_rate=78, systolic_bp=122, spo2=97, respiratory_rate=15, temperature=36.9)
NEWS2_6 = dict(STABLE, respiratory_rate=22, heart_rate=112, systolic_bp=100)  # 2 + 2 + 2
NEWS2_7 = dict(NEWS2_6, respiratory_rate=26)  # 3 + 2 + 2
NEWS2_5 = dict(NEWS2_6, systolic_bp=105)  # 2 + 2 + 1


def ward_pages(bed: Bedside) -> list[tuple]:
    return [(a.rule, a.status, a.severity, a.observed_at) for a in bed.alerts if a.rule != "signal_loss"]


def test_a_monitor_confirms_news2_6_within_five_minutes_as_medium() -> None:
    bed = Bedside()
    for minute in range(0, 5):
        bed.vitals(bed.at(minute), **NEWS2_6)
    assert ward_pages(bed) == []
    bed.vitals(bed.at(5), **NEWS2_6)
    assert ward_pages(bed) == [("deterioration", "firing", "medium", bed.at(5))]
    reasons = bed.alerts[-1].reasons
    assert reasons[0] == "NEWS2 6 on repeat observations (≥ 6: urgent clinical review, RCP 2017)"
    assert "systolic BP 100 mmHg scores 2" in reasons


def test_news2_7_is_high_and_falls_back_to_medium_at_once_without_a_new_page() -> None:
    bed = Bedside()
    for minute in range(0, 10):
        bed.vitals(bed.at(minute), **NEWS2_7)
    bed.vitals(bed.at(10), **NEWS2_6)
    assert ward_pages(bed) == [
        ("deterioration", "firing", "high", bed.at(5)),
        ("deterioration", "updated", "medium", bed.at(10)),
    ]


def test_an_hourly_chart_confirms_at_the_next_set_not_by_carrying_a_value_forward() -> None:
    bed = Bedside()
    bed.vitals(bed.at(0), **NEWS2_7)
    bed.advance(bed.at(50))  # the value is carried forward; nobody measured it again
    assert ward_pages(bed) == []
    bed.vitals(bed.at(60), **NEWS2_7)
    assert ward_pages(bed) == [("deterioration", "firing", "high", bed.at(60))]


def test_a_single_parameter_scoring_3_alone_is_left_to_the_warning() -> None:
    """RCP's single-parameter 3 (an urgent ward review) costs 17 % of ICU patient-hours as a
    floor (docs/deterioration-model.md): the floor starts at NEWS2 6."""
    bed = Bedside()
    for minute in range(0, 90):
        bed.vitals(bed.at(minute), **dict(STABLE, spo2=91))
    assert ward_pages(bed) == []


def test_a_score_wobbling_at_the_threshold_is_one_page() -> None:
    bed = Bedside()
    for minute in range(0, 180):
        values = NEWS2_6 if (minute // 10) % 2 == 0 else NEWS2_5  # 10 minutes each
        bed.vitals(bed.at(minute), **values)
    assert [p[:3] for p in ward_pages(bed)] == [("deterioration", "firing", "medium")]
    for minute in range(180, 245):
        bed.vitals(bed.at(minute), **NEWS2_5)
    assert [p[:3] for p in ward_pages(bed)] == [
        ("deterioration", "firing", "medium"),
        ("deterioration", "resolved", "medium"),
    ]
    assert ward_pages(bed)[-1][3] == bed.at(230)  # below 6 since minute 170: the release hour


def test_in_a_crs_risk_period_the_fever_is_the_grade_s_not_the_floor_s() -> None:
    """Fever 39.2 °C (2 points), respiratory rate 22 (2), pulse 112 (2), systolic 105 (1):
    NEWS2 7. Outside a risk period that is an emergency; after CAR-T cells it is CRS grade 1,
    medium by policy — unless a hospital counts the fever in the warning as well."""
    febrile = dict(NEWS2_5, temperature=39.2)
    outside = Bedside()
    for minute in range(0, 10):
        outside.vitals(outside.at(minute), **febrile)
    assert [p[:3] for p in ward_pages(outside)] == [("deterioration", "firing", "high")]

    at_risk = Bedside()
    at_risk.therapy(at_risk.at(-60))
    for minute in range(0, 10):
        at_risk.vitals(at_risk.at(minute), **febrile)
    assert [p[:3] for p in ward_pages(at_risk)] == [("crs", "firing", "medium")]

    counted = Bedside(Engine(EngineConfig(deterioration_counts_fever_in_risk_period=True)))
    counted.therapy(counted.at(-60))
    for minute in range(0, 10):
        counted.vitals(counted.at(minute), **febrile)
    assert [p[:3] for p in ward_pages(counted)] == [("crs", "firing", "medium"), ("crs", "updated", "high")]


def test_a_restart_in_the_middle_of_a_confirmation_changes_nothing() -> None:
    plain = Bedside()
    for minute in range(0, 8):
        plain.vitals(plain.at(minute), **NEWS2_7)
    first = Bedside()
    for minute in range(0, 3):
        first.vitals(first.at(minute), **NEWS2_7)
    restarted = Bedside(Engine())
    restarted.engine.restore(first.patient_id, first.engine.snapshot(first.patient_id))
    for minute in range(3, 8):
        restarted.vitals(restarted.at(minute), **NEWS2_7)
    assert ward_pages(restarted) == ward_pages(plain) != []


def test_the_news2_rule_is_still_there_for_a_hospital_that_turns_the_warning_off() -> None:
    bed = Bedside(Engine(EngineConfig(deterioration_rule=False)))
    for minute in range(0, 6):
        bed.vitals(bed.at(minute), **dict(STABLE, spo2=91))
    assert [p[:3] for p in ward_pages(bed)] == [("news2", "firing", "medium")]
    assert timedelta(0) < bed.alerts[0].observed_at - bed.at(0) <= timedelta(minutes=5)
