"""Lab features for the deterioration warning — an experiment, not part of the shipped model.

Issue 20 asks whether lab results should feed the warning. The shipped model
(monitor/deterioration/weights-v2.json) takes vital signs only; `python -m
bench.deterioration.crossval FOLDER --labs` fits the same recipe with these features beside the
vital-sign ones, in the same folds, and prints both with a paired interval of the difference.
They join the shipped model only if they help on held-out patients (docs/validation.md says
what was measured).

Per hour t, from the results up to and including hour t (nothing later; a result is carried
forward for the rest of the stay, as a clinician reads the last one):
- how far the latest value lies beyond the bound where the organ-failure and sepsis criteria
  start counting (each feature is ≥ 0 and rises with deterioration, because the recipe's
  weights are non-negative): creatinine above 1.2 mg/dL and bilirubin above 1.2 mg/dL (SOFA's
  first renal and liver points: Vincent et al., Intensive Care Med 1996;22:707), platelets
  below 150 ×10^9/L (SOFA's first coagulation point), lactate above 2 mmol/L (Sepsis-3's septic
  shock criterion: Singer et al., JAMA 2016;315:801), white cells above 12 or below 4 ×10^9/L
  (SIRS: Bone et al., Chest 1992;101:1644);
- creatinine's rise over the lowest value of the 48 hours before (KDIGO 2012's acute kidney
  injury criterion is a rise of 0.3 mg/dL within 48 h);
- per test, whether it has been measured yet and whether it has not: which tests a clinician
  orders is itself a sign (a lactate is drawn when sepsis is suspected), and the weights, being
  non-negative, need both directions offered to use either.

These are bench constants, not clinical settings: nothing here alerts anyone. Units are those
of the PhysioNet 2019 files (validation/physionet.py, PHYSIONET_LABS: lactate in mmol/L).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Lab columns read, in `read_labs` order.
LAB_COLUMNS = ("Creatinine", "Lactate", "Bilirubin_total", "Platelets", "WBC")
CREATININE, LACTATE, BILIRUBIN, PLATELETS, WBC = range(len(LAB_COLUMNS))
RISE_WINDOW_H = 48

#: The features' names, in `lab_features` column order.
LAB_FEATURES: tuple[str, ...] = (
    "creatinine_above_1.2",
    "creatinine_rise_48h",
    "lactate_above_2",
    "bilirubin_above_1.2",
    "platelets_below_150",
    "wbc_above_12",
    "wbc_below_4",
    *(f"{column.lower()}_measured" for column in LAB_COLUMNS),
    *(f"{column.lower()}_not_measured" for column in LAB_COLUMNS),
)


def read_labs(path: Path) -> np.ndarray:
    """(hours, LAB_COLUMNS): the file's lab results by row, NaN where none (rows are the
    consecutive hours bench/deterioration/data.py reads)."""
    lines = path.read_text().split("\n")
    header = lines[0].split("|")
    index = [header.index(name) for name in LAB_COLUMNS]
    rows = [line.split("|") for line in lines[1:] if line]
    return np.array([[float(row[i]) for i in index] for row in rows], dtype=float).reshape(len(rows), len(LAB_COLUMNS))


def carried_forward(values: np.ndarray) -> np.ndarray:
    """Each column's latest value so far (NaN before the first): per hour, the row index of
    the latest result, then those values."""
    hours = np.arange(len(values))[:, None]
    latest = np.maximum.accumulate(np.where(np.isnan(values), -1, hours), axis=0)
    out = np.take_along_axis(values, np.maximum(latest, 0), axis=0)
    return np.where(latest >= 0, out, np.nan)


def rise_over_window(values: np.ndarray, window: int = RISE_WINDOW_H) -> np.ndarray:
    """Per hour: the latest value minus the lowest result of the `window` hours before it and
    that hour (0 before a second result: one value is no rise)."""
    latest = carried_forward(values[:, None])[:, 0]
    out = np.zeros(len(values))
    for hour in range(len(values)):
        start = max(0, hour - window)
        seen = values[start : hour + 1]
        seen = seen[~np.isnan(seen)]
        if len(seen) and not np.isnan(latest[hour]):
            out[hour] = max(0.0, latest[hour] - seen.min())
    return out


def lab_features(labs: np.ndarray) -> np.ndarray:
    """(hours, LAB_FEATURES) from `read_labs`' rows; 0 where a test has no result yet (its
    `_not_measured` indicator says so)."""
    latest = carried_forward(labs)
    measured = ~np.isnan(latest)

    def beyond(column: int, bound: float, sign: float) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(np.maximum(0.0, sign * (latest[:, column] - bound)))

    return np.column_stack(
        [
            beyond(CREATININE, 1.2, 1.0),
            rise_over_window(labs[:, CREATININE]),
            beyond(LACTATE, 2.0, 1.0),
            beyond(BILIRUBIN, 1.2, 1.0),
            beyond(PLATELETS, 150.0, -1.0),
            beyond(WBC, 12.0, 1.0),
            beyond(WBC, 4.0, -1.0),
            measured.astype(float),
            (~measured).astype(float),
        ]
    )
