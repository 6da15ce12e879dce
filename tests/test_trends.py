"""Trends and the early warning: a febrile patient heading for grade 2 is escalated to high
before the grade-2 thresholds are crossed; fever's own tachycardia is not."""

from datetime import timedelta

import numpy as np

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.parameters import COUNT, SYSTOLIC
from monitor.trends import Trend, baseline, early_warning, slopes
from monitor.window import ABSENT, Window, WindowLimits
from tests.support.clinical import Bedside

T0 = 1_795_420_800.0
CONFIG = EngineConfig()


def systolic_row(value: float) -> tuple[float, ...]:
    row = [ABSENT] * (COUNT + 1)
    row[SYSTOLIC], row[COUNT] = value, 0.0
    return tuple(row)


def test_the_rate_is_the_resistant_line_and_one_outlier_does_not_bend_it():
    window = Window(WindowLimits())
    for minute in range(0, 180, 15):  # NIBP every 15 min, falling 12 mmHg an hour
        value = 130 - 12 * minute / 60
        window.add(T0 + minute * 60, systolic_row(55 if minute == 90 else value))
    rate = slopes(window, T0 + 179 * 60, CONFIG).rates[SYSTOLIC]
    assert rate is not None and abs(rate - (-12)) < 3


def test_no_rate_without_readings_in_the_first_and_last_third():
    window = Window(WindowLimits())
    for minute in (100, 110, 120):
        window.add(T0 + minute * 60, systolic_row(120))
    assert slopes(window, T0 + 179 * 60, CONFIG).rates[SYSTOLIC] is None


def test_the_baseline_is_the_median_of_the_day_before():
    window = Window(WindowLimits())
    rng = np.random.default_rng(2)
    for minute in range(0, 24 * 60, 30):
        window.add(T0 + minute * 60, systolic_row(float(rng.normal(128, 4))))
    window.add(T0 + 24 * 3600 + 60, systolic_row(70))  # after `before`: not in the baseline
    base = baseline(window, T0 + 24 * 3600, CONFIG)
    assert abs(base[SYSTOLIC] - 128) < 3
    assert all(base[i] is None for i in range(COUNT) if i != SYSTOLIC)


def test_fever_alone_warns_of_nothing_even_with_heart_rate_and_temperature_rising():
    current = [130.0, 118.0, None, None, 39.5, 96.0, 22.0]
    trend = Trend([20.0, -2.0, None, None, 1.0, 0.0, None], [128.0, 119.0, None, None, 39.4, 96.0, None])
    base = [80.0, 125.0, None, None, 36.8, 97.0, None]
    assert early_warning(current, trend, base, 130 / 118, CONFIG) == ()


def test_pressure_falling_below_baseline_warns_and_brings_the_supporting_signs():
    current = [118.0, 102.0, None, None, 39.2, 96.0, 22.0]
    trend = Trend([12.0, -11.0, None, None, 0.5, 0.0, None], [115.0, 104.0, None, None, 39.1, 96.0, None])
    base = [80.0, 125.0, None, None, 36.8, 97.0, None]
    reasons = early_warning(current, trend, base, 118 / 102, CONFIG)
    assert reasons[0].startswith("systolic BP falling 11.0 mmHg/h")
    assert "heart rate rising 12.0 /min/h (baseline 80)" in reasons
    assert any(reason.startswith("shock index 1.16") for reason in reasons)


def test_a_patient_recovering_towards_baseline_never_warns():
    current = [90.0, 128.0, None, None, 37.5, 97.0, 16.0]
    trend = Trend(
        [-10.0, -9.0, None, None, -0.5, -1.0, None],  # falling back to the baseline
        [92.0, 129.0, None, None, 37.6, 97.0, None],
    )
    base = [80.0, 125.0, None, None, 36.8, 97.0, None]
    assert early_warning(current, trend, base, 90 / 128, CONFIG) == ()


def test_saturation_well_below_baseline_for_an_hour_warns_without_a_slope():
    current = [100.0, 120.0, None, None, 38.6, 94.0, 20.0]
    trend = Trend([5.0, 0.0, None, None, 0.0, 0.0, None], [99.0, 121.0, None, None, 38.6, 94.0, None])
    base = [80.0, 125.0, None, None, 36.8, 97.0, None]
    assert early_warning(current, trend, base, 100 / 120, CONFIG) == (
        "SpO2 94 % over the last 30 min, 3 below baseline 97",
    )
    trend = Trend(trend.rates, [99.0, 121.0, None, None, 38.6, 96.0, None])
    assert early_warning(current, trend, base, 100 / 120, CONFIG) == ()


def ward_day(bed: Bedside, start_min: int, hours: float, **values) -> None:
    for minute in range(start_min, start_min + int(hours * 60), 15):
        bed.vitals(bed.at(minute), **values)


def test_a_falling_pressure_in_a_febrile_patient_warns_hours_before_grade_2():
    bed = Bedside()
    bed.therapy(bed.at(0))
    ward_day(bed, 0, 24, heart_rate=78, systolic_bp=128, spo2=97, respiratory_rate=15, temperature=36.8)
    start = 24 * 60
    below_90 = None
    for step in range(0, 5 * 4):  # febrile, systolic falling 8 mmHg an hour
        minute = start + step * 15
        systolic = 124 - 8 * step / 4
        if below_90 is None and systolic < 90:
            below_90 = bed.at(minute)
        bed.vitals(
            bed.at(minute), heart_rate=100 + step, systolic_bp=systolic, spo2=97, respiratory_rate=18, temperature=38.6
        )
    first_high = next(a for a in bed.alerts if a.severity == "high")
    assert first_high.status == "updated" and first_high.crs_grade == 1
    assert any("early warning: systolic BP falling" in reason for reason in first_high.reasons)
    assert below_90 is not None and below_90 - first_high.observed_at >= timedelta(hours=1)
    assert bed.status().early_warning is True


def test_a_febrile_patient_with_steady_pressure_and_saturation_stays_medium():
    bed = Bedside()
    bed.therapy(bed.at(0))
    ward_day(bed, 0, 24, heart_rate=70, systolic_bp=128, spo2=97, respiratory_rate=15, temperature=36.8)
    for step in range(0, 6 * 4):
        bed.vitals(
            bed.at(24 * 60 + step * 15),
            heart_rate=min(70 + 3 * step, 118),
            systolic_bp=124,
            spo2=97,
            respiratory_rate=19,
            temperature=min(38.1 + 0.1 * step, 39.6),
        )
    assert [(a.status, a.severity) for a in bed.alerts] == [("firing", "medium")]


def test_the_warning_applies_when_antipyretics_have_masked_the_fever():
    bed = Bedside()
    bed.therapy(bed.at(0))
    ward_day(bed, 0, 24, heart_rate=78, systolic_bp=128, spo2=97, respiratory_rate=15, temperature=36.8)
    bed.vitals(bed.at(24 * 60), temperature=38.7, systolic_bp=124)
    bed.medication(bed.at(24 * 60 + 5), "antipyretic")
    for step in range(1, 5 * 4):
        bed.vitals(
            bed.at(24 * 60 + step * 15),
            heart_rate=95,
            systolic_bp=124 - 8 * step / 4,
            spo2=97,
            respiratory_rate=18,
            temperature=37.4,
        )
    assert any(a.severity == "high" and a.crs_grade == 0 for a in bed.alerts)


def test_trends_can_be_tuned_off():
    config = EngineConfig(systolic_fall_per_h=1000, spo2_fall_per_h=1000, shock_index_abnormal=99)
    bed = Bedside(Engine(config))
    bed.therapy(bed.at(0))
    ward_day(bed, 0, 24, heart_rate=78, systolic_bp=128, spo2=97, respiratory_rate=15, temperature=36.8)
    for step in range(0, 4 * 4):
        bed.vitals(
            bed.at(24 * 60 + step * 15),
            heart_rate=100,
            systolic_bp=124 - 8 * step / 4,
            spo2=97,
            respiratory_rate=18,
            temperature=38.6,
        )
    assert all(a.severity == "medium" for a in bed.alerts)


def test_a_trend_alone_never_opens_an_episode():
    bed = Bedside()
    bed.therapy(bed.at(0))
    ward_day(bed, 0, 24, heart_rate=78, systolic_bp=128, spo2=97, respiratory_rate=15, temperature=36.8)
    bed.vitals(bed.at(24 * 60), temperature=38.7, systolic_bp=126, heart_rate=95)
    bed.medication(bed.at(24 * 60 + 5), "tocilizumab")  # lifts the fever requirement for days
    ward_day(bed, 24 * 60 + 15, 14, heart_rate=80, systolic_bp=126, spo2=97, respiratory_rate=15, temperature=37.0)
    assert [a.status for a in bed.alerts] == ["firing", "resolved"]  # 12 h without criteria
    for step in range(0, 4 * 4):  # pressure falling below baseline, still above 90
        bed.vitals(
            bed.at(39 * 60 + 15 * step),
            heart_rate=95,
            systolic_bp=124 - 8 * step / 4,
            spo2=97,
            respiratory_rate=16,
            temperature=37.0,
        )
    assert [a.status for a in bed.alerts] == ["firing", "resolved"]
    assert bed.status().early_warning is True  # shown on the dashboard, not paged
