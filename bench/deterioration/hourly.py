"""From a stay's hourly rows to the warning's inputs: per hour, the day of hourly medians
ending at that hour (in `monitor.parameters` order) and whether oxygen is in force."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bench.deterioration.bedside import CARRY_H, carry_forward
from bench.deterioration.data import FIO2, HR, MAP, O2SAT, RESP, SBP, TEMP, Stay
from monitor.deterioration import features as feat
from monitor.parameters import (
    COUNT,
    HEART_RATE,
    MEAN_ARTERIAL,
    RESPIRATORY_RATE,
    SPO2,
    SYSTOLIC,
    TEMPERATURE,
)

_MAP_COLUMNS = (
    (HR, HEART_RATE),
    (SBP, SYSTOLIC),
    (MAP, MEAN_ARTERIAL),
    (TEMP, TEMPERATURE),
    (O2SAT, SPO2),
    (RESP, RESPIRATORY_RATE),
)  # diastolic is not used


def hourly_blocks(stay: Stay) -> np.ndarray:
    """(hours, 24, COUNT): for each hour t, rows t−23 … t (NaN before the stay began)."""
    series = np.full((stay.hours + feat.HOURS - 1, COUNT), np.nan)
    for source, column in _MAP_COLUMNS:
        series[feat.HOURS - 1 :, column] = stay.values[:, source]
    return sliding_window_view(series, feat.HOURS, axis=0).transpose(0, 2, 1)


def on_oxygen(stay: Stay) -> np.ndarray:
    """FiO2 > 0.21 carried forward 4 h, as the bedside NEWS2 reads it; otherwise air."""
    with np.errstate(invalid="ignore"):
        return carry_forward(stay.values[:, FIO2], CARRY_H) > 0.21


def stay_features(stay: Stay) -> feat.Features:
    return feat.compute(hourly_blocks(stay), on_oxygen(stay))
