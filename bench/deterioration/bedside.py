"""The bedside scores on hourly records, as the issue's reference figures define them.

Each value is carried forward `carry_h` hours (a ward observation round); a missing value
scores 0. NEWS2 uses scale 1, consciousness is not recorded (scores 0), and FiO2 > 0.21 (also
carried forward) counts as supplemental oxygen; without an FiO2 the patient is on air.
"""

from __future__ import annotations

import numpy as np

from bench.deterioration.data import FIO2, HR, O2SAT, PACO2, RESP, SBP, TEMP, WBC, Stay
from monitor.scores import news2 as chart

CARRY_H = 4


def carry_forward(column: np.ndarray, hours: int = CARRY_H) -> np.ndarray:
    """Each hour's latest value measured at most `hours` hours earlier, else NaN."""
    out = np.full(len(column), np.nan)
    last, last_at = np.nan, -(10**9)
    for t, value in enumerate(column):
        if not np.isnan(value):
            last, last_at = value, t
        if t - last_at <= hours:
            out[t] = last
    return out


def _points(values: np.ndarray, score) -> np.ndarray:
    return np.array([0 if np.isnan(v) else score(float(v)) for v in values], dtype=float)


def news2_components(stay: Stay, carry_h: int = CARRY_H) -> np.ndarray:
    """(hours, 6) NEWS2 points: respiration, SpO2 (scale 1), oxygen, systolic, pulse,
    temperature; consciousness is never recorded in these data and scores 0."""
    v = stay.values
    cf = {c: carry_forward(v[:, c], carry_h) for c in (RESP, O2SAT, SBP, HR, TEMP, FIO2)}
    oxygen = np.where(cf[FIO2] > 0.21, 2.0, 0.0)
    return np.column_stack(
        [
            _points(cf[RESP], chart.respiration_points),
            _points(cf[O2SAT], chart.spo2_points),
            oxygen,
            _points(cf[SBP], chart.systolic_points),
            _points(cf[HR], chart.pulse_points),
            _points(cf[TEMP], chart.temperature_points),
        ]
    )


def news2_total(stay: Stay, carry_h: int = CARRY_H) -> np.ndarray:
    return news2_components(stay, carry_h).sum(axis=1)


def qsofa(stay: Stay, carry_h: int = CARRY_H) -> np.ndarray:
    """Respiratory rate ≥ 22 plus systolic ≤ 100; mentation is not recorded."""
    v = stay.values
    resp, sbp = carry_forward(v[:, RESP], carry_h), carry_forward(v[:, SBP], carry_h)
    with np.errstate(invalid="ignore"):
        return (resp >= 22).astype(float) + (sbp <= 100)


def sirs(stay: Stay, carry_h: int = CARRY_H) -> np.ndarray:
    """Temperature > 38 or < 36, HR > 90, resp > 20 or PaCO2 < 32, WBC > 12 or < 4."""
    v = stay.values
    cf = {c: carry_forward(v[:, c], carry_h) for c in (TEMP, HR, RESP, PACO2, WBC)}
    with np.errstate(invalid="ignore"):
        return (
            ((cf[TEMP] > 38) | (cf[TEMP] < 36)).astype(float)
            + (cf[HR] > 90)
            + ((cf[RESP] > 20) | (cf[PACO2] < 32))
            + ((cf[WBC] > 12) | (cf[WBC] < 4))
        )


#: name → (score function, threshold): flagged while score ≥ threshold, no persistence.
BEDSIDE = {
    "NEWS2 >= 5": (news2_total, 5),
    "NEWS2 >= 7": (news2_total, 7),
    "qSOFA >= 2": (qsofa, 2),
    "SIRS >= 2": (sirs, 2),
}


def bedside_flags(stays: list[Stay], carry_h: int = CARRY_H) -> dict[str, list[np.ndarray]]:
    """Per bedside score, each stay's hourly flag (score at or above its threshold)."""
    cache: dict = {}
    result = {}
    for name, (function, threshold) in BEDSIDE.items():
        flags = []
        for stay in stays:
            key = (function, stay.patient)
            if key not in cache:
                cache[key] = function(stay, carry_h)
            flags.append(cache[key] >= threshold)
        result[name] = flags
    return result
