"""Fit the deterioration warning's weights and alert thresholds on the development set.

    .venv/bin/python scripts/fit_deterioration.py /path/to/physionet2019-sepsis-dev \
        [--out monitor/deterioration/weights-v1.json]

Reproduces monitor/deterioration/weights-v1.json from the PhysioNet/CinC 2019 development
folder (the project never reads that folder at run time). Steps:

1. a patient-level split, stratified by sepsis (bench/deterioration/data.py: 30 % held out,
   seed 12); everything below sees only the fit split;
2. target: an hour of a septic stay from `horizon` hours before clinical onset up to onset is
   positive; every hour of a non-septic stay is negative; other hours of septic stays (long
   before onset, after onset) are left out — they are neither the warning we want nor the
   quiet we want. Positives are weighted so that both classes weigh the same;
3. weights: logistic regression with weights ≥ 0 (projected Newton, L2 on standardised
   features), numpy only;
4. thresholds, for each level on its own: for each persistence (2–3 h: a single hourly
   evaluation never opens an alert, so one artifact-laden hour cannot page), resolve
   hysteresis (1–4 h) and resolve/open ratio, the lowest open threshold whose burden on the
   fit split stays under the issue's limits with a margin (high ≤ 0.40 firings/day and
   ≤ 3.0 % hours; medium ≤ 1.25 and ≤ 11.5 %); the dynamics that catch most septic stays at
   −6 h win, ties going to −3 h and 0 h, then to the first tried (shorter persistence and
   hysteresis).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.deterioration import metrics  # noqa: E402
from bench.deterioration.data import Stay, read_folder, split  # noqa: E402
from bench.deterioration.hourly import stay_features  # noqa: E402
from monitor.deterioration import features as feat  # noqa: E402
from monitor.deterioration.alerting import Dynamics, simulate  # noqa: E402
from monitor.deterioration.model import WEIGHTS_FILE, Model, to_json  # noqa: E402

VERSION = "1"
HORIZON_H = 12
L2 = 1.0
#: The issue's limits, and the margin kept on the fit split for patients we have not seen.
HIGH_LIMITS = (0.40, 0.030)  # issue: ≤ 0.45 firings/day, ≤ 3.5 % hours
MEDIUM_LIMITS = (1.25, 0.115)  # issue: ≤ 1.4 firings/day, ≤ 13 % hours
PERSISTENCE = (2, 3)
RESOLVE = (1, 2, 3, 4)
RESOLVE_RATIO = (1.0, 0.85, 0.7)


def training_rows(stays: list[Stay], values: list[np.ndarray], horizon: int,
                  target: str = "window") -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the hours the fit learns from (see the module docstring).
    `target="stay"` instead makes every hour of a septic stay up to onset positive."""
    xs, ys = [], []
    for stay, x in zip(stays, values):
        hours = np.arange(stay.hours)
        keep = stay.measured.copy()
        if stay.septic:
            if target == "window":
                keep &= (hours >= stay.onset - horizon) & (hours <= stay.onset)
            else:
                keep &= hours <= stay.onset
        xs.append(x[keep])
        ys.append(np.full(int(keep.sum()), stay.septic, dtype=float))
    return np.vstack(xs), np.concatenate(ys)


def fit_nonnegative_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2,
                             iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights ≥ 0 and a free intercept maximising the class-balanced log-likelihood minus
    l2/2·|w|² on standardised features: projected Newton (Newton on the free variables,
    then clamping at 0; a variable at 0 is free again when its gradient points inwards)."""
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.column_stack([np.ones(len(x)), x / scale])
    positives = y.sum()
    sample = np.where(y > 0, (len(y) - positives) / positives, 1.0)
    sample = sample / sample.mean()
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (sample * (p - y)) + penalty * w
        free = np.ones(len(w), dtype=bool)
        free[1:] = (w[1:] > 0) | (gradient[1:] < 0)
        h = (z[:, free] * (sample * p * (1 - p))[:, None]).T @ z[:, free]
        h += np.diag(penalty[free]) + 1e-9 * np.eye(int(free.sum()))
        step = np.zeros_like(w)
        step[free] = np.linalg.solve(h, gradient[free])
        new = w - step
        new[1:] = np.maximum(new[1:], 0.0)
        if np.max(np.abs(new - w)) < 1e-7:
            w = new
            break
        w = new
    return w[1:] / scale, float(w[0])


def _single_level(scores: list[np.ndarray], open_at: float, resolve_below: float,
                  persistence: int, resolve: int) -> list[np.ndarray]:
    """One level's machine over each stay: the same rule as alerting.LevelState, inlined
    because the threshold search runs it thousands of times."""
    out = []
    for stay_scores in scores:
        flags = np.zeros(len(stay_scores), dtype=bool)
        is_open, run = False, 0
        for hour, value in enumerate(stay_scores.tolist()):
            if not is_open:
                run = run + 1 if value >= open_at else 0
                if run >= persistence:
                    is_open, run = True, 0
            else:
                run = run + 1 if value < resolve_below else 0
                if run >= resolve:
                    is_open, run = False, 0
            flags[hour] = is_open
        out.append(flags)
    return out


def _lowest_threshold(stays: list[Stay], scores: list[np.ndarray], limits: tuple[float, float],
                      persistence: int, resolve: int, ratio: float) -> tuple[float, dict]:
    """Bisection on the open threshold: burden falls as it rises."""
    others = [i for i, s in enumerate(stays) if not s.septic]
    other_scores = [scores[i] for i in others]
    other_stays = [stays[i] for i in others]
    low, high = 0.0, float(np.percentile(np.concatenate(other_scores), 99.9)) + 1.0

    def within(threshold: float) -> bool:
        flags = _single_level(other_scores, threshold, threshold * ratio, persistence, resolve)
        f = metrics.figures(metrics.summarise(other_stays, flags))
        return f["firings_per_day"] <= limits[0] and f["hours_flagged"] <= limits[1]

    for _ in range(18):
        middle = (low + high) / 2
        if within(middle):
            high = middle
        else:
            low = middle
    flags = _single_level(scores, high, high * ratio, persistence, resolve)
    return high, metrics.figures(metrics.summarise(stays, flags))


def choose_level(stays: list[Stay], scores: list[np.ndarray], limits: tuple[float, float],
                 name: str) -> tuple[tuple[float, float, int, int], list[str]]:
    """(open, resolve, persistence, resolve hours) of one level that catch most at −6 h."""
    best, log = None, []
    for persistence in PERSISTENCE:
        for resolve in RESOLVE:
            for ratio in RESOLVE_RATIO:
                threshold, f = _lowest_threshold(stays, scores, limits, persistence, resolve, ratio)
                value = (round(f["sens_6"], 6), round(f["sens_3"] + f["sens_0"], 6))
                log.append(f"{name}: persistence {persistence} h, resolve {resolve} h, ratio "
                           f"{ratio}: open ≥ {threshold:.2f}, catches {f['sens_6']:.1%} at −6 h, "
                           f"{f['sens_3']:.1%} at −3 h, {f['sens_0']:.1%} at 0 h; "
                           f"{f['hours_flagged']:.1%} hours, {f['firings_per_day']:.2f}/day")
                if best is None or value > best[0]:
                    best = (value, (threshold, threshold * ratio, persistence, resolve))
    return best[1], log


def choose_dynamics(stays: list[Stay], scores: list[np.ndarray]) -> tuple[Dynamics, list[str]]:
    """Each level's persistence, hysteresis and thresholds, chosen on its own."""
    high, log_high = choose_level(stays, scores, HIGH_LIMITS, "high")
    medium, log_medium = choose_level(stays, scores, MEDIUM_LIMITS, "medium")
    dynamics = Dynamics(medium[0], medium[1], max(high[0], medium[0]), high[1],
                        medium[2], medium[3], high[2], high[3])
    return dynamics, log_high + log_medium


def fit(folder: str, horizon: int = HORIZON_H, target: str = "window",
        verbose: bool = True) -> Model:
    stays = read_folder(folder)
    fit_stays, _ = split(stays)
    values = [stay_features(s).values for s in fit_stays]
    x, y = training_rows(fit_stays, values, horizon, target)
    weights, intercept = fit_nonnegative_logistic(x, y)
    scores = [v @ weights for v in values]
    chosen, log = choose_dynamics(fit_stays, scores)
    dynamics = Dynamics.from_thresholds({name: (value if name.endswith("_h") else round(value, 3))
                                         for name, value in chosen.as_dict().items()})
    if verbose:
        print("\n".join(log))
        for name, w in zip(feat.FEATURES, weights):
            print(f"{name:40s} {w:8.4f}")
        print(dynamics)
    # the exact engine dynamics, as a check of the inlined search
    flags = [simulate(s, dynamics) for s in scores]
    high = metrics.figures(metrics.summarise(fit_stays, [f[1] for f in flags]))
    medium = metrics.figures(metrics.summarise(fit_stays, [f[0] for f in flags]))
    septic = sum(s.septic for s in fit_stays)
    about = {
        "created": dt.date.today().isoformat(),
        "fitted_by": "scripts/fit_deterioration.py",
        "training_data": (
            f"PhysioNet/CinC 2019 challenge, training set B (Emory), development subset of "
            f"{len(stays)} ICU stays; fit split {len(fit_stays)} stays ({septic} septic), "
            f"patient-level, stratified, 30 % held out with seed 12 (bench/deterioration/data.py)"),
        "target": (f"hour of a septic stay within {horizon} h before clinical onset (onset = "
                   f"first SepsisLabel hour + 6) up to onset: positive; every hour of a "
                   f"non-septic stay: negative; other septic hours left out; classes weighed "
                   f"equally" if target == "window" else "every hour of a septic stay up to onset"),
        "model": ("logistic regression, weights ≥ 0, L2 on standardised features; score = "
                  "sum of weight × feature (intercept excluded, so a stable normal patient "
                  "scores 0)"),
        "inputs": ("hourly medians of the last 24 h (monitor/deterioration/features.py); "
                   "oxygen = FiO2 > 0.21 in the data, the oxygen in force in the engine"),
        "fit_split_figures": {
            "high": {k: round(float(v), 4) for k, v in high.items()},
            "medium_or_above": {k: round(float(v), 4) for k, v in medium.items()},
        },
    }
    thresholds = dynamics.as_dict()
    return Model(VERSION, feat.FEATURES, np.round(weights, 6), round(intercept, 6), thresholds,
                 about)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the PhysioNet 2019 development folder (*.psv)")
    parser.add_argument("--out", default=str(WEIGHTS_FILE), help="weights file to write")
    parser.add_argument("--horizon", type=int, default=HORIZON_H)
    parser.add_argument("--target", choices=("window", "stay"), default="window")
    args = parser.parse_args()
    model = fit(args.folder, args.horizon, args.target)
    Path(args.out).write_text(to_json(model))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
