"""A frozen copy of the deterioration warning's evaluation as it was before it was made fast
(main at 4759c6e: monitor/robust.py, monitor/deterioration/features.py and model.py), kept
only so that tests and bench/deterioration_speed.py can show the fast code gives the very same
features, score and reasons. Do not "fix" or speed this up: its worth is that it does not
change. The constants (channels, caps, limits, weights) are read from the shipped modules;
only the arithmetic and the text are frozen here.
"""

from __future__ import annotations

import numpy as np

from monitor.deterioration import features as feat
from monitor.deterioration.model import Assessment, Model
from monitor.parameters import (
    COUNT,
    HEART_RATE,
    SYSTOLIC,
)
from monitor.scores import news2 as chart


def nanmedian_and_count(block: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    lanes = block if axis in (-1, block.ndim - 1) else np.moveaxis(block, axis, -1)
    shape, length = lanes.shape[:-1], lanes.shape[-1]
    if length == 0:
        return np.full(shape, np.nan), np.zeros(shape, dtype=np.intp)
    ordered = np.sort(lanes.reshape(-1, length), axis=-1)
    valid = length - np.isnan(ordered).sum(axis=-1)
    rows = np.arange(ordered.shape[0])
    low = ordered[rows, np.maximum(valid - 1, 0) // 2]
    high = ordered[rows, np.minimum(valid // 2, length - 1)]
    median = (low + high) / 2
    median[valid == 0] = np.nan
    return median.reshape(shape), valid.reshape(shape)


def hourly_medians(minutes: np.ndarray) -> np.ndarray:
    if minutes.shape != (feat.HOURS * 60, COUNT):
        raise ValueError(f"expected ({feat.HOURS * 60}, {COUNT}) minutes, got {minutes.shape}")
    blocks = minutes.reshape(feat.HOURS, 60, COUNT)
    return nanmedian_and_count(blocks, axis=1)[0]


def _channels(hourly: np.ndarray) -> np.ndarray:
    out = np.empty(hourly.shape[:2] + (len(feat.CHANNELS),))
    for index, channel in enumerate(feat.CHANNELS[:-1]):
        out[:, :, index] = hourly[:, :, feat._COLUMN[channel]]  # noqa: SLF001
    with np.errstate(divide="ignore", invalid="ignore"):
        systolic = hourly[:, :, SYSTOLIC]
        out[:, :, -1] = np.where(systolic > 0, hourly[:, :, HEART_RATE] / systolic, np.nan)
    return out


def _latest(block: np.ndarray) -> np.ndarray:
    present = ~np.isnan(block)
    last = block.shape[1] - 1 - np.argmax(present[:, ::-1, :], axis=1)
    values = np.take_along_axis(block, last[:, None, :], axis=1)[:, 0, :]
    values[~present.any(axis=1)] = np.nan
    return values


def _points(values: np.ndarray, score) -> np.ndarray:
    flat = values.ravel()
    out = np.zeros(flat.shape)
    for index, value in enumerate(flat.tolist()):
        if value == value:
            out[index] = score(value)
    return out.reshape(values.shape)


def compute(hourly: np.ndarray, on_oxygen: np.ndarray | bool = False) -> feat.Features:
    HOURS = feat.HOURS
    CHANNELS = feat.CHANNELS
    hourly = np.asarray(hourly, dtype=float)
    single = hourly.ndim == 2
    if single:
        hourly = hourly[None]
    if hourly.shape[1:] != (HOURS, COUNT):
        raise ValueError(f"expected (n, {HOURS}, {COUNT}) hourly medians, got {hourly.shape}")
    n = len(hourly)
    oxygen = np.broadcast_to(np.asarray(on_oxygen, dtype=bool), (n,))
    channels = _channels(hourly)
    current = _latest(channels[:, HOURS - 1 - feat.CARRY_H :, :])
    recent, recent_n = nanmedian_and_count(channels[:, HOURS - feat.RECENT_H :, :], axis=1)
    past_end = HOURS - feat.TREND_H
    past, past_n = nanmedian_and_count(channels[:, past_end - 3 : past_end, :], axis=1)
    base, base_n = nanmedian_and_count(channels[:, : HOURS - feat.BASELINE_LAG_H, :], axis=1)
    base = np.where(base_n >= feat.BASELINE_MIN_HOURS, base, np.nan)
    trend = np.where((recent_n > 0) & (past_n > 0), recent - past, np.nan)
    from_base = np.where(recent_n > 0, recent - base, np.nan)

    direction = np.array([feat.DIRECTION[c] for c in CHANNELS], dtype=float)
    cap = np.array([feat._CAP[c] for c in CHANNELS])  # noqa: SLF001
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
    limit = np.array([feat.NORMAL_LIMIT[c] for c in CHANNELS])
    level_feature = np.nan_to_num(np.clip((current - limit) * direction, 0.0, cap), nan=0.0)
    recent_hours = channels[:, HOURS - feat.WORST_H :, :] * direction
    present = ~np.isnan(recent_hours)
    worst = np.where(present, recent_hours, -np.inf).max(axis=1) * direction
    worst[~present.any(axis=1)] = np.nan
    worst_feature = np.nan_to_num(np.clip((worst - limit) * direction, 0.0, cap), nan=0.0)
    values = np.column_stack([news, level_feature, worst_feature, trend_feature, base_feature])
    return feat.Features(values, current, worst, trend, from_base, base)


def group_of(name: str) -> str:
    if name.startswith("news2_"):
        return name[len("news2_") :]
    for channel in feat.CHANNELS:
        if name.startswith(channel + "_"):
            return channel
    raise ValueError(f"unknown feature {name}")


def _signed(value: float, unit: str, digits: int) -> str:
    sign = "+" if value >= 0 else "−"
    return f"{sign}{abs(value):.{digits}f}{unit}"


def _digits(channel: str) -> int:
    return 2 if channel == "shock_index" else 1 if channel == "temperature" else 0


def describe(name: str, f: feat.Features, row: int = 0) -> str:
    index = {c: i for i, c in enumerate(feat.CHANNELS)}
    if name.startswith("news2_"):
        part = name[len("news2_") :]
        points = int(f.values[row, feat.FEATURES.index(name)])
        if part == "air_or_oxygen":
            return f"on supplemental oxygen (NEWS2 {points})"
        channel = part
        value = f.current[row, index[channel]]
        return f"{feat.LABEL[channel]} {value:.{_digits(channel)}f}{feat.UNIT[channel]} (NEWS2 {points})"
    if name.endswith("_level"):
        channel = name[: -len("_level")]
        digits = _digits(channel)
        return (
            f"{feat.LABEL[channel]} {f.current[row, index[channel]]:.{digits}f}"
            f"{feat.UNIT[channel]} (normal limit {feat.NORMAL_LIMIT[channel]:g})"
        )
    if name.endswith(f"_worst_{feat.WORST_H}h"):
        channel = name[: -len(f"_worst_{feat.WORST_H}h")]
        digits = _digits(channel)
        word = "highest" if feat.DIRECTION[channel] > 0 else "lowest"
        return (
            f"{feat.LABEL[channel]} {word} {f.worst[row, index[channel]]:.{digits}f}"
            f"{feat.UNIT[channel]} in the last {feat.WORST_H} h"
        )
    if name.endswith("_trend"):
        channel = name[: -len("_trend")]
        change = f.trend[row, index[channel]]
        return f"{feat.LABEL[channel]} {_signed(change, feat.UNIT[channel], _digits(channel))} over {feat.TREND_H} h"
    channel = name[: -len("_from_baseline")]
    change, base = f.from_baseline[row, index[channel]], f.baseline[row, index[channel]]
    digits = _digits(channel)
    return f"{feat.LABEL[channel]} {_signed(change, feat.UNIT[channel], digits)} from baseline {base:.{digits}f}"


def reason(group: str, parts: dict[str, float], f: feat.Features, least: float, row: int = 0) -> str:
    if group == "air_or_oxygen":
        return f"on supplemental oxygen [+{sum(parts.values()):.2f}]"
    index = feat.CHANNELS.index(group)
    digits, unit = _digits(group), feat.UNIT[group]
    said = []
    if parts.get(f"{group}_level", 0) >= least or parts.get(f"news2_{group}", 0) >= least:
        said.append(f"{feat.LABEL[group]} {f.current[row, index]:.{digits}f}{unit}")
    worst = f"{group}_worst_{feat.WORST_H}h"
    if parts.get(worst, 0) >= least:
        said.append(
            describe(worst, f, row) if not said else describe(worst, f, row).replace(feat.LABEL[group] + " ", "", 1)
        )
    for name in (f"{group}_trend", f"{group}_from_baseline"):
        if parts.get(name, 0) >= least:
            text = describe(name, f, row)
            said.append(text if not said else text.replace(feat.LABEL[group] + " ", "", 1))
    if not said:
        said.append(f"{feat.LABEL[group]} {f.current[row, index]:.{digits}f}{unit}")
    return f"{', '.join(said)} [+{sum(parts.values()):.2f}]"


def assess(model: Model, hourly: np.ndarray, on_oxygen: bool = False, top: int = 3, least: float = 0.05) -> Assessment:
    f = compute(hourly, on_oxygen)
    parts = (np.asarray(f.values) * model.weights)[0]
    by_feature = {name: float(p) for name, p in zip(model.features, parts)}
    groups: dict[str, dict[str, float]] = {}
    for name, value in by_feature.items():
        groups.setdefault(group_of(name), {})[name] = value
    totals = sorted(((sum(g.values()), name) for name, g in groups.items()), key=lambda item: -item[0])
    reasons = tuple(reason(name, groups[name], f, least) for total, name in totals[:top] if total >= least)
    return Assessment(float(parts.sum()), by_feature, reasons)


def evaluate(
    model: Model, minutes: np.ndarray, on_oxygen: bool = False, top: int = 3, least: float = 0.05
) -> Assessment:
    """One engine evaluation from the window's (1440, COUNT) per-minute medians."""
    return assess(model, hourly_medians(minutes), on_oxygen, top, least)


def engine_evaluate(self, patient, at: float, news2: int, on_oxygen: bool, risk_period: bool = False) -> None:
    """monitor/deterioration/engine_rule.py's HourlyWarning.evaluate as it was (4759c6e), on
    the frozen `assess` above: patched over the engine's in the tests, it must give the same
    alerts. It predates the risk-period rule, which the real ICU stays never meet."""
    import math

    assert not risk_period, "the frozen reference has no CRS risk period"

    from monitor.deterioration.alerting import AlertState

    # The patient keeps the AlertState itself since the rule registry (its list form is only
    # the stored bytes'); the reference evaluation is otherwise as it was.
    state = patient.deterioration if patient.deterioration is not None else AlertState.new()
    hour = int(round((at - self.grace_s) / 3600))
    minutes = patient.window.minutes_until(hour * 60, feat.HOURS * 60)
    assessment = assess(self.model, hourly_medians(minutes), on_oxygen, self.top, self.least)
    state.step(assessment.score, self.dynamics, news2)
    state.hour = hour
    patient.deterioration = state
    if state.medium.open or state.high.open:
        floor = self.dynamics.news2_high_floor
        floored = (f"NEWS2 {news2} (≥ {floor}: emergency response, RCP 2017)",) if floor and news2 >= floor else ()
        patient.deterioration_reasons = (f"deterioration score {assessment.score:.2f}",) + floored + assessment.reasons
    newest = max((t for t in patient.newest_at if t is not None), default=-math.inf)
    settled = not state.medium.open and not state.high.open and state.medium.run == 0 and state.high.run == 0
    if settled and newest < at - feat.HOURS * 3600:
        patient.deterioration_due = math.inf
    else:
        patient.deterioration_due = (hour + 1) * 3600 + self.grace_s


def minutes_until(window, end_minute: int, count: int, columns=slice(COUNT)) -> np.ndarray:
    """monitor/window.py's Window.minutes_until as it was (4759c6e): the ring's minutes
    converted all at once (gathered where the ring wraps)."""
    from bisect import bisect_left

    from monitor.window import _SCALE

    width = COUNT if isinstance(columns, slice) else len(columns)
    result = np.full((count, width), np.nan)
    first = end_minute - count + 1
    size = window.limits.minutes
    low = max(first, window.last_minute - size + 1)
    high = min(end_minute, window.last_minute)
    if high >= low:
        start, stop = low % size, high % size + 1
        if stop > start:
            codes = window.ring[start:stop, columns]
        else:
            codes = window.ring[np.arange(low, high + 1) % size][:, columns]
        block = codes / _SCALE
        block[codes == 0] = np.nan
        result[low - first : high - first + 1] = block
    times = window.times
    start = bisect_left(times, first * 60)
    stop = bisect_left(times, (end_minute + 1) * 60)
    if stop > start:
        minutes, medians = window._minute_medians(start, stop, columns)  # noqa: SLF001
        result[minutes - first] = medians
    return result
