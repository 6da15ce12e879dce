"""The deterioration warning (issue 12): features, score, reasons, alert dynamics, weights file.

Patients here are built by hand from a stable day of vital signs, so that each test states
the physiology it checks (a slide, a walk, an artifact) rather than an output copied from a
run.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitor.config import EngineConfig
from monitor.deterioration import alerting
from monitor.deterioration import features as feat
from monitor.deterioration import model as dmodel
from monitor.parameters import (
    COUNT,
    DIASTOLIC,
    HEART_RATE,
    MEAN_ARTERIAL,
    RESPIRATORY_RATE,
    SPO2,
    SYSTOLIC,
    TEMPERATURE,
)
from monitor.scores import news2 as chart

STABLE = {
    HEART_RATE: 78.0,
    SYSTOLIC: 128.0,
    DIASTOLIC: 70.0,
    MEAN_ARTERIAL: 88.0,
    TEMPERATURE: 36.9,
    SPO2: 97.0,
    RESPIRATORY_RATE: 15.0,
}


def stable_hours(hours: int = feat.HOURS) -> np.ndarray:
    block = np.full((hours, COUNT), np.nan)
    for column, value in STABLE.items():
        block[:, column] = value
    return block


def sliding_hours() -> np.ndarray:
    """Stable for 16 h, then over the last 8 h a septic slide: heart rate and respiratory rate
    up, pressures down, temperature up, SpO2 down — each step small, none alone dramatic."""
    block = stable_hours()
    ramp = np.linspace(0.0, 1.0, 9)[1:]  # the last 8 hours
    block[-8:, HEART_RATE] += 34 * ramp
    block[-8:, RESPIRATORY_RATE] += 9 * ramp
    block[-8:, SYSTOLIC] -= 30 * ramp
    block[-8:, MEAN_ARTERIAL] -= 20 * ramp
    block[-8:, TEMPERATURE] += 1.6 * ramp
    block[-8:, SPO2] -= 4 * ramp
    return block


@pytest.fixture(scope="module")
def shipped() -> dmodel.Model:
    return dmodel.load()


# -- features -------------------------------------------------------------------------------
def test_a_stable_normal_patient_has_no_feature_at_all() -> None:
    f = feat.compute(stable_hours())
    assert f.values.shape == (1, len(feat.FEATURES))
    assert np.all(f.values == 0)


def test_without_data_nothing_contributes(shipped: dmodel.Model) -> None:
    empty = np.full((feat.HOURS, COUNT), np.nan)
    assert np.all(feat.compute(empty).values == 0)
    assert dmodel.assess(shipped, empty).score == 0


def test_the_trend_is_the_change_over_six_hours_of_a_steady_rise() -> None:
    """Heart rate rising r per hour: the recent median (last 3 h) sits at t−1, the past median
    (t−8 … t−6) at t−7, so the trend reads 6·r."""
    block = stable_hours()
    rate = 3.0
    block[:, HEART_RATE] = 70 + rate * np.arange(feat.HOURS)
    f = feat.compute(block)
    heart = feat.CHANNELS.index("heart_rate")
    assert f.trend[0, heart] == pytest.approx(feat.TREND_H * rate)
    assert f.values[0, feat.FEATURES.index("heart_rate_trend")] == pytest.approx(6 * rate)


def test_one_artifact_hour_makes_no_trend() -> None:
    block = stable_hours()
    block[-1, HEART_RATE] = 160.0  # one hour's median off (a probe artifact that stuck)
    f = feat.compute(block)
    assert f.values[0, feat.FEATURES.index("heart_rate_trend")] == 0
    assert f.values[0, feat.FEATURES.index("heart_rate_from_baseline")] == 0


def test_a_fall_in_pressure_counts_and_a_rise_does_not() -> None:
    falling, rising = stable_hours(), stable_hours()
    falling[-3:, SYSTOLIC] -= 25
    rising[-3:, SYSTOLIC] += 25
    column = feat.FEATURES.index("systolic_bp_trend")
    assert feat.compute(falling).values[0, column] == pytest.approx(25)
    assert feat.compute(rising).values[0, column] == 0


def test_features_are_capped() -> None:
    block = stable_hours()
    block[-3:, HEART_RATE] += 300  # no heart does this; a broken feed might
    f = feat.compute(block)
    assert f.values[0, feat.FEATURES.index("heart_rate_trend")] == feat._CAP["heart_rate"]  # noqa: SLF001


def test_news2_points_are_the_chart_s_on_values_carried_four_hours() -> None:
    block = stable_hours()
    block[-4:, RESPIRATORY_RATE] = np.nan  # last measured 4 h ago: still current
    block[-5, RESPIRATORY_RATE] = 26.0
    block[-6:, TEMPERATURE] = np.nan  # last measured 6 h ago: no longer current
    block[-7, TEMPERATURE] = 39.5
    f = feat.compute(block, on_oxygen=True)
    row = dict(zip(feat.FEATURES, f.values[0]))
    assert row["news2_respiratory_rate"] == chart.respiration_points(26.0) == 3
    assert row["news2_temperature"] == 0
    assert row["news2_air_or_oxygen"] == chart.air_or_oxygen_points(True)
    assert row["news2_spo2"] == chart.spo2_points(STABLE[SPO2])


def test_the_engine_s_minutes_give_the_harness_s_hours() -> None:
    """One reading an hour, placed in its hour's minutes, gives back the hourly array: the
    engine (per-minute medians) and the harness (hourly rows) compute the same features."""
    hours = sliding_hours()
    minutes = np.full((feat.HOURS * 60, COUNT), np.nan)
    minutes[17::60] = hours  # one reading in minute 17 of every hour
    assert np.allclose(feat.hourly_medians(minutes), hours, equal_nan=True)
    assert np.allclose(feat.compute(feat.hourly_medians(minutes)).values, feat.compute(hours).values)


def test_many_moments_at_once_equal_one_at_a_time() -> None:
    blocks = np.stack([stable_hours(), sliding_hours()])
    together = feat.compute(blocks, np.array([False, True])).values
    assert np.allclose(together[0], feat.compute(blocks[0], False).values[0])
    assert np.allclose(together[1], feat.compute(blocks[1], True).values[0])


# -- score and reasons -------------------------------------------------------------------------
def test_a_sliding_patient_scores_higher_than_a_stable_one(shipped: dmodel.Model) -> None:
    stable = dmodel.assess(shipped, stable_hours())
    sliding = dmodel.assess(shipped, sliding_hours())
    assert stable.score == 0
    assert sliding.score > shipped.thresholds["high_open"]
    assert sliding.reasons


def test_contributions_sum_to_the_score_and_reasons_come_largest_first(shipped: dmodel.Model) -> None:
    a = dmodel.assess(shipped, sliding_hours(), on_oxygen=True, top=5)
    assert sum(a.contributions.values()) == pytest.approx(a.score)
    assert all(value >= 0 for value in a.contributions.values())
    quoted = [float(reason.rsplit("[+", 1)[1].rstrip("]")) for reason in a.reasons]
    assert quoted == sorted(quoted, reverse=True)
    by_measurement: dict[str, float] = {}
    for name, value in a.contributions.items():
        group = dmodel.group_of(name)
        by_measurement[group] = by_measurement.get(group, 0.0) + value
    assert quoted[0] == pytest.approx(max(by_measurement.values()), abs=0.005)


def test_each_measurement_is_named_once_among_the_reasons(shipped: dmodel.Model) -> None:
    a = dmodel.assess(shipped, sliding_hours(), on_oxygen=True, top=10)
    for label in ("temperature", "heart rate", "respiratory rate", "shock index"):
        assert sum(reason.startswith(label) for reason in a.reasons) <= 1


def test_a_reason_names_the_measurement_and_its_change() -> None:
    block = stable_hours()
    block[-3:, HEART_RATE] += 22
    f = feat.compute(block)
    assert dmodel.describe("heart_rate_trend", f) == "heart rate +22/min over 6 h"
    block = stable_hours()
    block[-3:, MEAN_ARTERIAL] -= 15
    f = feat.compute(block)
    assert dmodel.describe("mean_arterial_pressure_from_baseline", f) == ("MAP −15 mmHg from baseline 88")


def test_a_worse_value_never_lowers_the_score(shipped: dmodel.Model) -> None:
    """Weights ≥ 0 on one-sided features: the score is monotone in each vital sign's
    direction of deterioration."""
    base = dmodel.assess(shipped, sliding_hours()).score
    for column, step in (
        (HEART_RATE, 10),
        (RESPIRATORY_RATE, 3),
        (TEMPERATURE, 0.5),
        (SYSTOLIC, -10),
        (MEAN_ARTERIAL, -8),
        (SPO2, -2),
    ):
        worse = sliding_hours()
        worse[-3:, column] += step
        assert dmodel.assess(shipped, worse).score >= base - 1e-12


# -- the walking patient ---------------------------------------------------------------------
def _minutes_of_a_day_with_walks(days: int = 2, walk_min: int = 30, every_h: int = 3, seed: int = 1) -> np.ndarray:
    """Per-minute medians of a patient on a 1 Hz monitor (noise included) who walks or does
    physiotherapy every few hours: heart rate +28/min, respiratory rate +4/min for 30 minutes,
    no fever, pressures and SpO2 unchanged."""
    rng = np.random.default_rng(seed)
    total = days * 24 * 60
    minutes = np.full((total, COUNT), np.nan)
    for column, value in STABLE.items():
        minutes[:, column] = value + rng.normal(0, 0.8 if column != TEMPERATURE else 0.05, total)
    for start in range(90, total, every_h * 60):
        minutes[start : start + walk_min, HEART_RATE] += 28
        minutes[start : start + walk_min, RESPIRATORY_RATE] += 4
    return minutes


def _hourly_run(m: dmodel.Model, minutes: np.ndarray, dynamics: alerting.Dynamics) -> list:
    state = alerting.AlertState.new()
    severities = []
    for end in range(feat.HOURS * 60, len(minutes) + 1, 60):
        hourly = feat.hourly_medians(minutes[end - feat.HOURS * 60 : end])
        severities.append(state.step(dmodel.assess(m, hourly).score, dynamics))
    return severities


def test_a_walking_patient_gets_no_medium_or_high_alert(shipped: dmodel.Model) -> None:
    dynamics = alerting.Dynamics.from_thresholds(shipped.thresholds)
    assert set(_hourly_run(shipped, _minutes_of_a_day_with_walks(), dynamics)) == {None}


def test_the_same_rise_sustained_with_fever_does_alert(shipped: dmodel.Model) -> None:
    """The walking test passes because a walk is brief, not because the model ignores heart
    and respiratory rate: the same rise held for hours, with a fever, raises an alert."""
    minutes = _minutes_of_a_day_with_walks(every_h=100)  # one walk only, early
    minutes[-8 * 60 :, HEART_RATE] += 28
    minutes[-8 * 60 :, RESPIRATORY_RATE] += 8
    minutes[-8 * 60 :, TEMPERATURE] += 1.8
    minutes[-8 * 60 :, SYSTOLIC] -= 20
    dynamics = alerting.Dynamics.from_thresholds(shipped.thresholds)
    assert {"medium", "high"} & set(_hourly_run(shipped, minutes, dynamics))


# -- dynamics --------------------------------------------------------------------------------
DYNAMICS = alerting.Dynamics(
    medium_open=1.0,
    medium_resolve=0.8,
    high_open=2.0,
    high_resolve=1.5,
    medium_persistence_h=2,
    medium_resolve_h=3,
    high_persistence_h=2,
    high_resolve_h=2,
)


def _run(scores: list[float]) -> list:
    state = alerting.AlertState.new()
    return [state.step(s, DYNAMICS) for s in scores]


def test_one_hour_above_threshold_does_not_open_two_do() -> None:
    assert _run([1.2, 0.0, 1.2, 0.0]) == [None] * 4
    assert _run([1.2, 1.2]) == [None, "medium"]
    assert _run([2.5, 2.5]) == [None, "high"]


def test_a_dip_shorter_than_the_resolve_hysteresis_keeps_the_alert() -> None:
    # open, then 2 h below the resolve threshold (3 needed), then back: still one alert
    severities = _run([1.2, 1.2, 0.5, 0.5, 1.2, 0.5, 0.5, 0.5])
    assert severities == [None, "medium", "medium", "medium", "medium", "medium", "medium", None]


def test_between_resolve_and_open_thresholds_the_alert_stays() -> None:
    assert _run([1.2, 1.2] + [0.9] * 10)[-1] == "medium"


def test_high_steps_down_to_medium_before_it_resolves() -> None:
    severities = _run([2.5, 2.5, 1.2, 1.2, 1.2, 0.0, 0.0, 0.0])
    assert severities[:2] == [None, "high"]
    assert severities[3] == "medium"
    assert severities[-1] is None


def test_simulate_is_step_by_step() -> None:
    scores = np.array([0.0, 1.2, 2.5, 2.5, 1.2, 0.0, 0.0, 0.0, 0.0])
    medium, high = alerting.simulate(scores, DYNAMICS)
    stepped = _run(scores.tolist())
    assert medium.tolist() == [s is not None for s in stepped]
    assert high.tolist() == [s == "high" for s in stepped]


def test_alert_state_round_trips() -> None:
    state = alerting.AlertState.new()
    for score in (1.2, 1.2, 2.5):
        state.step(score, DYNAMICS)
    state.hour = 493_000
    again = alerting.AlertState.from_list(json.loads(json.dumps(state.as_list())))
    assert again == state


def test_inconsistent_dynamics_are_refused() -> None:
    with pytest.raises(ValueError):
        alerting.Dynamics(medium_open=2.0, medium_resolve=1.0, high_open=1.0, high_resolve=0.5)
    with pytest.raises(ValueError):
        alerting.Dynamics(1.0, 0.5, 2.0, 1.5, medium_persistence_h=0)


# -- the weights file and the configuration -------------------------------------------------
def test_the_weights_file_round_trips(shipped: dmodel.Model, tmp_path) -> None:
    path = tmp_path / "weights.json"
    path.write_text(dmodel.to_json(shipped))
    again = dmodel.load(path)
    assert again.version == shipped.version and again.features == shipped.features
    assert np.array_equal(again.weights, shipped.weights)
    assert again.intercept == shipped.intercept and again.thresholds == shipped.thresholds
    assert dmodel.to_json(again) == dmodel.to_json(shipped)


def test_the_shipped_file_describes_itself(shipped: dmodel.Model) -> None:
    document = json.loads(dmodel.WEIGHTS_FILE.read_text())
    assert document["version"] and document["features"] == list(feat.FEATURES)
    for key in ("created", "training_data", "target", "model", "fitted_by"):
        assert document["about"][key]
    assert np.all(shipped.weights >= 0)


def test_a_file_for_other_features_is_refused(shipped: dmodel.Model) -> None:
    document = json.loads(dmodel.to_json(shipped))
    document["features"] = document["features"][::-1]
    with pytest.raises(ValueError):
        dmodel.from_json(json.dumps(document))
    document = json.loads(dmodel.to_json(shipped))
    document["format"] = "something else"
    with pytest.raises(ValueError):
        dmodel.from_json(json.dumps(document))


def test_the_configuration_defaults_are_the_fitted_thresholds(shipped: dmodel.Model) -> None:
    """Every one: the fit's search counts the hours the engine flags (its closing hours), so
    the engine no longer re-chooses the high open threshold (monitor/config.py)."""
    config = EngineConfig()
    assert alerting.from_config(config) == alerting.Dynamics.from_thresholds(shipped.thresholds)


# -- the engine's way in: the window's per-minute medians, one evaluation an hour -------------
def test_the_window_and_the_hourly_records_give_the_same_scores(shipped: dmodel.Model) -> None:
    """A patient charted once an hour into the engine's window scores, hour by hour, exactly
    what the harness computes from the hourly rows: the figures are the engine's."""
    from monitor.config import EngineConfig
    from monitor.deterioration.engine_rule import HourlyWarning
    from monitor.patient_state import Patient
    from monitor.window import ABSENT, Window, WindowLimits

    day = sliding_hours()
    # 38 h: a day and a half, the slide holding at its worst for two more hours (so that the
    # high machine's three evaluations in a row open it)
    hours = np.vstack([stable_hours(12), day, day[-1:], day[-1:]])
    start_hour = 480_000  # an epoch hour
    scores: dict = {}
    warning = HourlyWarning(EngineConfig(deterioration_weights=""), scores)
    patient = Patient("P", Window(WindowLimits()))
    engine_severity = []
    for index, values in enumerate(hours):
        at = (start_hour + index) * 3600 + 20 * 60  # charted 20 minutes into the hour
        patient.window.add(at, tuple(ABSENT if np.isnan(v) else float(v) for v in values) + (0.0,))
        warning.evaluate(patient, warning.first_due(at), news2=0, on_oxygen=False)  # the hour ends
        state = patient.deterioration
        engine_severity.append("high" if state.high.open else "medium" if state.medium.open else None)
    engine_scores = [scores[key].score for key in sorted(scores, key=lambda key: key[1])]
    assert len(engine_scores) == len(hours)
    padded = np.vstack([np.full((feat.HOURS - 1, COUNT), np.nan), hours])
    blocks = np.stack([padded[i : i + feat.HOURS] for i in range(len(hours))])
    harness_scores = dmodel.score(shipped, feat.compute(blocks).values)
    assert np.allclose(engine_scores, harness_scores, atol=0.02)  # window stores hundredths
    medium, high = alerting.simulate(harness_scores, warning.dynamics)
    assert [s is not None for s in engine_severity] == medium.tolist()
    assert [s == "high" for s in engine_severity] == high.tolist()
    assert engine_severity[-1] == "high"


def test_news2_of_seven_or_more_is_at_least_high_whatever_the_score() -> None:
    """RR 30/min, SpO2 90 %, systolic 95: NEWS2 3 + 3 + 2 = 8, an emergency by the RCP's
    chart, even if the fitted score is low."""
    score = 0.1
    news2 = chart.respiration_points(30) + chart.spo2_points(90) + chart.systolic_points(95)
    assert news2 >= DYNAMICS.news2_high_floor
    assert _run([score, score]) == [None, None]
    state = alerting.AlertState.new()
    assert [state.step(score, DYNAMICS, news2) for _ in range(2)] == [None, "high"]
    off = alerting.Dynamics(**{**DYNAMICS.as_dict(), "news2_high_floor": 0})
    state = alerting.AlertState.new()
    assert [state.step(score, off, news2) for _ in range(2)] == [None, None]
    state = alerting.AlertState.new()
    assert [state.step(score, DYNAMICS, DYNAMICS.news2_high_floor - 1) for _ in range(3)] == [None, None, None]


def test_the_default_setting_loads_the_shipped_file(shipped: dmodel.Model) -> None:
    assert dmodel.to_json(dmodel.load(EngineConfig().deterioration_weights)) == dmodel.to_json(shipped)
