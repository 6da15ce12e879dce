"""Seeing CRS coming: a baseline per patient and robust rates of change over the window.

A febrile patient in the CRS risk period is graded 1 until hypotension or hypoxia appear; the
trend tells a grade-1 patient who is heading for grade 2 from one who is not. Rates are
Theil–Sen slopes (the median of all pairwise slopes) over 5-minute medians of the per-minute
medians: a slope that one artifact, or a few, cannot bend. The baseline is the median of the
day before the fever, so "rising" means rising for this patient.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from monitor.config import EngineConfig
from monitor.parameters import COUNT, HEART_RATE, SPO2, SYSTOLIC, TEMPERATURE
from monitor.window import Window


@lru_cache(maxsize=64)
def _pairs(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(count, 1)


def theil_sen(times: np.ndarray, values: np.ndarray) -> float | None:
    """The median of pairwise slopes of the points that have a value; None for fewer than 2."""
    present = ~np.isnan(values)
    times, values = times[present], values[present]
    if len(values) < 2:
        return None
    first, second = _pairs(len(values))
    return float(np.median((values[second] - values[first]) / (times[second] - times[first])))


def _quiet_nanmedian(block: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN slice is just "no data"
        return np.nanmedian(block, axis=axis)


def baseline(window: Window, before: float, config: EngineConfig) -> list[float | None]:
    """Each measurement's median over `baseline_hours` before time `before`, or None where
    fewer than `baseline_min_minutes` minutes hold data."""
    count = int(config.baseline_hours * 60)
    minutes = window.minutes_until(int(before // 60) - 1, count)
    enough = np.count_nonzero(~np.isnan(minutes), axis=0) >= config.baseline_min_minutes
    medians = _quiet_nanmedian(minutes, axis=0)
    return [float(medians[column]) if enough[column] else None for column in range(COUNT)]


def slopes(window: Window, now: float, config: EngineConfig) -> list[float | None]:
    """Each measurement's Theil–Sen slope per hour over the trend window ending at `now`."""
    bucket = max(1, int(config.trend_bucket_min))
    buckets = max(1, int(config.trend_window_min // bucket))
    minutes = window.minutes_until(int(now // 60), buckets * bucket)
    pooled = _quiet_nanmedian(minutes.reshape(buckets, bucket, COUNT), axis=1)
    hours = (np.arange(buckets) * bucket + bucket / 2) / 60.0
    result: list[float | None] = []
    for column in range(COUNT):
        series = pooled[:, column]
        if np.count_nonzero(~np.isnan(series)) < config.trend_min_points:
            result.append(None)
        else:
            result.append(theil_sen(hours, series))
    return result


class EarlyWarning(NamedTuple):
    """The trend findings behind an early warning; empty `reasons` means none."""

    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.reasons)


NONE = EarlyWarning(())


def early_warning(
    current: list[float | None], rates: list[float | None], base: list[float | None] | None,
    shock_index: float | None, config: EngineConfig,
) -> EarlyWarning:
    """Signs that a febrile patient is heading for hypotension or hypoxia.

    Any one of: shock index at or above its threshold; systolic BP falling and already below
    baseline; SpO2 falling and already below baseline; or heart rate and temperature rising
    together, heart rate well above baseline. Each condition needs the current value past the
    baseline as well as the slope, so that a patient recovering towards baseline never warns.
    """
    base = base or [None] * COUNT
    reasons: list[str] = []

    def beyond(column: int, distance: float, upward: bool) -> bool:
        value, reference = current[column], base[column]
        if value is None:
            return False
        if reference is None:
            return True  # no baseline: the slope alone must speak
        return value >= reference + distance if upward else value <= reference - distance

    if shock_index is not None and shock_index >= config.shock_index_abnormal:
        reasons.append(f"shock index {shock_index:.2f} >= {config.shock_index_abnormal:.1f}")
    rate = rates[SYSTOLIC]
    if rate is not None and rate <= -config.systolic_fall_per_h and beyond(
            SYSTOLIC, config.systolic_below_baseline, upward=False):
        reasons.append(_trend("systolic BP", "falling", rate, "mmHg", base[SYSTOLIC]))
    rate = rates[SPO2]
    if rate is not None and rate <= -config.spo2_fall_per_h and beyond(
            SPO2, config.spo2_below_baseline, upward=False):
        reasons.append(_trend("SpO2", "falling", rate, "%", base[SPO2]))
    heart, heat = rates[HEART_RATE], rates[TEMPERATURE]
    if (heart is not None and heat is not None and heart >= config.heart_rate_rise_per_h
            and heat >= config.temperature_rise_per_h
            and beyond(HEART_RATE, config.heart_rate_above_baseline, upward=True)):
        reasons.append(_trend("heart rate", "rising", heart, "/min", base[HEART_RATE]))
        reasons.append(f"temperature rising {heat:.1f} °C/h")
    return EarlyWarning(tuple(reasons)) if reasons else NONE


def _trend(label: str, direction: str, rate: float, unit: str, reference: float | None) -> str:
    text = f"{label} {direction} {abs(rate):.1f} {unit}/h"
    return text if reference is None else f"{text} (baseline {reference:.0f})"
