"""Cross-validated figures of the deterioration warning beside the bedside scores: every
figure from patients the fitting never touched.

    .venv/bin/python -m bench.deterioration.crossval /path/to/physionet2019-sepsis-dev \
        [--engine] [--folds 5] [--repeats 3] [--model linear,additive,raw] [--reps 2000] \
        [--high-limits news2:0.94 | 0.40,0.030] [--machine-hours] [--nested 3] [--labs]

`--engine` (the figures the README quotes, ≈ 9 min on two busy cores): each held-out fold is
also run through the engine by `crsmon validate`'s own code with its fold's weights file and
thresholds, and scored with validate's definitions — NEWS2's confirmed floor between hours
included. `--model`: the recipes compared in the harness (linear: the shipped one; additive and
raw: shapes per feature, bench/deterioration/additive_fit.py; options as
`additive:smoothing=2000:rounds=15`). `--labs` (issue 20, an experiment): each recipe is also
fitted with the lab features of bench/deterioration/labs.py beside the vital-sign ones, in the
same folds under the same burden limits, and the difference in sensitivity at −6 h is printed
with a paired interval (the same bootstrap draws of patients for both).

Repeated, patient-level, stratified k-fold cross-validation over the whole development set. In
each fold the whole recipe runs on the training stays only, exactly as
scripts/fit_deterioration.py runs it on all of them: the weights (features with weight 0 drop
out: that is the feature choice), then each level's persistence, hysteresis and open threshold
under the burden limits of bench/deterioration/fitting.py, with the NEWS2 floor in place — for
`high` (version 2, the default) NEWS2 ≥ 7's own firings and 0.94 × its hours on the training
fold, hours counted as the engine counts them (each episode's closing hour too). The stays of
the held-out fold are then scored by those weights and alerted by those dynamics
(monitor/deterioration/alerting.py, the engine's own machines). Each stay is held out once per
repeat; a patient's counts (caught at −6/−3/0 h, firings, flagged hours) are averaged over the
repeats, and the 95 % intervals resample patients (septic and non-septic apart), the same draws
for every detector, so the ratio to NEWS2 ≥ 7 gets a paired interval too.

The bedside scores need no fitting: they are scored on every stay with the definitions
`crsmon validate` uses (bench/deterioration/bedside.py, metrics.py: flagged 6 h before onset
among septic stays with onset ≥ 12 h after their first record; non-septic patient-hours
flagged; firings per non-septic patient-day).

Without `--engine` these are the hourly machines on hourly records (the harness), without the
engine's confirmed NEWS2 floor between hours: the engine puts a few more hours under alert
(docs/deterioration-model.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np

from bench.deterioration import additive_fit, bedside, metrics
from bench.deterioration.data import Stay, read_folder
from bench.deterioration.fitting import (
    HIGH_BURDEN_MARGIN,
    HORIZON_H,
    bedside_burden,
    choose_dynamics,
    fit_nonnegative_logistic,
    news2_of,
    training_rows,
)
from bench.deterioration.hourly import stay_features
from bench.deterioration.labs import lab_features, read_labs
from monitor.deterioration.alerting import Dynamics, simulate

#: A recipe: (training stays, their feature values, their NEWS2) -> a scorer of feature values
Scorer = Callable[[np.ndarray], np.ndarray]


def linear_recipe(stays: list[Stay], values: list[np.ndarray]) -> Scorer:
    """The shipped recipe: non-negative logistic regression on the 34 features."""
    x, y = training_rows(stays, values, HORIZON_H)
    w, _ = fit_nonnegative_logistic(x, y)
    return lambda v: v @ w


def _keywords(options: dict[str, float]) -> dict:
    """fit()'s keywords from a recipe's options: counts as ints."""
    return {k: (int(v) if k in ("rounds", "bins") else v) for k, v in options.items()}


def additive_recipe(stays: list[Stay], values: list[np.ndarray], **options: float) -> Scorer:
    """A learned non-decreasing shape per feature (bench/deterioration/additive_fit.py);
    `options`: fit()'s keywords (rounds, learning_rate, smoothing, bins)."""
    x, y = training_rows(stays, values, HORIZON_H)
    shapes = additive_fit.fit(x, y, **_keywords(options))
    return lambda v: additive_fit.score(shapes, v)


#: The raw inputs of the two-sided additive model, per channel (CHANNELS order): the current
#: value, the worst of 12 h, the 6-hour change, the change from baseline; then oxygen.
RAW_PARTS = ("current", "worst", "trend", "from_baseline")


def raw_inputs(f) -> np.ndarray:
    """(hours, 29): the Features' raw values (NaN where not measured) and oxygen (0/1)."""
    oxygen = f.values[:, list(feat_names()).index("news2_air_or_oxygen")] > 0
    return np.column_stack([getattr(f, part) for part in RAW_PARTS] + [oxygen.astype(float)])


def feat_names() -> tuple[str, ...]:
    from monitor.deterioration.features import FEATURES

    return FEATURES


def raw_monotone() -> list[int]:
    """Worst of 12 h: monotone in the channel's direction of deterioration; the current value
    monotone for blood pressure and SpO2 (lower is worse) and free elsewhere (fever and
    hypothermia, tachy- and bradycardia); changes free; oxygen: on is worse."""
    from monitor.deterioration.features import CHANNELS, DIRECTION

    current = [-1 if c in ("systolic_bp", "mean_arterial_pressure", "spo2") else 0 for c in CHANNELS]
    worst = [DIRECTION[c] for c in CHANNELS]
    return current + worst + [0] * len(CHANNELS) * 2 + [1]


def raw_additive_recipe(stays: list[Stay], values: list[np.ndarray], **options: float) -> Scorer:
    """Two-sided shapes over the raw values (`values` here are raw_inputs)."""
    x, y = training_rows(stays, values, HORIZON_H)
    shapes = additive_fit.fit_raw(x, y, raw_monotone(), **_keywords(options))
    return lambda v: additive_fit.score_raw(shapes, v)


RECIPES = {"linear": linear_recipe, "additive": additive_recipe, "raw": raw_additive_recipe}


def recipe_of(spec: str):
    """`additive` or `additive:smoothing=1000:rounds=20` (a recipe and its options)."""
    name, *options = spec.split(":")
    kwargs = {key: float(value) for key, value in (o.split("=") for o in options)}
    return (lambda stays, values: RECIPES[name](stays, values, **kwargs)) if kwargs else RECIPES[name]


def folds_of(stays: list[Stay], folds: int, seed: int) -> np.ndarray:
    """Fold per stay, stratified by sepsis (and by whether the onset counts)."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(stays), dtype=int)
    onset = [s.onset if s.onset is not None else -1 for s in stays]
    counted = [i for i, s in enumerate(stays) if s.septic and onset[i] >= metrics.MIN_ONSET_H]
    early = [i for i, s in enumerate(stays) if s.septic and onset[i] < metrics.MIN_ONSET_H]
    others = [i for i, s in enumerate(stays) if not s.septic]
    for group in (counted, early, others):
        order = rng.permutation(group)
        fold[order] = np.arange(len(order)) % folds
    return fold


def search_options(limits: dict | None, stays: list[Stay]) -> dict:
    """choose_dynamics' keywords for one training fold. `limits` as main() builds them:
    `high_limits` (firings, hours) or ("news2", margin) — NEWS2 ≥ 7's own burden on the
    training stays, its hours times margin — and `high_closing_hour`."""
    options = dict(limits or {})
    high = options.get("high_limits")
    if high is not None and high[0] == "news2":
        options["high_limits"] = bedside_burden(stays, margin=float(high[1]))
    return options


def cross_validate(
    stays: list[Stay],
    values: list[np.ndarray],
    news2: list[np.ndarray],
    recipe,
    folds: int,
    repeats: int,
    seed: int,
    log: Callable[[str], None],
    limits: dict | None = None,
    nested: int = 0,
) -> tuple[metrics.Summary, metrics.Summary, list]:
    """(high, medium-or-above) summaries averaged over the repeats, and each fold's dynamics.
    `nested`: choose the thresholds on inner out-of-fold scores (that many inner folds), for
    a model whose scores on its own training stays are quieter than on new ones."""
    high_runs, medium_runs, chosen = [], [], []
    for repeat in range(repeats):
        fold = folds_of(stays, folds, seed + repeat)
        high: list = [None] * len(stays)
        medium: list = [None] * len(stays)
        for k in range(folds):
            started = time.monotonic()
            train = np.flatnonzero(fold != k)
            test = np.flatnonzero(fold == k)
            t_stays = [stays[i] for i in train]
            scorer = recipe(t_stays, [values[i] for i in train])
            seen = [scorer(values[i]) for i in train]
            if nested:  # thresholds from scores each training stay got out of an inner fold
                inner = folds_of(t_stays, nested, seed + 100 + repeat)
                for j in range(nested):
                    part = np.flatnonzero(inner != j)
                    inner_scorer = recipe([t_stays[i] for i in part], [values[train[i]] for i in part])
                    for i in np.flatnonzero(inner == j):
                        seen[i] = inner_scorer(values[train[i]])
            dynamics, _ = choose_dynamics(t_stays, seen, [news2[i] for i in train], **search_options(limits, t_stays))
            chosen.append(dynamics)
            for i in test:
                medium[i], high[i] = simulate(scorer(values[i]), dynamics, news2[i])
            log(
                f"  repeat {repeat + 1} fold {k + 1}: high ≥ {dynamics.high_open:.2f} "
                f"(persistence {dynamics.high_persistence_h}, resolve {dynamics.high_resolve_h}), "
                f"medium ≥ {dynamics.medium_open:.2f} ({time.monotonic() - started:.0f} s)"
            )
        high_runs.append(metrics.summarise(stays, high))
        medium_runs.append(metrics.summarise(stays, medium))
    return averaged(high_runs), averaged(medium_runs), chosen


def averaged(runs: list[metrics.Summary]) -> metrics.Summary:
    """Per patient, the mean over the repeats of each count (floats)."""
    return metrics.Summary(
        *(np.mean([np.asarray(getattr(r, f), dtype=float) for r in runs], axis=0) for f in metrics.Summary._fields)
    )


def replicates(s: metrics.Summary, reps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Bootstrap replicates of each figure; the same seed gives the same draws of patients
    for every detector (they share the stays), so replicates of two detectors pair up."""
    rng = np.random.default_rng(seed)
    n, m = len(s.hours), len(s.caught)
    a = rng.integers(0, n, size=(reps, n))
    b = rng.integers(0, m, size=(reps, m))
    hours = s.hours[a].sum(axis=1)
    out = {
        "firings_per_day": s.firings[a].sum(axis=1) / (hours / 24.0),
        "hours_flagged": s.flagged_hours[a].sum(axis=1) / hours,
    }
    for i, lead in enumerate(metrics.LEADS):
        out[f"sens_{lead}"] = np.nanmean(s.caught[:, i][b], axis=1)
    return out


def figures(s: metrics.Summary) -> dict[str, float]:
    """metrics.figures, where a stay whose onset hour lies past its record (NaN) is not
    evaluable at that lead, as `crsmon validate` counts it."""
    out = {
        "firings_per_day": s.firings.sum() / (s.hours.sum() / 24.0),
        "hours_flagged": s.flagged_hours.sum() / s.hours.sum(),
    }
    for i, lead in enumerate(metrics.LEADS):
        out[f"sens_{lead}"] = float(np.nanmean(s.caught[:, i]))
    return out


def paired_difference(
    with_: metrics.Summary, without: metrics.Summary, reps: int
) -> dict[str, tuple[float, float, float]]:
    """Per figure, (with − without, and its 95 % interval): both summaries are of the same
    patients, so the same bootstrap draws (`replicates`' seed) pair their replicates up."""
    a, b = replicates(with_, reps), replicates(without, reps)
    fa, fb = figures(with_), figures(without)
    return {key: (fa[key] - fb[key], *_ci(a[key] - b[key])) for key in fa}


def _ci(values: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


HEADER = (
    "| detector | flagged 6 h before onset % | at −3 h % | at 0 h % | "
    "non-septic hours flagged % | firings / non-septic patient-day | "
    "6 h sensitivity ÷ NEWS2 ≥ 7's |\n|---|---|---|---|---|---|---|"
)


def table_row(name: str, s: metrics.Summary, reference: dict, reps: int) -> str:
    f = figures(s)
    r = replicates(s, reps)

    def pct(key: str, digits: int = 1) -> str:
        low, high = _ci(r[key])
        return f"{100 * f[key]:.{digits}f} ({100 * low:.{digits}f}–{100 * high:.{digits}f})"

    low, high = _ci(r["firings_per_day"])
    ref = figures(metrics.Summary(*reference["summary"]))["sens_6"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = r["sens_6"] / reference["sens_6"]
    ratio = ratio[np.isfinite(ratio)]
    rlow, rhigh = _ci(ratio)
    return (
        f"| {name} | {pct('sens_6')} | {pct('sens_3')} | {pct('sens_0')} | "
        f"{pct('hours_flagged', 2)} | {f['firings_per_day']:.2f} ({low:.2f}–{high:.2f}) | "
        f"{f['sens_6'] / ref:.2f} ({rlow:.2f}–{rhigh:.2f}) |"
    )


# -- the engine itself, as `crsmon validate` runs it ------------------------------------------

#: What `crsmon validate` reports, by detector name.
ENGINE_DETECTORS = ("crsmon ≥ high", "crsmon ≥ medium", "NEWS2 ≥ 5", "NEWS2 ≥ 7", "qSOFA ≥ 2", "SIRS ≥ 2")


def fold_config(w: np.ndarray, intercept: float, dynamics: Dynamics, folder: Path, name: str):
    """The engine's configuration for one fold: its weights file and its thresholds."""
    from monitor.config import EngineConfig
    from monitor.deterioration import features as feat
    from monitor.deterioration.model import Model, to_json

    path = folder / f"weights-{name}.json"
    path.write_text(
        to_json(
            Model(
                name, feat.FEATURES, w, intercept, dynamics.as_dict(), {"fitted_by": "bench/deterioration/crossval.py"}
            )
        )
    )
    settings = {f"deterioration_{k}": v for k, v in dynamics.as_dict().items() if k != "news2_high_floor"}
    return EngineConfig.model_validate({"deterioration_weights": str(path), **settings})


def engine_summaries(results_by_repeat: list[dict], names: tuple[str, ...]) -> dict[str, metrics.Summary]:
    """Per detector, a Summary of per-patient counts averaged over the repeats, with
    `crsmon validate`'s definitions (validation/figures.py): patient-hours are the stay's
    `measured` hours, a septic stay counts when its onset is ≥ 12 h after its first record,
    and it is evaluable at a lead when that hour lies inside its record (NaN otherwise)."""
    from validation.figures import MIN_ONSET_H, OFFSETS_H

    patients = sorted(results_by_repeat[0])
    out = {}
    for name in names:
        runs = []
        for results in results_by_repeat:
            fire, hours, flagged, caught = [], [], [], []
            for patient in patients:
                stay = results[patient]
                flags = stay.detectors[name]
                if stay.onset_hour is None:
                    fire.append(flags.firings)
                    hours.append(int(stay.measured.sum()))
                    flagged.append(int((flags.hours & stay.measured).sum()))
                elif stay.onset_hour >= MIN_ONSET_H:
                    row = []
                    for offset in OFFSETS_H:
                        hour = int(np.floor(stay.onset_hour - offset))
                        row.append(float(flags.hours[hour]) if 0 <= hour < stay.hours else np.nan)
                    caught.append(row)
            runs.append(
                metrics.Summary(
                    np.array(fire, float), np.array(hours, float), np.array(flagged, float), np.array(caught, float)
                )
            )
        out[name] = averaged(runs)
    return out


def engine_cross_validate(
    folder: Path,
    stays: list[Stay],
    values: list[np.ndarray],
    news2: list[np.ndarray],
    folds: int,
    repeats: int,
    seed: int,
    jobs: int,
    log: Callable[[str], None],
    limits: dict | None = None,
) -> dict[str, metrics.Summary]:
    """The shipped recipe fitted in each training fold (as cross_validate does), its held-out
    fold then run through the engine by `crsmon validate`'s own code (validation/run_stays.py)
    with that fold's weights file and thresholds: the NEWS2 floor between hours, artifact
    rejection and the hour-by-hour flags exactly as a hospital's validation run gives them.
    The folds are those of cross_validate (same seeds)."""
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    from validation.physionet import ColumnMap
    from validation.run_stays import run_chunk

    limits = limits or {}
    results_by_repeat = []
    with tempfile.TemporaryDirectory() as scratch, ProcessPoolExecutor(jobs) as pool:
        for repeat in range(repeats):
            fold = folds_of(stays, folds, seed + repeat)
            results: dict = {}
            for k in range(folds):
                started = time.monotonic()
                train = np.flatnonzero(fold != k)
                t_stays = [stays[i] for i in train]
                x, y = training_rows(t_stays, [values[i] for i in train], HORIZON_H)
                w, intercept = fit_nonnegative_logistic(x, y)
                dynamics, _ = choose_dynamics(
                    t_stays,
                    [values[i] @ w for i in train],
                    [news2[i] for i in train],
                    **search_options(limits, t_stays),
                )
                config = fold_config(w, intercept, dynamics, Path(scratch), f"r{repeat}f{k}")
                files = [folder / f"{stays[i].patient}.psv" for i in np.flatnonzero(fold == k)]
                chunks = [files[i : i + 48] for i in range(0, len(files), 48)]
                for chunk in pool.map(
                    run_chunk, chunks, [ColumnMap()] * len(chunks), [config] * len(chunks), [[]] * len(chunks)
                ):
                    results.update({stay.patient_id: stay for stay in chunk.stays})
                log(
                    f"  engine repeat {repeat + 1} fold {k + 1}: high ≥ "
                    f"{dynamics.high_open:.2f}, medium ≥ {dynamics.medium_open:.2f} "
                    f"({time.monotonic() - started:.0f} s)"
                )
            results_by_repeat.append(results)
    return engine_summaries(results_by_repeat, ENGINE_DETECTORS)


def limits_of(text: str) -> tuple:
    """`0.40,0.026` → (0.40, 0.026); `news2` or `news2:0.95` → ("news2", margin)."""
    if text.startswith("news2"):
        return ("news2", float(text.split(":")[1]) if ":" in text else 1.0)
    return tuple(float(v) for v in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--model", default="linear", help="comma-separated: " + ", ".join(RECIPES))
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap replicates")
    parser.add_argument("--quiet", action="store_true", help="no per-fold lines")
    parser.add_argument(
        "--engine",
        action="store_true",
        help="also run each held-out fold through the engine as `crsmon validate` does (the shipped recipe)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes for --engine")
    parser.add_argument(
        "--high-limits",
        default=f"news2:{HIGH_BURDEN_MARGIN}",
        help="news2[:MARGIN] (the shipped recipe, version 2): NEWS2 ≥ 7's own firings per patient-day and "
        "MARGIN × its hours on the training fold; FIRINGS,HOURS: fixed limits (version 1: 0.40,0.030)",
    )
    parser.add_argument(
        "--machine-hours",
        action="store_true",
        help="the high search counts the hourly machine's own hours (version 1), not the engine's "
        "(each episode's closing hour too: fitting.engine_hours)",
    )
    parser.add_argument("--medium-limits", default="", help="the same for medium or above")
    parser.add_argument(
        "--nested",
        type=int,
        default=0,
        help="choose thresholds on inner out-of-fold scores of the training stays (that many inner folds)",
    )
    parser.add_argument(
        "--labs",
        action="store_true",
        help="also fit each recipe with the lab features (bench/deterioration/labs.py) and print the paired difference",
    )
    args = parser.parse_args()
    started = time.monotonic()
    stays = read_folder(args.folder)
    features = [stay_features(s) for s in stays]
    values = [f.values for f in features]
    raw = [raw_inputs(f) for f in features]
    news2 = [news2_of(v) for v in values]
    log = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    limits: dict = {
        f"{level}_limits": limits_of(text)
        for level, text in (("high", args.high_limits), ("medium", args.medium_limits))
        if text
    }
    limits["high_closing_hour"] = not args.machine_hours
    rows: list[tuple[str, metrics.Summary]] = []
    differences: list[tuple[str, dict]] = []
    labs = [lab_features(read_labs(Path(args.folder) / f"{s.patient}.psv")) for s in stays] if args.labs else None
    for name in filter(None, args.model.split(",")):
        log(f"{name}: {args.folds}-fold × {args.repeats}")
        inputs = raw if name.split(":")[0] == "raw" else values
        high, medium, _ = cross_validate(
            stays, inputs, news2, recipe_of(name), args.folds, args.repeats, args.seed, log, limits, args.nested
        )
        rows += [(f"{name} ≥ high (cross-validated)", high), (f"{name} ≥ medium (cross-validated)", medium)]
        if labs is not None:
            log(f"{name} with labs: {args.folds}-fold × {args.repeats}")
            with_labs = [np.column_stack([v, lab]) for v, lab in zip(inputs, labs)]
            high_l, medium_l, _ = cross_validate(
                stays, with_labs, news2, recipe_of(name), args.folds, args.repeats, args.seed, log, limits, args.nested
            )
            rows += [
                (f"{name} + labs ≥ high (cross-validated)", high_l),
                (f"{name} + labs ≥ medium (cross-validated)", medium_l),
            ]
            differences += [
                (f"{name} ≥ high", paired_difference(high_l, high, args.reps)),
                (f"{name} ≥ medium", paired_difference(medium_l, medium, args.reps)),
            ]
    for score, flags in bedside.bedside_flags(stays).items():
        rows.append((score.replace(">=", "≥"), metrics.summarise(stays, flags)))
    if args.engine:
        log(f"engine: {args.folds}-fold × {args.repeats}")
        engine = engine_cross_validate(
            Path(args.folder), stays, values, news2, args.folds, args.repeats, args.seed, args.jobs, log, limits
        )
        reference = {
            "summary": tuple(engine["NEWS2 ≥ 7"]),
            "sens_6": replicates(engine["NEWS2 ≥ 7"], args.reps)["sens_6"],
        }
        print(
            "\n### In the engine (crsmon validate's code and definitions), the shipped recipe "
            "fitted in each training fold\n"
        )
        print(HEADER)
        for name, summary in engine.items():
            label = f"{name} (cross-validated)" if name.startswith("crsmon") else name
            print(table_row(label, summary, reference, args.reps))
        print("\n### The hourly machines on the hourly records (the harness)\n")
    reference_summary = dict(rows)["NEWS2 ≥ 7"]
    reference = {"summary": tuple(reference_summary), "sens_6": replicates(reference_summary, args.reps)["sens_6"]}
    counted = sum(1 for s in stays if s.onset is not None and s.onset >= metrics.MIN_ONSET_H)
    print(
        f"\n{len(stays):,} stays ({counted} septic with onset ≥ {metrics.MIN_ONSET_H} h, "
        f"{sum(not s.septic for s in stays):,} non-septic); {args.folds}-fold × "
        f"{args.repeats} repeats, seed {args.seed}; 95 % intervals from {args.reps} "
        f"bootstrap draws of patients\n"
    )
    print(HEADER)
    for name, summary in rows:
        print(table_row(name, summary, reference, args.reps))
    if differences:
        print("\n### With labs minus without (the same folds and patients; paired 95 % intervals)\n")
        print(
            "| detector | flagged 6 h before onset, points | at −3 h | at 0 h | "
            "non-septic hours flagged, points | firings / non-septic patient-day |\n"
            "|---|---|---|---|---|---|"
        )
        for name, d in differences:

            def points(key: str) -> str:
                value, low, high = d[key]
                return f"{100 * value:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"

            value, low, high = d["firings_per_day"]
            print(
                f"| {name} | {points('sens_6')} | {points('sens_3')} | {points('sens_0')} | "
                f"{points('hours_flagged')} | {value:+.2f} ({low:+.2f} to {high:+.2f}) |"
            )
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
