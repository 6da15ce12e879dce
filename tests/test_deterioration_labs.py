"""The lab features of the deterioration experiment (bench/deterioration/labs.py) on one real stay
(tests/data/physionet2019_labs): values worked out from the file's rows by hand, and no hour's
features reading a later result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.deterioration.labs import LAB_FEATURES, lab_features, read_labs

STAY = Path(__file__).parent / "data" / "physionet2019_labs" / "p107912.psv"


def column(features: np.ndarray, name: str) -> np.ndarray:
    return features[:, LAB_FEATURES.index(name)]


def test_features_follow_the_file_s_results_hour_by_hour() -> None:
    features = lab_features(read_labs(STAY))
    assert features.shape == (27, len(LAB_FEATURES))
    creatinine = column(features, "creatinine_above_1.2")
    # creatinine: none in rows 0-4, 2.19 in row 5, 2.54 in row 15, 2.44 in row 24
    assert creatinine[:5].tolist() == [0.0] * 5
    assert creatinine[5] == pytest.approx(2.19 - 1.2)
    assert creatinine[14] == pytest.approx(2.19 - 1.2) and creatinine[15] == pytest.approx(2.54 - 1.2)
    rise = column(features, "creatinine_rise_48h")
    assert rise[5] == 0.0  # one result is no rise
    assert rise[15] == pytest.approx(2.54 - 2.19)
    assert rise[24] == pytest.approx(2.44 - 2.19)  # against the lowest of the 48 h before
    # platelets 110 (row 2), 94, 90, 50, 46: how far below 150
    platelets = column(features, "platelets_below_150")
    assert platelets[[0, 2, 3, 13, 15, 24]].tolist() == pytest.approx([0, 40, 56, 60, 100, 104])
    # lactate 10.14 mmol/L in the first row: measured from the start, and 8.14 above 2
    assert column(features, "lactate_above_2")[0] == pytest.approx(8.14)
    assert column(features, "lactate_measured")[0] == 1 and column(features, "lactate_not_measured")[0] == 0
    assert column(features, "creatinine_not_measured")[:5].tolist() == [1.0] * 5
    # WBC 10.3, 12.9, 8.7, 6.5, 7.4: above 12 only from row 3 to row 12
    above = column(features, "wbc_above_12")
    assert above[3] == pytest.approx(0.9) and above[13] == 0 and not column(features, "wbc_below_4").any()


def test_no_hour_reads_a_later_result() -> None:
    labs = read_labs(STAY)
    whole = lab_features(labs)
    for hour in range(len(labs)):
        assert np.array_equal(lab_features(labs[: hour + 1])[hour], whole[hour]), hour


def test_the_paired_difference_is_the_difference_of_the_figures_with_an_interval_around_it() -> None:
    from bench.deterioration.crossval import paired_difference
    from bench.deterioration.metrics import Summary

    hours = np.full(50, 48.0)
    without = Summary(
        np.ones(50), hours, np.full(50, 4.0), np.array([[i < 10, i < 12, i < 14] for i in range(40)], dtype=float)
    )
    # with labs: four more of the forty septic stays caught 6 h ahead, the same burden
    with_ = without._replace(caught=np.array([[i < 14, i < 12, i < 14] for i in range(40)], dtype=float))
    d = paired_difference(with_, without, reps=500)
    value, low, high = d["sens_6"]
    assert value == pytest.approx(4 / 40) and 0 < low <= value <= high
    assert d["hours_flagged"] == (0.0, 0.0, 0.0) and d["sens_3"] == (0.0, 0.0, 0.0)
