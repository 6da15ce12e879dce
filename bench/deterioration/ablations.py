"""What each part of the deterioration warning is worth, and cross-validated figures.

    .venv/bin/python -m bench.deterioration.ablations /path/to/physionet2019-sepsis-dev

Each variant is refitted on the fit split exactly as scripts/fit_deterioration.py does, but
with the shipped alert dynamics' shape (persistence, resolve hours and resolve/open ratio per
level, the NEWS2 floor) kept and only the two open thresholds searched again under the same burden limits —
so variants differ only in what they change. Then: 5-fold cross-validation of the shipped
recipe over the whole development set (every stay scored by weights and thresholds fitted
without it), with bootstrap intervals.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.deterioration import metrics
from bench.deterioration.data import Stay, read_folder, split
from bench.deterioration.fitting import (
    HIGH_LIMITS,
    HORIZON_H,
    MEDIUM_LIMITS,
    _lowest_threshold,
    fit_nonnegative_logistic,
    floored,
    news2_of,
    training_rows,
)
from bench.deterioration.hourly import stay_features
from monitor.deterioration import features as feat
from monitor.deterioration import model as dmodel
from monitor.deterioration.alerting import Dynamics, simulate


def _columns(keep) -> np.ndarray:
    return np.array([i for i, name in enumerate(feat.FEATURES) if keep(name)])


VARIANTS = {
    "shipped: all 34 features": (_columns(lambda n: True), "window", HORIZON_H),
    "NEWS2 parts only (refitted weights)": (_columns(lambda n: n.startswith("news2_")), "window", HORIZON_H),
    "NEWS2 parts + 6 h trends + baseline (no levels, no worst 12 h)": (
        _columns(lambda n: n.startswith("news2_") or n.endswith(("_trend", "_from_baseline"))),
        "window",
        HORIZON_H,
    ),
    "without worst of 12 h": (_columns(lambda n: not n.endswith(f"_worst_{feat.WORST_H}h")), "window", HORIZON_H),
    "without trends and baseline": (
        _columns(lambda n: not n.endswith(("_trend", "_from_baseline"))),
        "window",
        HORIZON_H,
    ),
    "without oxygen (FiO2 > 0.21)": (_columns(lambda n: n != "news2_air_or_oxygen"), "window", HORIZON_H),
    "target: every septic hour up to onset": (_columns(lambda n: True), "stay", HORIZON_H),
    "target: 6 h before onset": (_columns(lambda n: True), "window", 6),
    "target: 24 h before onset": (_columns(lambda n: True), "window", 24),
}


def _shape(m: dmodel.Model) -> dict:
    t = m.thresholds
    floor = int(t.get("news2_high_floor", 0))
    return {
        "high": (int(t["high_persistence_h"]), int(t["high_resolve_h"]), t["high_resolve"] / t["high_open"], floor),
        "medium": (
            int(t["medium_persistence_h"]),
            int(t["medium_resolve_h"]),
            t["medium_resolve"] / t["medium_open"],
            floor,
        ),
    }


def thresholds_for(
    stays: list[Stay], scores: list[np.ndarray], shape: dict, news2: list[np.ndarray] | None
) -> Dynamics:
    ph, rh, qh, floor = shape["high"]
    pm, rm, qm, _ = shape["medium"]
    seen = floored(scores, news2, floor)
    high, _ = _lowest_threshold(stays, seen, HIGH_LIMITS, ph, rh, qh)
    medium, _ = _lowest_threshold(stays, seen, MEDIUM_LIMITS, pm, rm, qm)
    return Dynamics(
        medium, medium * qm, max(high, medium), high * qh, pm, rm, ph, rh, floor if news2 is not None else 0
    )


def _figures(
    stays: list[Stay], scores: list[np.ndarray], d: Dynamics, news2: list[np.ndarray] | None
) -> tuple[metrics.Summary, metrics.Summary]:
    nones: list[np.ndarray | None] = [None] * len(scores)
    flags = [simulate(s, d, None if news2 is None else n) for s, n in zip(scores, news2 or nones)]
    return (metrics.summarise(stays, [f[1] for f in flags]), metrics.summarise(stays, [f[0] for f in flags]))


def _cell(s: metrics.Summary) -> str:
    f = metrics.figures(s)
    return f"{100 * f['sens_6']:.1f} / {100 * f['hours_flagged']:.1f} / {f['firings_per_day']:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument(
        "--gbm",
        action="store_true",
        help="add scikit-learn gradient boosting as a comparison (needs scikit-learn; never shipped)",
    )
    args = parser.parse_args()
    shipped = dmodel.load()
    shape = _shape(shipped)
    stays = read_folder(args.folder)
    values = {s.patient: stay_features(s).values for s in stays}
    fit, held = split(stays)
    print(
        "| variant | high, fit split: % at −6 h / % hours / firings/day | high, held-out | "
        "medium+, fit split | medium+, held-out |\n|---|---|---|---|---|"
    )

    news2 = {s.patient: news2_of(values[s.patient]) for s in stays}
    fit_news2, held_news2 = [news2[s.patient] for s in fit], [news2[s.patient] for s in held]

    def report(name: str, fit_scores: list, held_scores: list, floor: bool = True) -> None:
        d = thresholds_for(fit, fit_scores, shape, fit_news2 if floor else None)
        fh, fm = _figures(fit, fit_scores, d, fit_news2 if floor else None)
        hh, hm = _figures(held, held_scores, d, held_news2 if floor else None)
        print(f"| {name} | {_cell(fh)} | {_cell(hh)} | {_cell(fm)} | {_cell(hm)} |", flush=True)

    for name, (columns, target, horizon) in VARIANTS.items():
        x, y = training_rows(fit, [values[s.patient][:, columns] for s in fit], horizon, target)
        w, _ = fit_nonnegative_logistic(x, y)
        report(
            name, [values[s.patient][:, columns] @ w for s in fit], [values[s.patient][:, columns] @ w for s in held]
        )
        if name.startswith("shipped"):
            report(
                "shipped features, without the NEWS2 ≥ 7 floor",
                [values[s.patient][:, columns] @ w for s in fit],
                [values[s.patient][:, columns] @ w for s in held],
                floor=False,
            )
    parts = slice(0, len([n for n in feat.FEATURES if n.startswith("news2_")]))
    report(
        "NEWS2 total (unweighted) with the same dynamics",
        [values[s.patient][:, parts].sum(axis=1) for s in fit],
        [values[s.patient][:, parts].sum(axis=1) for s in held],
        floor=False,
    )

    if args.gbm:
        from sklearn.ensemble import HistGradientBoostingClassifier

        def boosted(columns_of) -> tuple[list, list]:
            x, y = training_rows(fit, [columns_of(s) for s in fit], HORIZON_H)
            clf = HistGradientBoostingClassifier(
                max_iter=300, learning_rate=0.05, class_weight="balanced", random_state=0
            )
            clf.fit(x, y)
            score = lambda s: clf.decision_function(columns_of(s))  # noqa: E731
            return [score(s) for s in fit], [score(s) for s in held]

        raw = {}
        for s in stays:
            f = stay_features(s)
            raw[s.patient] = np.column_stack([f.current, f.trend, f.values[:, 2]])
        shape_no_floor = {k: v[:3] + (0,) for k, v in shape.items()}
        for name, columns_of in (
            ("GBM on current values + 6 h trends (+ oxygen)", lambda s: raw[s.patient]),
            ("GBM on the 34 features", lambda s: values[s.patient]),
        ):
            fit_scores, held_scores = boosted(columns_of)
            # scores can be negative: shift so the search's range (from 0) covers them
            low = min(float(np.min(v)) for v in fit_scores)
            fit_scores = [v - low for v in fit_scores]
            held_scores = [v - low for v in held_scores]
            d = thresholds_for(fit, fit_scores, shape_no_floor, None)
            fh, fm = _figures(fit, fit_scores, d, None)
            hh, hm = _figures(held, held_scores, d, None)
            print(f"| {name}, no floor | {_cell(fh)} | {_cell(hh)} | {_cell(fm)} | {_cell(hm)} |", flush=True)

    print("\n### 5-fold cross-validation of the shipped recipe (every stay scored out of fold)\n")
    folds = 5
    order = np.random.default_rng(5).permutation(len(stays))
    fold_of = {stays[i].patient: k % folds for k, i in enumerate(order)}
    flags_high, flags_medium = {}, {}
    for k in range(folds):
        train = [s for s in stays if fold_of[s.patient] != k]
        x, y = training_rows(train, [values[s.patient] for s in train], HORIZON_H)
        w, _ = fit_nonnegative_logistic(x, y)
        d = thresholds_for(train, [values[s.patient] @ w for s in train], shape, [news2[s.patient] for s in train])
        for s in stays:
            if fold_of[s.patient] == k:
                medium, high = simulate(values[s.patient] @ w, d, news2[s.patient])
                flags_high[s.patient], flags_medium[s.patient] = high, medium
    print(metrics.HEADER)
    print(
        metrics.row(
            "deterioration high (out of fold)",
            metrics.summarise(stays, [flags_high[s.patient] for s in stays]),
            args.reps,
        )
    )
    print(
        metrics.row(
            "deterioration medium or above (out of fold)",
            metrics.summarise(stays, [flags_medium[s.patient] for s in stays]),
            args.reps,
        )
    )


if __name__ == "__main__":
    main()
