"""Fitting an additive model with a learned shape per feature: each of the warning's features
(one-sided, 0 for a stable patient within normal limits, growing with deterioration) gets a
step function over its own bins instead of one weight, fitted by cyclic boosting — one feature
at a time, a damped Newton step per bin on the class-balanced log-likelihood — and kept
non-decreasing and 0 at 0 after every step (pool-adjacent-violators, then shifting the
feature's table into the intercept). So, as with the logistic model, every contribution is
≥ 0, a worse value never lowers the score, and a stable normal patient scores exactly 0; but
a fever of 38.3 °C need not weigh half of one of 39.5 °C.

Inference is one table look-up per feature (monitor/deterioration/model.py reads the tables
from the weights file). Used by bench/deterioration/crossval.py and
scripts/fit_deterioration.py --additive.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

BINS = 10  # at most this many bins above 0 per feature (quantiles of its positive values)
ROUNDS = 30
LEARNING_RATE = 0.3
SMOOTHING = 200.0  # added to each bin's hessian: a bin needs data to move far from 0


class Shapes(NamedTuple):
    """Per feature: the upper edges of its bins above 0 (a value v > 0 falls into the first
    bin whose edge is ≥ v, the last bin beyond the last edge) and the table of contributions,
    table[0] for v ≤ 0 (always 0), table[i] for bin i."""

    edges: list[np.ndarray]
    tables: list[np.ndarray]
    intercept: float


def bin_edges(column: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Quantile edges of a feature's positive values; every distinct value its own bin when
    there are few (NEWS2 points: 1, 2, 3)."""
    positive = column[column > 0]
    if len(positive) == 0:
        return np.zeros(0)
    distinct = np.unique(positive)
    if len(distinct) <= bins:
        return distinct[:-1].astype(float)
    edges = np.unique(np.quantile(positive, np.linspace(0, 1, bins + 1)[1:-1]))
    return edges.astype(float)


def bin_of(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0 for values ≤ 0 (and NaN), else 1 + the index of the first edge ≥ the value."""
    index = 1 + np.searchsorted(edges, column, side="left")
    return np.where(column > 0, index, 0)


def _non_decreasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values.tolist(), np.maximum(weights, 1e-12).tolist()):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks[-1]
            blocks[-1] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2]
    return np.concatenate([np.full(c, v) for v, _, c in blocks])


def fit(
    x: np.ndarray,
    y: np.ndarray,
    rounds: int = ROUNDS,
    learning_rate: float = LEARNING_RATE,
    smoothing: float = SMOOTHING,
    bins: int = BINS,
) -> Shapes:
    """Shapes maximising the class-balanced log-likelihood of y (1: target hour) given x
    (rows, features), each shape non-decreasing with shape(0) = 0."""
    n, k = x.shape
    edges = [bin_edges(x[:, j], bins) for j in range(k)]
    index = [bin_of(x[:, j], edges[j]) for j in range(k)]
    tables = [np.zeros(len(e) + 2) for e in edges]
    positives = y.sum()
    sample = np.where(y > 0, (n - positives) / positives, 1.0)
    sample = sample / sample.mean()
    intercept = float(np.log(np.average(y, weights=sample) / (1 - np.average(y, weights=sample))))
    margin = np.full(n, intercept)
    for _ in range(rounds):
        for j in range(k):
            p = 1.0 / (1.0 + np.exp(-margin))
            g = sample * (p - y)
            h = sample * p * (1 - p)
            size = len(tables[j])
            gsum = np.bincount(index[j], g, minlength=size)
            hsum = np.bincount(index[j], h, minlength=size)
            step = -learning_rate * gsum / (hsum + smoothing)
            new = _non_decreasing(tables[j] + step, hsum + smoothing)
            shift = float(new[0])
            new = new - shift
            margin += new[index[j]] - tables[j][index[j]] + shift
            intercept += shift
            tables[j] = new
        # the intercept alone, once a round
        p = 1.0 / (1.0 + np.exp(-margin))
        move = -float((sample * (p - y)).sum() / (sample * p * (1 - p)).sum())
        margin += move
        intercept += move
    return Shapes(edges, tables, intercept)


def score(shapes: Shapes, x: np.ndarray) -> np.ndarray:
    """Σ per feature of its table at the value's bin (intercept excluded: 0 when all are 0)."""
    total = np.zeros(len(x))
    for j, (e, t) in enumerate(zip(shapes.edges, shapes.tables)):
        total += t[bin_of(x[:, j], e)]
    return total


# -- shapes over the raw values: two-sided, NaN contributing nothing ----------------------------


def raw_edges(column: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Quantile edges of a measured value (NaN: not measured)."""
    present = column[~np.isnan(column)]
    if len(present) == 0:
        return np.zeros(0)
    distinct = np.unique(present)
    if len(distinct) <= bins:
        return ((distinct[:-1] + distinct[1:]) / 2).astype(float)
    return np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])).astype(float)


def raw_bin_of(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0 where not measured, else 1 + the number of edges below the value."""
    index = 1 + np.searchsorted(edges, column, side="left")
    return np.where(np.isnan(column), 0, index)


def _project(table: np.ndarray, weights: np.ndarray, monotone: int) -> np.ndarray:
    """Monotone in the direction asked (0: free), then shifted so that the smallest measured
    bin contributes 0; not measured (bin 0) contributes 0."""
    body = table[1:]
    if monotone > 0:
        body = _non_decreasing(body, weights[1:])
    elif monotone < 0:
        body = -_non_decreasing(-body, weights[1:])
    body = body - body.min() if len(body) else body
    return np.concatenate(([0.0], body))


def fit_raw(
    x: np.ndarray,
    y: np.ndarray,
    monotone: list[int],
    rounds: int = ROUNDS,
    learning_rate: float = LEARNING_RATE,
    smoothing: float = SMOOTHING,
    bins: int = 16,
) -> Shapes:
    """Shapes over raw values (NaN: not measured), each ≥ 0 with its minimum at 0, monotone
    where `monotone` says (+1 rising is worse, −1 falling is worse, 0 free)."""
    n, k = x.shape
    edges = [raw_edges(x[:, j], bins) for j in range(k)]
    index = [raw_bin_of(x[:, j], edges[j]) for j in range(k)]
    tables = [np.zeros(len(e) + 2) for e in edges]
    positives = y.sum()
    sample = np.where(y > 0, (n - positives) / positives, 1.0)
    sample = sample / sample.mean()
    prior = np.average(y, weights=sample)
    intercept = float(np.log(prior / (1 - prior)))
    margin = np.full(n, intercept)
    for _ in range(rounds):
        for j in range(k):
            p = 1.0 / (1.0 + np.exp(-margin))
            g = sample * (p - y)
            h = sample * p * (1 - p)
            size = len(tables[j])
            gsum = np.bincount(index[j], g, minlength=size)
            hsum = np.bincount(index[j], h, minlength=size)
            new = _project(tables[j] - learning_rate * gsum / (hsum + smoothing), hsum + smoothing, monotone[j])
            margin += new[index[j]] - tables[j][index[j]]
            tables[j] = new
        p = 1.0 / (1.0 + np.exp(-margin))
        step = -float((sample * (p - y)).sum() / (sample * p * (1 - p)).sum())
        margin += step
        intercept += step
    return Shapes(edges, tables, intercept)


def score_raw(shapes: Shapes, x: np.ndarray) -> np.ndarray:
    total = np.zeros(len(x))
    for j, (e, t) in enumerate(zip(shapes.edges, shapes.tables)):
        total += t[raw_bin_of(x[:, j], e)]
    return total
