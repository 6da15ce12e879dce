"""Seeing CRS coming: a baseline per patient and robust rates of change over the window.

A febrile patient in the CRS risk period is graded 1 until hypotension or hypoxia appear; the
trend tells a grade-1 patient who is heading for grade 2 from one who is not. Rates are
resistant lines (Tukey) through the per-minute medians: a slope that one artifact, or a few,
cannot bend. The baseline is the median of the day before the fever, so "rising" means
rising for this patient.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from monitor.config import EngineConfig
from monitor.parameters import COUNT, HEART_RATE, LABELS, SPO2, SYSTOLIC, TEMPERATURE, UNITS
from monitor.robust import nanmedian, nanmedian_and_count
from monitor.window import Window

#: The measurements the early warning looks at; the others are never fitted.
WATCHED = (HEART_RATE, SYSTOLIC, SPO2, TEMPERATURE)


def baseline(window: Window, before: float, config: EngineConfig) -> list[float | None]:
    """Each watched measurement's median over `baseline_hours` before time `before`, or None
    where fewer than `baseline_min_minutes` minutes hold data."""
    count = int(config.baseline_hours * 60)
    minutes = window.minutes_until(int(before // 60) - 1, count, WATCHED)
    enough = np.count_nonzero(~np.isnan(minutes), axis=0) >= config.baseline_min_minutes
    medians = nanmedian(minutes)
    result: list[float | None] = [None] * COUNT
    for index, column in enumerate(WATCHED):
        if enough[index]:
            result[column] = float(medians[index])
    return result


class Trend(NamedTuple):
    """Per measurement (None where unknown): the rate per hour, and the recent level (the
    median of the last `trend_recent_min` minutes)."""

    rates: list[float | None]
    recent: list[float | None]


def slopes(window: Window, now: float, config: EngineConfig) -> Trend:
    """Each watched measurement's rate per hour over the trend window ending at `now`.

    Tukey's resistant line: the window is cut in thirds and the rate is the change between
    the medians of the first and the last third over the time between their middles. Half of
    either third can be artifact without moving it, and it costs one sort, where a Theil–Sen
    fit of every pair of points costs several (it runs inside the engine, for every febrile
    patient, every `trend_interval_s`).
    """
    third = max(1, int(config.trend_window_min // 3))
    latest = min(3 * third, max(1, int(config.trend_recent_min)))
    minutes = window.minutes_until(int(now // 60), 3 * third, WATCHED).T  # (watched, minutes)
    # One sort for everything: per watched measurement, the three thirds and the latest minutes
    # (padded with "no data" to a third's length) as lanes of one array.
    lanes = np.full((len(WATCHED), 4, third), np.nan)
    lanes[:, :3] = minutes.reshape(len(WATCHED), 3, third)
    lanes[:, 3, :latest] = minutes[:, -latest:]
    medians, present = nanmedian_and_count(lanes, axis=2)  # (watched, 4): thirds, then latest
    medians, present = medians.tolist(), present.tolist()
    hours_between = 2 * third / 60.0
    rates: list[float | None] = [None] * COUNT
    levels: list[float | None] = [None] * COUNT
    for index, column in enumerate(WATCHED):
        counts, middle = present[index], medians[index]
        if counts[3]:
            levels[column] = middle[3]
        if counts[0] and counts[2] and counts[0] + counts[1] + counts[2] >= config.trend_min_points:
            rates[column] = (middle[2] - middle[0]) / hours_between
    return Trend(rates, levels)


#: The trend findings behind an early warning, one reason each; empty means none.
EarlyWarning = tuple[str, ...]
NONE: EarlyWarning = ()


def early_warning(
    current: list[float | None],
    trend: Trend,
    base: list[float | None] | None,
    shock_index: float | None,
    config: EngineConfig,
) -> EarlyWarning:
    """Signs that a febrile patient is heading for hypotension or hypoxia (grade 2).

    It warns on what leads to grade 2, not on what fever itself does: systolic BP falling and
    already below the patient's baseline; SpO2 falling and already below baseline; or the
    shock index at or above its threshold while systolic BP is below baseline. A fever raises
    heart rate about 10/min per °C and lowers pressure a little, so heart rate and temperature
    rising are reported alongside a warning but never raise one alone: in simulated wards they
    warned in every grade-1 course. Each condition needs the value past the baseline as well
    as the slope, so a patient recovering towards baseline never warns.
    """
    base = base or [None] * COUNT
    rates = trend.rates
    reasons: list[str] = []

    def beyond(column: int, distance: float, upward: bool) -> bool:
        value, reference = current[column], base[column]
        if value is None:
            return False
        if reference is None:
            return True  # no baseline: the slope alone must speak
        return value >= reference + distance if upward else value <= reference - distance

    rate = rates[SYSTOLIC]
    if (
        rate is not None
        and rate <= -config.systolic_fall_per_h
        and beyond(SYSTOLIC, config.systolic_below_baseline, upward=False)
    ):
        reasons.append(_trend(SYSTOLIC, "falling", rate, base[SYSTOLIC]))
    rate, level = rates[SPO2], trend.recent[SPO2]
    if rate is not None and rate <= -config.spo2_fall_per_h and beyond(SPO2, config.spo2_below_baseline, upward=False):
        reasons.append(_trend(SPO2, "falling", rate, base[SPO2]))
    elif (
        level is not None
        and (spo2_base := base[SPO2]) is not None
        and (level <= spo2_base - config.spo2_far_below_baseline)
    ):
        reasons.append(
            f"{LABELS[SPO2]} {level:.0f} {UNITS[SPO2]} over the last {config.trend_recent_min:.0f} min, "
            f"{spo2_base - level:.0f} below baseline {spo2_base:.0f}"
        )
    if (
        shock_index is not None
        and shock_index >= config.shock_index_abnormal
        and base[SYSTOLIC] is not None
        and beyond(SYSTOLIC, config.shock_index_systolic_below_baseline, upward=False)
    ):
        reasons.append(
            f"shock index {shock_index:.2f} >= {config.shock_index_abnormal:.1f}, "
            f"{LABELS[SYSTOLIC]} below baseline {base[SYSTOLIC]:.0f}"
        )
    if not reasons:
        return NONE
    heart, heat = rates[HEART_RATE], rates[TEMPERATURE]
    if (
        heart is not None
        and heart >= config.heart_rate_rise_per_h
        and beyond(HEART_RATE, config.heart_rate_above_baseline, upward=True)
    ):
        reasons.append(_trend(HEART_RATE, "rising", heart, base[HEART_RATE]))
    if heat is not None and heat >= config.temperature_rise_per_h:
        reasons.append(f"{LABELS[TEMPERATURE]} rising {heat:.1f} {UNITS[TEMPERATURE]}/h")
    return tuple(reasons)


def _trend(position: int, direction: str, rate: float, reference: float | None) -> str:
    """`systolic BP falling 9.0 mmHg/h (baseline 121)`: words and unit are the catalogue's."""
    text = f"{LABELS[position]} {direction} {abs(rate):.1f} {UNITS[position]}/h"
    return text if reference is None else f"{text} (baseline {reference:.0f})"
