"""The deterioration warning's features: where each vital sign stands and where it is going,
against the patient's own recent past, from a day of hourly medians.

Everything is computed from one array, `hourly`: 24 rows, one per hour ending at the moment
of evaluation (row 23 is the last hour), and one column per measurement in
`monitor.parameters` order, holding the median of that hour's values (NaN where none). The
engine gets the columns the features read (CHANNEL_COLUMNS) from its window
(`Window.hour_medians`, to the bit `hourly_medians` of the window's per-minute medians) and
scores them with `compute_hours`; the offline harness gets them from the hourly PhysioNet rows
and `compute`. Both therefore compute the very same features.

Why hourly medians: a walk to the bathroom or physiotherapy lifts heart rate 20–40/min for
10–30 minutes. A median of an hour's minutes barely moves for that, and the trend below is a
median of three such hours, so exertion alone cannot make a trend; a real slide, lasting
hours, can.

All features are zero for a patient who is stable and within normal limits, and grow as a
measurement moves in the direction of deterioration (one-sided and capped): so each one's
contribution to the score is never negative, an improving value never raises the score, and
one wild value cannot dominate it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import filterfalse
from math import isnan
from typing import NamedTuple

import numpy as np

from monitor.parameters import (
    COUNT,
    HEART_RATE,
    MEAN_ARTERIAL,
    RESPIRATORY_RATE,
    SPO2,
    SYSTOLIC,
    TEMPERATURE,
)
from monitor.robust import nanmedian_and_count
from monitor.scores import news2 as chart

HOURS = 24  # rows of `hourly`: the engine's window keeps exactly one day
CARRY_H = 4  # a value is current for 4 h after its hour (one observation round, as NEWS2)
RECENT_H = 3  # "now" for a trend: the median of the last 3 hourly medians
TREND_H = 6  # the trend compares "now" with the median of the hours 6 h before (t−8 … t−6)
BASELINE_LAG_H = 8  # the baseline ends where the trend's past begins: t−23 … t−8
BASELINE_MIN_HOURS = 3  # hours with data a baseline needs

#: Channels the trends follow: the six vital signs of the issue and the shock index (HR/SBP).
CHANNELS = (
    "heart_rate",
    "respiratory_rate",
    "temperature",
    "systolic_bp",
    "mean_arterial_pressure",
    "spo2",
    "shock_index",
)
_COLUMN = {
    "heart_rate": HEART_RATE,
    "respiratory_rate": RESPIRATORY_RATE,
    "temperature": TEMPERATURE,
    "systolic_bp": SYSTOLIC,
    "mean_arterial_pressure": MEAN_ARTERIAL,
    "spo2": SPO2,
}
#: +1 where rising is deterioration, −1 where falling is.
DIRECTION = {
    "heart_rate": 1,
    "respiratory_rate": 1,
    "temperature": 1,
    "systolic_bp": -1,
    "mean_arterial_pressure": -1,
    "spo2": -1,
    "shock_index": 1,
}
#: The largest movement that still counts more (a cap: beyond it, more is not more evidence,
#: and a probe artifact that survived the medians cannot run away with the score).
_CAP = {
    "heart_rate": 40.0,
    "respiratory_rate": 12.0,
    "temperature": 2.5,
    "systolic_bp": 50.0,
    "mean_arterial_pressure": 35.0,
    "spo2": 10.0,
    "shock_index": 0.6,
}
LABEL = {
    "heart_rate": "heart rate",
    "respiratory_rate": "respiratory rate",
    "temperature": "temperature",
    "systolic_bp": "systolic BP",
    "mean_arterial_pressure": "MAP",
    "spo2": "SpO2",
    "shock_index": "shock index",
}
UNIT = {
    "heart_rate": "/min",
    "respiratory_rate": "/min",
    "temperature": " °C",
    "systolic_bp": " mmHg",
    "mean_arterial_pressure": " mmHg",
    "spo2": " %",
    "shock_index": "",
}

#: NEWS2 components the data can score (consciousness is scored by the engine's NEWS2 but
#: was never recorded in the development data, so it has no fitted weight here).
NEWS2_PARTS = ("respiratory_rate", "spo2", "air_or_oxygen", "systolic_bp", "heart_rate", "temperature")

#: Where each channel leaves normal, in its direction of deterioration: the upper limit of
#: NEWS2's 0-point band for heart rate (90) and respiratory rate (20), the lower limit of its
#: 0-point band for systolic BP (111 → 110) and SpO2 (96); 37.5 °C for temperature (below the
#: 38.0 fever threshold: a rising temperature counts before it is a fever); MAP 75 mmHg
#: (judgement: 10 above the ASTCT/sepsis hypotension threshold of 65); shock index 0.7 (upper
#: end of normal, CLINICAL.md).
NORMAL_LIMIT = {
    "heart_rate": 90.0,
    "respiratory_rate": 20.0,
    "temperature": 37.5,
    "systolic_bp": 110.0,
    "mean_arterial_pressure": 75.0,
    "spo2": 96.0,
    "shock_index": 0.7,
}
WORST_H = 12  # the worst hourly median of the last 12 h (half a day, two nursing shifts' worth)

#: Every feature, in the order of the weights file.
FEATURES: tuple[str, ...] = (
    tuple(f"news2_{part}" for part in NEWS2_PARTS)
    + tuple(f"{channel}_level" for channel in CHANNELS)
    + tuple(f"{channel}_worst_{WORST_H}h" for channel in CHANNELS)
    + tuple(f"{channel}_trend" for channel in CHANNELS)
    + tuple(f"{channel}_from_baseline" for channel in CHANNELS)
)


class Features(NamedTuple):
    """Feature values (n, len(FEATURES)) and what the reasons quote, per channel (n, 7): the
    current value, the worst of the last 12 h, the 6-hour change, the change from baseline,
    and the baseline itself."""

    values: np.ndarray
    current: np.ndarray
    worst: np.ndarray
    trend: np.ndarray
    from_baseline: np.ndarray
    baseline: np.ndarray


def hourly_medians(minutes: np.ndarray) -> np.ndarray:
    """(24, COUNT) hourly medians from (1440, COUNT) per-minute medians (oldest first, NaN
    where no data), e.g. `window.minutes_until(now_minute, 1440)`: the engine's way in."""
    if minutes.shape != (HOURS * 60, COUNT):
        raise ValueError(f"expected ({HOURS * 60}, {COUNT}) minutes, got {minutes.shape}")
    # Charted hourly, a block holds at most one value per measurement, and that value is its
    # median: find the few values and place them, instead of sorting 168 lanes of 60 minutes
    # once an hour per patient. Only lanes holding several values (a monitor's per-minute
    # data) are sorted, exactly as `nanmedian_and_count` does for all of them.
    flat = minutes.ravel()
    where = np.flatnonzero(flat == flat)  # not NaN
    lane = (where // (60 * COUNT)) * COUNT + where % COUNT  # (hour, column) in (24, COUNT)
    out = np.full(HOURS * COUNT, np.nan)
    out[lane] = flat[where]
    out = (out + out) / 2  # a lone value's median as the sort computes it, (v + v) / 2
    several = np.bincount(lane, minlength=HOURS * COUNT) > 1
    if several.any():
        lanes = minutes.reshape(HOURS, 60, COUNT).transpose(0, 2, 1).reshape(HOURS * COUNT, 60)
        out[several] = nanmedian_and_count(lanes[several], axis=-1)[0]
    return out.reshape(HOURS, COUNT)


def _channels(hourly: np.ndarray) -> np.ndarray:
    """(n, 24, 7) in CHANNELS order; the shock index is each hour's HR median over its SBP
    median (NaN unless both are there)."""
    out = np.empty(hourly.shape[:2] + (len(CHANNELS),))
    for index, channel in enumerate(CHANNELS[:-1]):
        out[:, :, index] = hourly[:, :, _COLUMN[channel]]
    with np.errstate(divide="ignore", invalid="ignore"):
        systolic = hourly[:, :, SYSTOLIC]
        out[:, :, -1] = np.where(systolic > 0, hourly[:, :, HEART_RATE] / systolic, np.nan)
    return out


def _latest(block: np.ndarray) -> np.ndarray:
    """Per (row, channel) the last non-NaN value along axis 1, NaN if none."""
    present = ~np.isnan(block)
    last = block.shape[1] - 1 - np.argmax(present[:, ::-1, :], axis=1)
    values = np.take_along_axis(block, last[:, None, :], axis=1)[:, 0, :]
    values[~present.any(axis=1)] = np.nan
    return values


def _points(values: np.ndarray, score) -> np.ndarray:
    flat = values.ravel()
    out = np.zeros(flat.shape)
    for index, value in enumerate(flat.tolist()):
        if value == value:  # not NaN
            out[index] = score(value)
    return out.reshape(values.shape)


def compute(hourly: np.ndarray, on_oxygen: np.ndarray | bool = False) -> Features:
    """The features of one moment (`hourly` of shape (24, COUNT)) or of many at once
    ((n, 24, COUNT)); `on_oxygen` per moment: supplemental oxygen in force (NEWS2's 2 points).

    Missing data contributes nothing: without a current value, no NEWS2 points; without the
    hours 6 h ago, no trend; without 3 hours of baseline, no deviation from it.
    """
    hourly = np.asarray(hourly, dtype=float)
    single = hourly.ndim == 2
    if single:
        hourly = hourly[None]
    if hourly.shape[1:] != (HOURS, COUNT):
        raise ValueError(f"expected (n, {HOURS}, {COUNT}) hourly medians, got {hourly.shape}")
    n = len(hourly)
    oxygen = np.broadcast_to(np.asarray(on_oxygen, dtype=bool), (n,))
    channels = _channels(hourly)
    current = _latest(channels[:, HOURS - 1 - CARRY_H :, :])
    recent, recent_n = nanmedian_and_count(channels[:, HOURS - RECENT_H :, :], axis=1)
    past_end = HOURS - TREND_H  # rows t−8 … t−6 are 15, 16, 17 when t is row 23
    past, past_n = nanmedian_and_count(channels[:, past_end - 3 : past_end, :], axis=1)
    base, base_n = nanmedian_and_count(channels[:, : HOURS - BASELINE_LAG_H, :], axis=1)
    base = np.where(base_n >= BASELINE_MIN_HOURS, base, np.nan)
    trend = np.where((recent_n > 0) & (past_n > 0), recent - past, np.nan)
    from_base = np.where(recent_n > 0, recent - base, np.nan)

    direction = np.array([DIRECTION[c] for c in CHANNELS], dtype=float)
    cap = np.array([_CAP[c] for c in CHANNELS])
    trend_feature = np.nan_to_num(np.clip(trend * direction, 0.0, cap), nan=0.0)
    base_feature = np.nan_to_num(np.clip(from_base * direction, 0.0, cap), nan=0.0)

    index = {channel: i for i, channel in enumerate(CHANNELS)}
    news = np.column_stack(
        [
            _points(current[:, index["respiratory_rate"]], chart.respiration_points),
            _points(current[:, index["spo2"]], chart.spo2_points),
            np.where(oxygen, float(chart.air_or_oxygen_points(True)), 0.0),
            _points(current[:, index["systolic_bp"]], chart.systolic_points),
            _points(current[:, index["heart_rate"]], chart.pulse_points),
            _points(current[:, index["temperature"]], chart.temperature_points),
        ]
    )
    limit = np.array([NORMAL_LIMIT[c] for c in CHANNELS])
    level_feature = np.nan_to_num(np.clip((current - limit) * direction, 0.0, cap), nan=0.0)
    recent_hours = channels[:, HOURS - WORST_H :, :] * direction  # worst = largest after this
    present = ~np.isnan(recent_hours)
    worst = np.where(present, recent_hours, -np.inf).max(axis=1) * direction
    worst[~present.any(axis=1)] = np.nan
    worst_feature = np.nan_to_num(np.clip((worst - limit) * direction, 0.0, cap), nan=0.0)
    values = np.column_stack([news, level_feature, worst_feature, trend_feature, base_feature])
    return Features(values, current, worst, trend, from_base, base)


# -- one moment at a time: the engine's way, in plain Python ------------------------------------
# The engine scores one patient-hour at a time, where numpy's per-call overhead (a few µs per
# call, dozens of calls) costs far more than the arithmetic on 24 × 7 numbers. `compute_one`
# gives exactly what `compute` gives for one moment — the same operations in the same order
# on the same float64 values, tests/test_deterioration_speed_equivalence.py holds them to it
# bit for bit — without numpy. `compute` stays the batch form the offline harness uses.

_NAN = float("nan")
_CHANNEL_COLUMNS = tuple(_COLUMN[channel] for channel in CHANNELS[:-1])
#: Per channel: direction of deterioration, cap, normal limit (CHANNELS order).
_PER_CHANNEL = tuple((float(DIRECTION[c]), _CAP[c], NORMAL_LIMIT[c]) for c in CHANNELS)
#: NEWS2_PARTS' channels, with the chart function each scores by (None: air or oxygen).
_NEWS2_SCORERS = tuple(
    (CHANNELS.index(part), score) if score is not None else (None, None)
    for part, score in zip(
        NEWS2_PARTS,
        (
            chart.respiration_points,
            chart.spo2_points,
            None,
            chart.systolic_points,
            chart.pulse_points,
            chart.temperature_points,
        ),
    )
)
_OXYGEN_POINTS = float(chart.air_or_oxygen_points(True))
_CURRENT_FROM = HOURS - 1 - CARRY_H
_PAST_END = HOURS - TREND_H
_SYSTOLIC_INDEX = CHANNELS.index("systolic_bp")
_CURRENT_HOURS = tuple(range(HOURS - 1, _CURRENT_FROM - 1, -1))  # the newest first
_RECENT_FROM = HOURS - RECENT_H
_PAST_FROM = _PAST_END - 3
_BASELINE_END = HOURS - BASELINE_LAG_H
_WORST_FROM = HOURS - WORST_H


class Moment(NamedTuple):
    """`Features` of one moment as plain lists (values in FEATURES order, the rest in
    CHANNELS order), which is what one evaluation needs; `features()` gives the arrays."""

    values: list[float]
    current: list[float]
    worst: list[float]
    trend: list[float]
    from_baseline: list[float]
    baseline: list[float]

    def features(self) -> Features:
        """As `compute` returns it for one moment: (1, k) arrays."""
        return Features(*(np.array([part]) for part in self))


def compute_one(hourly: np.ndarray, on_oxygen: bool = False) -> Moment:
    """The features of one moment from (24, COUNT) hourly medians, exactly as `compute` gives
    them, several times faster for one moment (see above)."""
    hourly = np.asarray(hourly, dtype=float)
    if hourly.shape != (HOURS, COUNT):
        raise ValueError(f"expected ({HOURS}, {COUNT}) hourly medians, got {hourly.shape}")
    columns = hourly.T.tolist()
    if any(0.0 in column for column in columns):
        # A zero is no vital sign (the window holds none), but where 0.0 and −0.0 tie, which
        # of them a median or a maximum returns is numpy's sort's and reduction's own choice,
        # and it shows ("−0 mmHg"): leave such input to `compute` itself.
        return Moment(*(part[0].tolist() for part in compute(hourly, on_oxygen)))
    return _moment([columns[column] for column in _CHANNEL_COLUMNS], on_oxygen)


#: The columns the features read (in CHANNELS order, the shock index being HR over SBP): what
#: `compute_hours` takes, and what the engine asks the window for.
CHANNEL_COLUMNS = _CHANNEL_COLUMNS


def compute_hours(hours: list[tuple[float, ...]], on_oxygen: bool = False) -> Moment:
    """`compute_one` from the hourly medians of CHANNEL_COLUMNS only, one tuple per hour
    (oldest first), as `Window.hour_medians` gives them: the other columns are never read."""
    if len(hours) != HOURS:
        raise ValueError(f"expected {HOURS} hours, got {len(hours)}")
    series: list[Sequence[float]] = list(zip(*hours))
    if len(series) != len(_CHANNEL_COLUMNS):
        raise ValueError(f"expected {len(_CHANNEL_COLUMNS)} columns (CHANNEL_COLUMNS)")
    if any(0.0 in column for column in series):  # see compute_one
        hourly = np.full((HOURS, COUNT), np.nan)
        hourly[:, list(_CHANNEL_COLUMNS)] = np.array(hours, dtype=float)
        return Moment(*(part[0].tolist() for part in compute(hourly, on_oxygen)))
    return _moment(series, on_oxygen)


def _moment(series: list[Sequence[float]], on_oxygen: bool) -> Moment:
    """compute_one's work on the channels' 24 hourly medians (CHANNEL_COLUMNS order, floats).

    The arithmetic is `compute`'s, operation for operation, written out inline (a function
    call costs more than the work):
    - a median is `nanmedian_and_count`'s: the middle two of the sorted values (the same one
      twice for an odd count) added and halved;
    - the worst of the last 12 h, the largest of value × direction times direction, is the
      largest value where rising is deterioration and the smallest where falling is (no zero
      reaches here, so no signed zero can tie);
    - np.nan_to_num(np.clip(value, 0.0, cap), nan=0.0) as `compute` evaluates it: max(value,
      0.0) then min(·, cap), each keeping `value` only when strictly beyond the bound, so −0.0
      and NaN give +0.0.
    Without a value in the last 12 h there is no current value, worst, trend or change from
    baseline. The values of each stretch of hours are picked by C-level filterfalse(isnan),
    not a comprehension."""
    series.append(
        [heart / systolic if systolic > 0 else _NAN for heart, systolic in zip(series[0], series[_SYSTOLIC_INDEX])]
    )
    rows = []
    nan = _NAN
    for hours, (direction, cap, limit) in zip(series, _PER_CHANNEL):
        last = list(filterfalse(isnan, hours[_WORST_FROM:]))
        before = list(filterfalse(isnan, hours[:_BASELINE_END]))
        count = len(before)
        if count >= BASELINE_MIN_HOURS:
            before.sort()
            channel_base = (before[(count - 1) // 2] + before[count // 2]) / 2
        else:
            channel_base = nan
        if not last:  # nothing in the last 12 h: no current value, no worst, no trend
            rows.append((nan, nan, nan, nan, channel_base, 0.0, 0.0, 0.0, 0.0))
            continue
        now = hours[-1]
        if now != now:
            latest = list(filterfalse(isnan, hours[_CURRENT_FROM:]))
            now = latest[-1] if latest else nan
        channel_worst = max(last) if direction > 0 else min(last)
        recent = list(filterfalse(isnan, hours[_RECENT_FROM:]))
        if recent:
            count = len(recent)
            if count > 1:
                recent.sort()
            middle = (recent[(count - 1) // 2] + recent[count // 2]) / 2
            past = list(filterfalse(isnan, hours[_PAST_FROM:_PAST_END]))
            if past:
                count = len(past)
                if count > 1:
                    past.sort()
                channel_trend = middle - (past[(count - 1) // 2] + past[count // 2]) / 2
            else:
                channel_trend = nan
            channel_from_base = middle - channel_base
        else:
            channel_trend = channel_from_base = nan
        level = (now - limit) * direction
        high = (channel_worst - limit) * direction
        rise = channel_trend * direction
        shift = channel_from_base * direction
        rows.append(
            (
                now,
                channel_worst,
                channel_trend,
                channel_from_base,
                channel_base,
                (level if level < cap else cap) if level > 0.0 else 0.0,
                (high if high < cap else cap) if high > 0.0 else 0.0,
                (rise if rise < cap else cap) if rise > 0.0 else 0.0,
                (shift if shift < cap else cap) if shift > 0.0 else 0.0,
            )
        )
    (current, worst, trend, from_base, base, level_feature, worst_feature, trend_feature, base_feature) = map(
        list, zip(*rows)
    )
    news = []
    for channel, score in _NEWS2_SCORERS:
        if channel is None or score is None:  # together: the air-or-oxygen part
            news.append(_OXYGEN_POINTS if on_oxygen else 0.0)
        else:
            value = current[channel]
            news.append(float(score(value)) if value == value else 0.0)
    values = news + level_feature + worst_feature + trend_feature + base_feature
    return Moment(values, current, worst, trend, from_base, base)
