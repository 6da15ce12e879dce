"""Artifacts and gaps: single implausible samples open nothing, zeros are gaps, silence is
signal loss."""

from datetime import timedelta

from monitor.config import EngineConfig
from monitor.engine import Engine
from tests.support.clinical import Bedside


def febrile_patient(**config) -> Bedside:
    """Day 2 after CAR-T, febrile: a grade-1 CRS episode is open (severity medium)."""
    bed = Bedside(Engine(EngineConfig(**config)) if config else None)
    bed.therapy(bed.at(0))
    bed.vitals(bed.at(24 * 60), heart_rate=88, systolic_bp=125, spo2=97, respiratory_rate=16, temperature=38.3)
    assert [(a.status, a.severity) for a in bed.alerts] == [("firing", "medium")]
    return bed


def test_a_single_systolic_of_68_between_two_of_125_opens_nothing():
    bed = febrile_patient()
    for minutes, systolic in ((30, 125), (60, 68), (90, 125), (120, 124)):
        bed.vitals(bed.at(24 * 60 + minutes), systolic_bp=systolic, temperature=38.3)
    assert [(a.status, a.severity) for a in bed.alerts] == [("firing", "medium")]
    assert all(s.crs.grade == 1 and not s.crs.hypotension for s in bed.statuses[1:])
    assert bed.engine.counters(bed.patient_id)["artifacts"] == 1


def test_a_single_spo2_of_74_amid_97s_opens_nothing():
    bed = febrile_patient()
    for second in range(60, 1800, 60):
        bed.vitals(bed.at(24 * 60) + timedelta(seconds=second), spo2=74 if second == 600 else 97, heart_rate=88)
    assert [a.status for a in bed.alerts] == ["firing"]
    assert not any(s.crs.hypoxia for s in bed.statuses)
    assert bed.engine.counters(bed.patient_id)["artifacts"] == 1


def test_a_heart_rate_jumping_80_190_80_opens_nothing_at_any_cadence():
    for step in (timedelta(seconds=1), timedelta(seconds=60), timedelta(minutes=30)):
        bed = Bedside()
        when = bed.at(0)
        for heart_rate in (80, 81, 80, 190, 80, 79, 80):
            bed.vitals(when, heart_rate=heart_rate, respiratory_rate=16, spo2=97)
            when += step
        bed.advance(when + timedelta(hours=1))
        assert [a for a in bed.alerts if a.rule != "signal_loss"] == [], step
        assert max(s.latest["heart_rate"] for s in bed.statuses) < 100, step
        assert bed.engine.counters(bed.patient_id)["artifacts"] == 1, step


def test_the_same_jump_confirmed_by_the_next_reading_is_believed():
    bed = febrile_patient()
    bed.vitals(bed.at(24 * 60 + 30), systolic_bp=125, temperature=38.3)
    bed.vitals(bed.at(24 * 60 + 45), systolic_bp=82, temperature=38.3)
    assert bed.status().crs.grade == 1  # held: one reading
    bed.vitals(bed.at(24 * 60 + 60), systolic_bp=84, temperature=38.3)
    assert bed.status().crs.grade == 2  # confirmed by the next reading
    bed.advance(bed.at(24 * 60 + 70))
    assert [(a.status, a.severity, a.observed_at) for a in bed.alerts][-1] == (
        "updated",
        "high",
        bed.at(24 * 60 + 65),
    )  # within the 15-minute cycle


def test_a_gradual_fall_is_believed_at_once():
    bed = febrile_patient()
    for minutes, systolic in ((15, 112), (30, 101), (45, 89)):
        bed.vitals(bed.at(24 * 60 + minutes), systolic_bp=systolic, temperature=38.3)
    assert bed.status().crs.grade == 2
    bed.advance(bed.at(24 * 60 + 50))
    assert bed.alerts[-1].observed_at == bed.at(24 * 60 + 50)  # 5 minutes' persistence


def test_a_fever_in_the_risk_period_is_never_held_even_after_a_big_jump():
    bed = Bedside()
    bed.therapy(bed.at(0))
    bed.vitals(bed.at(60), temperature=36.2)
    bed.vitals(bed.at(120), temperature=39.6)  # 3.4 °C in an hour: implausible, but a fever
    assert [a.status for a in bed.alerts] == ["firing"]


def test_zero_is_a_gap_never_a_reading():
    bed = febrile_patient()
    bed.vitals(bed.at(24 * 60 + 1), heart_rate=0, spo2=0, systolic_bp=0, respiratory_rate=0)
    status = bed.status()
    assert status.latest["heart_rate"] == 88 and status.latest["spo2"] == 97
    assert status.latest["systolic_bp"] == 125 and status.news2.components["heart_rate"] == 0
    assert not status.crs.hypotension and not status.crs.hypoxia
    assert [a.status for a in bed.alerts] == ["firing"]
    assert bed.engine.counters(bed.patient_id)["gaps"] == 4


def continuous_spo2(bed: Bedside, start_minute: float, minutes: float, value: float = 97):
    for second in range(0, int(minutes * 60), 10):
        bed.vitals(bed.at(start_minute) + timedelta(seconds=second), spo2=value, heart_rate=80)


def test_a_continuous_source_silent_for_the_configured_time_raises_signal_loss_low():
    bed = Bedside()
    continuous_spo2(bed, 0, 5)
    last = bed.at(5) - timedelta(seconds=10)
    bed.advance(last + timedelta(seconds=299))
    assert bed.alerts == []
    bed.advance(last + timedelta(seconds=300))
    assert [(a.rule, a.status, a.severity) for a in bed.alerts] == [("signal_loss", "firing", "low")]
    alert = bed.alerts[0]
    assert alert.observed_at == last + timedelta(seconds=300)
    assert alert.episode_id == f"{bed.patient_id}:signal_loss:{'2026-11-23T08:09:50Z'}"
    assert any(reason.startswith("SpO2: no signal") for reason in alert.reasons)
    assert any(reason.startswith("heart rate: no signal") for reason in alert.reasons)


def test_a_source_sending_zeros_is_lost_too_and_comes_back_when_it_streams_again():
    bed = Bedside(Engine(EngineConfig(signal_loss_after_s=120)))
    continuous_spo2(bed, 0, 3)
    continuous_spo2(bed, 3, 4, value=0)  # the probe is off: the monitor sends zeros
    assert [(a.rule, a.status) for a in bed.alerts] == [("signal_loss", "firing")]
    assert bed.alerts[0].observed_at == bed.at(3) - timedelta(seconds=10) + timedelta(seconds=120)
    bed.vitals(bed.at(7), spo2=97)  # one reading is not a stream yet
    bed.advance(bed.at(9))
    assert len(bed.alerts) == 1
    continuous_spo2(bed, 10, 2)
    assert [(a.rule, a.status) for a in bed.alerts] == [("signal_loss", "firing"), ("signal_loss", "resolved")]


def test_spot_checks_are_never_a_lost_signal():
    bed = Bedside()
    for hour in range(12):
        bed.vitals(bed.at(hour * 60), heart_rate=80, systolic_bp=120, spo2=97, temperature=36.9)
    bed.advance(bed.at(24 * 60))
    assert bed.alerts == []
