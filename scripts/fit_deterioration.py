"""Fit the deterioration warning's weights and alert thresholds on the development set.

    .venv/bin/python scripts/fit_deterioration.py /path/to/physionet2019-sepsis-dev \
        [--version 2] [--out monitor/deterioration/weights-v2.json]

Reproduces monitor/deterioration/weights-v2.json (the shipped file; `--version 1`:
weights-v1.json) from the PhysioNet/CinC 2019 development folder (the project never reads that
folder at run time). Steps:

1. version 2: every stay of the development set (issue 22: the recipe's figures come from
   patient-level cross-validation, bench/deterioration/crossval.py, so no stays are kept back
   here); version 1: a patient-level split, stratified by sepsis (bench/deterioration/data.py:
   30 % held out, seed 12), everything below seeing only the fit split;
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
   hysteresis). The search runs with the NEWS2 floor in place (NEWS2 ≥ 7 counts as at
   least the high threshold, monitor/deterioration/alerting.py), so its burden is included.
   Version 2 holds `high` to NEWS2 ≥ 7's own burden on the same stays instead (its firings
   per patient-day and fitting.HIGH_BURDEN_MARGIN × its share of hours, as `crsmon validate`
   scores it: fitting.bedside_burden), counting hours as the engine does, each episode's
   closing hour too (fitting.engine_hours); `medium` as version 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.deterioration import metrics  # noqa: E402
from bench.deterioration.data import read_folder, split  # noqa: E402
from bench.deterioration.fitting import (  # noqa: E402
    HIGH_BURDEN_MARGIN,
    HORIZON_H,
    bedside_burden,
    choose_dynamics,
    fit_nonnegative_logistic,
    news2_of,
    training_rows,
)
from bench.deterioration.hourly import stay_features  # noqa: E402
from monitor.deterioration import features as feat  # noqa: E402
from monitor.deterioration.alerting import Dynamics, simulate  # noqa: E402
from monitor.deterioration.model import WEIGHTS_FILE, Model, to_json  # noqa: E402

VERSIONS = ("1", "2")


def fit(
    folder: str, horizon: int = HORIZON_H, target: str = "window", verbose: bool = True, version: str = "2"
) -> Model:
    stays = read_folder(folder)
    fit_stays = split(stays)[0] if version == "1" else stays
    values = [stay_features(s).values for s in fit_stays]
    x, y = training_rows(fit_stays, values, horizon, target)
    weights, intercept = fit_nonnegative_logistic(x, y)
    scores = [v @ weights for v in values]
    news2 = [news2_of(v) for v in values]
    search = {} if version == "1" else {"high_limits": bedside_burden(fit_stays, margin=HIGH_BURDEN_MARGIN)}
    chosen, log = choose_dynamics(fit_stays, scores, news2, high_closing_hour=version != "1", **search)
    dynamics = Dynamics.from_thresholds(
        {name: (value if name.endswith("_h") else round(value, 3)) for name, value in chosen.as_dict().items()}
    )
    if verbose:
        print("\n".join(log))
        for name, w in zip(feat.FEATURES, weights):
            print(f"{name:40s} {w:8.4f}")
        print(dynamics)
    # the exact engine dynamics, as a check of the inlined search
    flags = [simulate(s, dynamics, n) for s, n in zip(scores, news2)]
    high = metrics.figures(metrics.summarise(fit_stays, [f[1] for f in flags]))
    medium = metrics.figures(metrics.summarise(fit_stays, [f[0] for f in flags]))
    septic = sum(s.septic for s in fit_stays)
    about = {
        "created": dt.date.today().isoformat(),
        "fitted_by": "scripts/fit_deterioration.py",
        "training_data": (
            f"PhysioNet/CinC 2019 challenge, training set B (Emory), development subset of "
            f"{len(stays)} ICU stays; fit split {len(fit_stays)} stays ({septic} septic), "
            f"patient-level, stratified, 30 % held out with seed 12 (bench/deterioration/data.py)"
            if version == "1"
            else f"PhysioNet/CinC 2019 challenge, training set B (Emory), development subset: all "
            f"{len(stays)} ICU stays ({septic} septic); figures on unseen patients by patient-level "
            f"cross-validation of this recipe (bench/deterioration/crossval.py)"
        ),
        "alert_search": (
            "each level: the lowest open threshold under fitting.HIGH_LIMITS / MEDIUM_LIMITS"
            if version == "1"
            else f"high: the lowest open threshold keeping NEWS2 >= 7's own firings per patient-day "
            f"and {HIGH_BURDEN_MARGIN} x its share of hours on these stays ({search['high_limits'][0]:.3f}, "
            f"{search['high_limits'][1]:.4f}), hours counted as the engine counts them (each "
            f"episode's closing hour too); medium: under fitting.MEDIUM_LIMITS"
        ),
        "target": (
            f"hour of a septic stay within {horizon} h before clinical onset (onset = "
            f"first SepsisLabel hour + 6) up to onset: positive; every hour of a "
            f"non-septic stay: negative; other septic hours left out; classes weighed "
            f"equally"
            if target == "window"
            else "every hour of a septic stay up to onset"
        ),
        "model": (
            "logistic regression, weights ≥ 0, L2 on standardised features; score = "
            "sum of weight × feature (intercept excluded, so a stable normal patient "
            "scores 0); NEWS2 >= news2_high_floor counts as at least high_open"
        ),
        "inputs": (
            "hourly medians of the last 24 h (monitor/deterioration/features.py); "
            "oxygen = FiO2 > 0.21 in the data, the oxygen in force in the engine"
        ),
        ("fit_split_figures" if version == "1" else "training_figures_in_sample"): {
            "high": {k: round(float(v), 4) for k, v in high.items()},
            "medium_or_above": {k: round(float(v), 4) for k, v in medium.items()},
        },
    }
    thresholds = dynamics.as_dict()
    return Model(version, feat.FEATURES, np.round(weights, 6), round(intercept, 6), thresholds, about)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the PhysioNet 2019 development folder (*.psv)")
    parser.add_argument("--version", choices=VERSIONS, default=VERSIONS[-1], help="the recipe (see above)")
    parser.add_argument("--out", default="", help="weights file to write (default: weights-vVERSION.json)")
    parser.add_argument("--horizon", type=int, default=HORIZON_H)
    parser.add_argument("--target", choices=("window", "stay"), default="window")
    args = parser.parse_args()
    model = fit(args.folder, args.horizon, args.target, version=args.version)
    args.out = args.out or str(WEIGHTS_FILE.with_name(f"weights-v{args.version}.json"))
    Path(args.out).write_text(to_json(model))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
