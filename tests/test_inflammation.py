"""CRP, ferritin and IL-6 since therapy: the start, the fold change, the doubling time of the
current rise, and IL-6's expected rise after tocilizumab (Nishimoto, Blood 2008)."""

import math

import pytest

from monitor.config import EngineConfig
from monitor.labs import LabHistory
from monitor.organs.inflammation import AFTER_TOCILIZUMAB, doubling_time_h, inflammation_trend

CONFIG = EngineConfig()
H = 3600.0
THERAPY = 1_000 * H


def history(test: str, *points: tuple[float, float]) -> LabHistory:
    """Results of one test at hours relative to therapy."""
    labs = LabHistory()
    for hours, value in points:
        labs.add(test, value, THERAPY + hours * H, 14 * 86400, 64)
    return labs


def trend(
    labs: LabHistory, test: str = "crp", at_h: float = 1e6, toci_h: float | None = None, config: EngineConfig = CONFIG
):
    return inflammation_trend(
        labs, test, THERAPY + at_h * H, THERAPY, None if toci_h is None else THERAPY + toci_h * H, config
    )


def test_fold_change_from_the_last_value_at_or_before_therapy():
    labs = history("crp", (-30, 2.0), (-6, 4.0), (20, 10.0), (44, 32.0))
    assert trend(labs).fold_change == 8.0  # 32 / 4, not / 2 (the value nearest therapy)
    assert trend(labs, at_h=20).fold_change == 2.5  # as of an earlier moment: the result then


def test_without_a_value_before_therapy_the_first_within_the_grace_is_the_start():
    labs = history("ferritin", (10, 500.0), (40, 2000.0))
    assert trend(labs, "ferritin").fold_change == 4.0
    late = history("ferritin", (30, 500.0), (40, 2000.0))  # 30 h > the 24 h grace
    assert trend(late, "ferritin").fold_change is None
    assert trend(late, "ferritin", config=EngineConfig(inflammation_start_grace_h=36)).fold_change == 4.0


def test_the_start_alone_has_no_fold_change():
    assert trend(history("crp", (-2, 5.0))).fold_change is None


def test_doubling_time_of_two_rising_values_is_exact():
    labs = history("crp", (-2, 5.0), (12, 20.0))  # doubled twice in 14 h
    assert trend(labs).doubling_h == 7.0


def test_doubling_time_fits_the_current_rise_only():
    # fell from 40 to 5, then 5 → 10 → 20 → 40 at 8 h steps: doubling every 8 h; the earlier
    # fall would stretch it if it were in the fit
    labs = history("crp", (-2, 40.0), (6, 5.0), (14, 10.0), (22, 20.0), (30, 40.0))
    assert trend(labs).doubling_h == 8.0


def test_least_squares_over_three_values():
    times = [0.0, 10.0, 30.0]
    values = [10.0, 25.0, 60.0]
    labs = history("crp", *zip(times, values))
    # by hand: the slope of ln(value) on hours, least squares
    mean_t = sum(times) / 3
    logs = [math.log(v) for v in values]
    mean_l = sum(logs) / 3
    slope = sum((t - mean_t) * (v - mean_l) for t, v in zip(times, logs)) / sum((t - mean_t) ** 2 for t in times)
    assert trend(labs).doubling_h == round(math.log(2) / slope, 1)
    assert 11 < trend(labs).doubling_h < 13  # near 10 → 60 in 30 h: 2.58 doublings, 11.6 h each


@pytest.mark.parametrize(
    "points",
    [
        [(-2, 20.0), (10, 10.0)],  # falling
        [(-2, 20.0), (10, 20.0)],  # flat
        [(-2, 20.0)],  # one value
    ],
)
def test_no_doubling_time_unless_rising(points):
    assert trend(history("crp", *points)).doubling_h is None


def test_a_zero_value_ends_the_run():
    labs = history("crp", (-2, 0.0), (10, 8.0))
    assert trend(labs).doubling_h is None
    assert trend(labs).fold_change is None  # nothing to divide by
    assert doubling_time_h([]) is None


def test_without_therapy_no_fold_change_but_a_doubling_time():
    labs = history("crp", (0, 5.0), (10, 10.0))
    result = inflammation_trend(labs, "crp", THERAPY + 20 * H, None, None, CONFIG)
    assert result.fold_change is None and result.doubling_h == 10.0


def test_no_result_yet_no_trend():
    assert trend(history("crp", (5, 5.0)), at_h=1) is None


def test_il6_after_tocilizumab_is_labelled_expected():
    labs = history("il6", (-2, 20.0), (30, 400.0), (40, 5000.0))
    after = trend(labs, "il6", toci_h=32)
    assert after.note == AFTER_TOCILIZUMAB == "expected after tocilizumab"
    assert after.fold_change == 250.0  # the rise is still reported, only labelled
    assert trend(labs, "il6", at_h=31, toci_h=32).note is None  # drawn before the dose
    assert trend(labs, "il6").note is None  # no tocilizumab


def test_crp_after_tocilizumab_carries_no_such_label():
    labs = history("crp", (-2, 5.0), (40, 50.0))
    assert trend(labs, "crp", toci_h=32).note is None
