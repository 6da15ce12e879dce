"""The bedside scores a clinician compares an early warning with, on the stay's hourly grid.

Each value is carried forward as the engine carries it (`carry_forward_min`, 4 h by default:
a value recorded in hour k counts in hours k to k + 3), so the scores and crsmon see the same
values at the same hours. A score flags an hour when it reaches its threshold there.

- NEWS2 (RCP 2017) with the project's own chart (monitor/scores/news2.py), SpO2 scale 1;
  consciousness is not recorded in these exports and scores 0; no word of oxygen means air.
- qSOFA (Singer 2016): respiratory rate ≥ 22, systolic BP ≤ 100, altered mentation; mentation
  is not recorded, so it counts two criteria of three.
- SIRS (Bone 1992): temperature > 38 or < 36 °C, heart rate > 90, respiratory rate > 20 or
  PaCO2 < 32 mmHg, white cells > 12 or < 4 × 10³/µL — the laboratory criteria where recorded.
"""

from __future__ import annotations

import math

import numpy as np

from monitor.scores.news2 import news2
from validation.stays import COLUMN, Stay

#: Thresholds a score is reported at, and the what-if range of each.
COMPARATORS: dict[str, tuple[int, ...]] = {"NEWS2": (5, 7), "qSOFA": (2,), "SIRS": (2,)}
SWEEP: dict[str, tuple[int, ...]] = {"NEWS2": (3, 4, 5, 6, 7, 8, 9), "qSOFA": (1, 2), "SIRS": (1, 2, 3)}


def carried(grid: np.ndarray, carry_hours: int) -> np.ndarray:
    """Each column's latest value of the last `carry_hours` hours (NaN where none)."""
    hours = grid.shape[0]
    present = ~np.isnan(grid)
    index = np.where(present, np.arange(hours)[:, None], -1)
    last = np.maximum.accumulate(index, axis=0)
    values = np.take_along_axis(grid, np.maximum(last, 0), axis=0)
    fresh = (last >= 0) & (np.arange(hours)[:, None] - last < carry_hours)
    return np.where(fresh, values, np.nan)


def scores(stay: Stay, carry_minutes: float) -> dict[str, np.ndarray]:
    """Each bedside score, hour by hour."""
    values = carried(stay.grid, max(1, math.ceil(carry_minutes / 60)))
    hr, sbp, temp, spo2, rr = (
        values[:, COLUMN[name]] for name in ("heart_rate", "systolic_bp", "temperature", "spo2", "respiratory_rate")
    )
    oxygen, paco2, wbc = (values[:, COLUMN[name]] for name in ("on_oxygen", "paco2", "wbc"))
    news = np.array(
        [
            news2(
                respiratory_rate=_value(rr[h]),
                spo2=_value(spo2[h]),
                on_oxygen=oxygen[h] == 1,
                systolic_bp=_value(sbp[h]),
                heart_rate=_value(hr[h]),
                temperature=_value(temp[h]),
            ).score
            for h in range(len(hr))
        ],
        dtype=np.int16,
    )
    with np.errstate(invalid="ignore"):
        qsofa = (rr >= 22).astype(np.int16) + (sbp <= 100)
        sirs = (
            ((temp > 38) | (temp < 36)).astype(np.int16)
            + (hr > 90)
            + ((rr > 20) | (paco2 < 32))
            + ((wbc > 12) | (wbc < 4))
        )
    return {"NEWS2": news, "qSOFA": qsofa, "SIRS": sirs}


def _value(number: float) -> float | None:
    return None if math.isnan(number) else float(number)
