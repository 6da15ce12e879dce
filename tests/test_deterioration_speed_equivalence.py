"""The fast evaluation of the deterioration warning (hourly_medians' placement of lone values,
Window.hour_medians with the hours it keeps, features.compute_one/compute_hours,
model.score_moment/reasons, the engine's lazy reasons) gives exactly what
the code it replaced gave: the same hourly medians, features, score, contributions and reasons
— to the bit, signed zeros included — on the engine's real inputs from the PhysioNet sample and
on random days with all kinds of gaps. The replaced code is frozen in
tests/support/deterioration_reference.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.config import EngineConfig
from monitor.deterioration import engine_rule
from monitor.deterioration import features as feat
from monitor.deterioration import model as dmodel
from monitor.engine import Engine, Outputs
from monitor.parameters import COUNT
from monitor.wire import encode
from tests.support import deterioration_reference as ref
from validation.physionet import ColumnMap, read_stay
from validation.problems import Problems

DATA = Path(__file__).parent / "data" / "physionet2019"
ON = EngineConfig(deterioration_rule=True)
STAYS = 50  # of the 152 in the sample: about 1,800 engine evaluations


@pytest.fixture(scope="module")
def shipped() -> dmodel.Model:
    return dmodel.load()


@pytest.fixture(scope="module")
def stays() -> list:
    return [read_stay(path, ColumnMap(), Problems()) for path in sorted(DATA.glob("*.psv"))[:STAYS]]


def run(engine: Engine, stay) -> list:
    outputs = Outputs()
    for event in stay.events:
        outputs.extend(engine.observe(event))
    outputs.extend(engine.close(stay.patient_id, stay.start + timedelta(hours=stay.hours)))
    return outputs.alerts


@pytest.fixture(scope="module")
def engine_inputs(stays) -> list[tuple[np.ndarray, bool, list]]:
    """What the engine scored on the real stays: each evaluation's (1440, COUNT) per-minute
    medians from the window (the replaced conversion, read when the engine asked), its
    oxygen flag, and the hourly medians `Window.hour_medians` gave the engine."""
    from monitor.window import Window

    seen: list[tuple[np.ndarray, bool, list]] = []
    hours_of = Window.hour_medians

    def record_hours(window, end_minute, hours, columns):
        assert (hours, columns) == (feat.HOURS, feat.CHANNEL_COLUMNS)
        minutes = ref.minutes_until(window, end_minute, hours * 60)
        got = hours_of(window, end_minute, hours, columns)
        seen.append((minutes, False, got))
        return got

    compute_of = engine_rule.compute_hours

    def record_oxygen(hours, on_oxygen=False):
        seen[-1] = (seen[-1][0], bool(on_oxygen), seen[-1][2])
        return compute_of(hours, on_oxygen)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Window, "hour_medians", record_hours)
        patch.setattr(engine_rule, "compute_hours", record_oxygen)
        for stay in stays:
            run(Engine(ON), stay)
    assert len(seen) > 1000
    return seen


def random_minutes(rng: np.random.Generator) -> np.ndarray:
    """A day of per-minute medians with one of many shapes of gaps: charted hourly (one value
    an hour, sometimes a second one), a monitor every minute, a mix, columns missing, hours
    missing, nothing at all."""
    centre = np.array([85, 120, 65, 80, 37.2, 96, 18]) + rng.normal(0, 1, COUNT) * [25, 30, 10, 15, 1.2, 4, 6]
    minutes = centre + rng.normal(0, 1, (feat.HOURS * 60, COUNT)) * [8, 10, 6, 7, 0.3, 2, 3]
    minutes += np.linspace(0, 1, feat.HOURS * 60)[:, None] * rng.normal(0, 1, COUNT) * [30, 30, 15, 20, 1.5, 6, 8]
    kind = rng.integers(6)
    keep = np.zeros(minutes.shape, dtype=bool)
    if kind == 0:  # hourly charting, at a random minute of each hour
        for hour in range(feat.HOURS):
            keep[hour * 60 + rng.integers(60)] = True
    elif kind == 1:  # hourly, and now and then a second value in the hour
        for hour in range(feat.HOURS):
            keep[hour * 60 + rng.integers(60)] = True
            if rng.random() < 0.3:
                keep[hour * 60 + rng.integers(60), rng.integers(COUNT)] = True
    elif kind == 2:  # a monitor: most minutes of some columns
        keep[:, rng.random(COUNT) < 0.6] = True
        keep &= rng.random(minutes.shape) < 0.9
    elif kind == 3:  # sparse at random
        keep = rng.random(minutes.shape) < rng.choice([0.001, 0.005, 0.02])
    elif kind == 4:  # hourly with whole hours and whole columns missing
        for hour in range(feat.HOURS):
            keep[hour * 60 + rng.integers(60)] = rng.random(COUNT) < 0.7
        keep[rng.random(feat.HOURS * 60) < rng.random()] = False
    # kind 5: nothing at all
    minutes[~keep] = np.nan
    minutes = np.maximum(minutes, 0.5)
    if rng.random() < 0.5:  # the window's hundredths, so that equal values (and ties) occur
        minutes = np.round(minutes * rng.choice([1, 100])) / rng.choice([1, 100])
    return np.where(keep, minutes, np.nan)


def random_hourly(rng: np.random.Generator) -> np.ndarray:
    """(24, COUNT) hourly medians straight away: constant days (trends of exactly 0, −0.0
    after a falling channel's sign), NEWS2 band edges, gaps."""
    kind = rng.integers(3)
    if kind == 0:  # constant: every change is exactly zero
        hourly = np.tile([88.0, 115, 60, 78, 37.4, 95, 19], (feat.HOURS, 1))
    elif kind == 1:  # values on and around the chart's half steps
        edges = np.array([[90.5, 110.5, 60, 75, 38.05, 95.5, 20.5]])
        hourly = edges + rng.choice([-0.5, -0.05, 0, 0.05, 0.5], (feat.HOURS, COUNT))
    else:
        hourly = rng.normal([90, 110, 60, 75, 37.5, 95, 20], [30, 30, 10, 20, 1.5, 5, 8], (feat.HOURS, COUNT))
        hourly = np.maximum(hourly, 0.5)
    hourly = hourly.copy()
    hourly[rng.random(hourly.shape) < rng.choice([0.0, 0.2, 0.6, 0.95])] = np.nan
    return hourly


def same_array(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def check_one(
    model: dmodel.Model, hourly: np.ndarray, on_oxygen: bool, top: int = 3, least: float = 0.05
) -> dmodel.Assessment:
    """Every output of the fast code equals the frozen reference's for one moment."""
    expected_f = ref.compute(hourly, on_oxygen)
    moment = feat.compute_one(hourly, on_oxygen)
    for name, fast, slow in zip(feat.Features._fields, moment.features(), expected_f):
        assert same_array(fast, slow), name
    assert same_array(feat.compute(hourly, on_oxygen).values, expected_f.values)

    expected = ref.assess(model, hourly, on_oxygen, top, least)
    got = dmodel.assess(model, hourly, on_oxygen, top, least)
    assert got.score == expected.score  # to the bit, well within the 1e-9 asked
    assert abs(got.score - expected.score) <= 1e-9
    assert np.signbit(got.score) == np.signbit(expected.score)
    assert list(got.contributions) == list(expected.contributions)
    assert same_array(list(got.contributions.values()), list(expected.contributions.values()))
    assert got.reasons == expected.reasons

    scored = dmodel.score_moment(model, feat.compute_one(hourly, on_oxygen))
    assert scored.score == expected.score
    assert dmodel.reasons(model, scored, top, least) == expected.reasons

    # the engine's way: only the columns the features read, one tuple per hour
    hours = [tuple(row) for row in np.asarray(hourly, dtype=float)[:, list(feat.CHANNEL_COLUMNS)].tolist()]
    by_hours = feat.compute_hours(hours, on_oxygen)
    for name, fast, slow in zip(feat.Features._fields, by_hours.features(), expected_f):
        assert same_array(fast, slow), name
    scored = dmodel.score_moment(model, by_hours)
    assert scored.score == expected.score and np.signbit(scored.score) == np.signbit(expected.score)
    assert same_array(scored.parts, list(expected.contributions.values()))
    assert dmodel.reasons(model, scored, top, least) == expected.reasons
    return expected


def test_the_engines_real_inputs_give_the_same_medians_features_score_and_reasons(shipped, engine_inputs) -> None:
    with_reasons = 0
    for minutes, on_oxygen, hours in engine_inputs:
        hourly = feat.hourly_medians(minutes)
        assert same_array(hourly, ref.hourly_medians(minutes))
        # what the window gave the engine: the reference's hourly medians of those columns
        assert same_array(hours, ref.hourly_medians(minutes)[:, list(feat.CHANNEL_COLUMNS)])
        expected = check_one(shipped, hourly, on_oxygen)
        with_reasons += bool(expected.reasons)
    # the comparisons above saw reasons worded, not only quiet hours (the PhysioNet rows are
    # hourly, so hours holding several values are the random test's below)
    assert with_reasons > 100


def test_random_days_of_minutes_give_the_same_medians_and_assessment(shipped) -> None:
    rng = np.random.default_rng(20261203)
    kinds_with_several = 0
    for _ in range(600):
        minutes = random_minutes(rng)
        hourly = feat.hourly_medians(minutes)
        assert same_array(hourly, ref.hourly_medians(minutes))
        blocks = (~np.isnan(minutes)).reshape(feat.HOURS, 60, COUNT).sum(axis=1)
        kinds_with_several += bool((blocks > 1).any())
        check_one(
            shipped, hourly, bool(rng.random() < 0.3), int(rng.integers(1, 8)), float(rng.choice([0.0, 0.05, 0.3]))
        )
    assert kinds_with_several > 100


def test_random_hourly_medians_give_the_same_assessment(shipped) -> None:
    rng = np.random.default_rng(7)
    for _ in range(1500):
        check_one(
            shipped,
            random_hourly(rng),
            bool(rng.random() < 0.3),
            int(rng.integers(1, 8)),
            float(rng.choice([0.0, 0.05, 0.3])),
        )


def test_zeros_of_either_sign_and_negative_values_give_the_same_assessment(shipped) -> None:
    """No vital sign is zero or negative, but `assess` is public: such input gives what it
    gave, the sign of every zero included (which shows in a reason as "−0 mmHg")."""
    rng = np.random.default_rng(5)
    for _ in range(1500):
        hourly = rng.choice([0.0, -0.0, 1.0, -1.0, np.nan, 90.0, 37.0, 120.5], (feat.HOURS, COUNT))
        check_one(shipped, hourly, bool(rng.random() < 0.3), int(rng.integers(1, 8)), float(rng.choice([0.0, 0.05])))
    for _ in range(300):
        hourly = random_hourly(rng) - rng.choice([0.0, 100.0])
        check_one(shipped, hourly, False, 7, 0.0)


def test_weights_of_another_fit_give_the_same_assessment(shipped) -> None:
    """The equality is not an accident of the shipped weights: random non-negative weights."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        weights = rng.exponential(0.3, len(feat.FEATURES)) * (rng.random(len(feat.FEATURES)) < 0.7)
        model = dmodel.Model("test", shipped.features, weights, 0.0, shipped.thresholds)
        for _ in range(25):
            check_one(model, random_hourly(rng), bool(rng.random() < 0.3), 10, 0.0)


def test_the_engine_gives_the_same_alerts_as_with_the_replaced_evaluation(stays) -> None:
    """The engine end to end, reasons computed lazily: the same alerts, byte for byte, as the
    evaluation that assessed and worded every hour."""
    fast = [[encode(a) for a in run(Engine(ON), stay)] for stay in stays]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_rule.HourlyWarning, "evaluate", ref.engine_evaluate)
        slow = [[encode(a) for a in run(Engine(ON), stay)] for stay in stays]
    assert fast == slow
    assert sum(b'"deterioration"' in a for alerts in fast for a in alerts) > 10


def test_other_shapes_are_refused_or_assessed_as_before(shipped) -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError):
        feat.compute_one(np.zeros((23, COUNT)))
    with pytest.raises(ValueError):
        feat.hourly_medians(np.zeros((1439, COUNT)))
    for wrong in (np.ones((2, 23, COUNT)), np.ones((feat.HOURS, COUNT - 1))):
        with pytest.raises(ValueError):
            ref.assess(shipped, wrong)
        with pytest.raises(ValueError):
            dmodel.assess(shipped, wrong)
    # `compute`'s batch form: the first moment, as `assess` always read it
    batch = np.stack([random_hourly(rng) for _ in range(3)])
    assert dmodel.assess(shipped, batch, top=7, least=0.0) == ref.assess(shipped, batch, top=7, least=0.0)
    assert dmodel.assess(shipped, batch[:1]) == ref.assess(shipped, batch[:1])


# -- the window's minutes: converted sparsely where they are sparse ---------------------------
def test_the_windows_minutes_are_the_same_for_every_reader_of_the_real_stays(stays) -> None:
    """Every `minutes_until` the engine asks for (trends, artifacts; column subsets; rings
    that wrap) while it runs the real stays equals the replaced conversion, and so does every
    `hour_medians` (the warning's way in) reduced from it."""
    from monitor.window import Window

    original, original_hours = Window.minutes_until, Window.hour_medians
    calls = []

    def compared(self, end_minute, count, columns=slice(COUNT)):
        got = original(self, end_minute, count, columns)
        expected = ref.minutes_until(self, end_minute, count, columns)
        calls.append(same_array(got, expected))
        return got

    def compared_hours(self, end_minute, hours, columns):
        expected = ref.hourly_medians(ref.minutes_until(self, end_minute, hours * 60))
        got = original_hours(self, end_minute, hours, columns)
        calls.append(same_array(got, expected[:, list(columns)]))
        return got

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Window, "minutes_until", compared)
        patch.setattr(Window, "hour_medians", compared_hours)
        for stay in stays[:25]:
            run(Engine(ON), stay)
    assert len(calls) > 500 and all(calls)


def test_the_windows_minutes_are_the_same_dense_sparse_and_wrapped() -> None:
    from monitor.window import ABSENT, Window, WindowLimits

    rng = np.random.default_rng(11)
    t0 = 1_795_420_800.0
    for case in range(12):
        window = Window(WindowLimits(minutes=int(rng.choice([30, 120, 1440]))))
        step = float(rng.choice([1.0, 7.0, 60.0, 600.0, 3600.0]))
        at = t0
        for _ in range(int(rng.integers(50, 3000))):
            values = tuple(
                float(v) if rng.random() < 0.8 else ABSENT for v in rng.normal(80, 20, COUNT).round(2).clip(1, 300)
            )
            window.add(at, values + (0.0,))
            at += step * rng.uniform(0.5, 1.5)
        last = int(at // 60)
        for end in (last, last - 1, last - 37, last + 5, last - window.limits.minutes):
            for count in (1, 7, 60, 1440, 3000):
                for columns in (slice(COUNT), (0,), (1, 3, 5)):
                    assert same_array(
                        window.minutes_until(end, count, columns), ref.minutes_until(window, end, count, columns)
                    ), case
