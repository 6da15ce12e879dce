"""`crsmon validate FOLDER|FILE --out DIR`: the run, from records to report.

Stays are read and run in chunks on a process pool (one process per core): every stay is
independent of the others, so the run scales with the cores, and a chunk returns only compact
per-hour flags. A progress bar on standard error follows the chunks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import IO, Callable

import orjson

from monitor.config import EngineConfig, load_config
from monitor.engine import Engine
from monitor.wire import LabEvent
from validation.calibration import (
    DETECTOR,
    FIGURE,
    LEVELS,
    TOLERANCE,
    Target,
    choose,
    configured,
    miss,
    open_setting,
    parse_targets,
)
from validation.calibration import grid as calibration_grid
from validation.cases import review_ids, write_case_inputs
from validation.figures import (
    Bootstrap,
    by_rule,
    case_lists,
    cohort,
    detector_figures,
    groups_of,
    sweep_point,
)
from validation.jsonl_input import read_jsonl_stays
from validation.outcomes import StayResult
from validation.physionet import ColumnMap, stay_files
from validation.problems import Problems
from validation.progress import Progress
from validation.report_html import write_report
from validation.run_stays import ChunkResult, run_chunk, run_stays

#: The what-if sweep run by default: the deterioration warning's open thresholds, upwards (a
#: threshold below its resolve threshold is not a valid setting; lower both to sweep down).
DEFAULT_SWEEP = "deterioration_high_open=3.0;deterioration_medium_open=2.2"
CHUNK_FILES = 48
#: What `--target-burden` writes into the output folder: a clinical configuration file.
CONFIG_FILE = "clinical-config.json"


def parse_sweep(text: str, config: EngineConfig) -> list[tuple[str, float]]:
    """`name=v1,v2;name2=…` into (setting, value) pairs, each value of the setting's type."""
    pairs: list[tuple[str, float]] = []
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        name, _, values = part.partition("=")
        name = name.strip()
        if name not in EngineConfig.model_fields:
            raise SystemExit(f"crsmon validate: --sweep names {name!r}, which is not a setting (see `crsmon config`)")
        kind = type(getattr(config, name))
        if kind not in (int, float):
            raise SystemExit(f"crsmon validate: --sweep {name}: only number settings can be swept")
        try:
            swept = [(name, kind(value)) for value in values.split(",")]
        except ValueError:
            raise SystemExit(
                f"crsmon validate: --sweep {name}={values}: values must be {kind.__name__}s separated by commas"
            ) from None
        for _, value in swept:
            try:
                Engine(config.model_copy(update={name: value}), statuses=False)
            except ValueError as error:
                raise SystemExit(f"crsmon validate: --sweep {name}={value}: {error}") from None
        pairs.extend(swept)
    return pairs


#: Draws one case report: (replay input, patient id, path without extension) -> the PNG's path.
#: Given by the composition root (crsmon/cli.py), which may use the plotting room; None: the
#: run writes the inputs and says how to draw them.
CaseRenderer = Callable[[Path, str, Path], Path]


def validate_command(args: argparse.Namespace, render_case: CaseRenderer | None = None) -> int:
    source = Path(args.input)
    if not source.exists():
        print(
            f"crsmon validate: {source} does not exist; give a folder of .psv files or a "
            "JSON Lines file with --outcomes",
            file=sys.stderr,
        )
        return 2
    config = load_config(args.config)
    targets = parse_targets(args.target_burden) if getattr(args, "target_burden", None) else []
    # calibrating, the calibration's grid is the what-if sweep unless one is asked for
    text = (DEFAULT_SWEEP if not targets else "") if args.sweep is None else args.sweep
    sweep: list = parse_sweep(text, config) if text else []
    if targets:
        sweep += [point for point in calibration_grid(config, targets) if point[:2] not in set(sweep)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if source.is_dir() and not stay_files(source):
        print(f"crsmon validate: {source} holds no .psv files", file=sys.stderr)
        return 2
    results, problems, swept, bedside_swept = _run(args, source, config, sweep)
    figures = summarise(
        results, swept, bedside_swept, problems, config, str(source), labs=not getattr(args, "no_labs", False)
    )
    if targets:
        figures["calibration"] = _calibrate(args, source, config, targets, figures, out)
        asked = {name for name, _ in (parse_sweep(text, config) if text else [])}
        for level, other in (("high", "medium"), ("medium", "high")):  # the grid's other curve
            if open_setting(other) not in asked:
                figures["what_if"].pop(f"{DETECTOR[level]}, {open_setting(other)}", None)
    _write_cases(figures, results, source, column_map(args), out, render_case, sys.stderr)
    figures["run"]["seconds"] = round(time.monotonic() - started, 2)
    (out / "validation.json").write_bytes(
        orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    write_report(figures, out / "validation.html")
    figures["run"]["seconds"] = round(time.monotonic() - started, 2)
    (out / "validation.json").write_bytes(
        orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    _print_summary(figures, out, sys.stderr)
    return 0


def column_map(args: argparse.Namespace) -> ColumnMap:
    """The column map of the run (`--columns`), without its lab columns under `--no-labs`."""
    columns = ColumnMap.from_file(Path(args.columns) if args.columns else None)
    return columns.without_labs() if getattr(args, "no_labs", False) else columns


def _run(args: argparse.Namespace, source: Path, config: EngineConfig, sweep: list):
    """crsmon and the bedside scores over every stay of the input: (results, problems, the
    what-if flags, the bedside what-if flags)."""
    if source.is_dir():
        return _run_folder(stay_files(source), column_map(args), config, sweep, args.jobs, sys.stderr)
    problems = Problems()
    stays = read_jsonl_stays(source, Path(args.outcomes) if args.outcomes else None, problems)
    if getattr(args, "no_labs", False):
        for stay in stays:
            stay.events = [event for event in stay.events if not isinstance(event, LabEvent)]
    chunk = run_stays(stays, problems, config, sweep)
    return chunk.stays, problems, chunk.sweep, chunk.bedside_sweep


def _calibrate(
    args: argparse.Namespace, source: Path, config: EngineConfig, targets: list[Target], figures: dict, out: Path
) -> dict:
    """The thresholds that meet the targets (validation/calibration.py), run once more over
    the whole input for their own figures (corrected once if a target is missed by more
    than calibration.TOLERANCE), and written as a clinical configuration file."""
    curves = {
        level: [
            {**point, "value": getattr(config, open_setting(level))} if point["value"] == "default" else point
            for point in figures["what_if"].get(f"{DETECTOR[level]}, {open_setting(level)}", [])
        ]
        for level in LEVELS
    }
    opens, notes = choose(config, targets, curves)
    runs = 0
    while True:
        calibrated = configured(config, opens)
        sys.stderr.write(
            "calibrated thresholds: "
            + ", ".join(f"{level} ≥ {value:.3f}" for level, value in opens.items())
            + "; checking them\n"
        )
        results, _, _, _ = _run(args, source, calibrated, [])
        runs += 1
        groups = groups_of(results)
        achieved = {level: detector_figures(results, DETECTOR[level], groups, Bootstrap()) for level in LEVELS}
        missed = [
            t
            for t in targets
            if miss(t, achieved[t.level][FIGURE[t.kind]]["value"]) > TOLERANCE and str(t) not in notes
        ]
        if not missed or runs > 1:
            break
        for level in dict.fromkeys(t.level for t in missed):  # the run's own point, then again
            curves[level].append(
                {"value": opens[level], **{FIGURE[kind]: achieved[level][FIGURE[kind]]["value"] for kind in FIGURE}}
            )
        opens, notes = choose(config, targets, curves)
    overrides = orjson.loads(Path(args.config).read_bytes()) if args.config else {}
    for level in LEVELS:
        for what in ("open", "resolve"):
            name = f"deterioration_{level}_{what}"
            overrides[name] = round(getattr(calibrated, name), 4)
    path = out / CONFIG_FILE
    path.write_bytes(orjson.dumps(overrides, option=orjson.OPT_INDENT_2) + b"\n")
    load_config(path)  # what was written is what the worker will read
    return {
        "targets": [str(t) for t in targets],
        "config_file": CONFIG_FILE,
        "thresholds": {name: overrides[name] for name in overrides if name.startswith("deterioration_")},
        "notes": notes,
        "checking_runs": runs,
        "levels": {
            level: {
                "detector": DETECTOR[level],
                "targets": [str(t) for t in targets if t.level == level],
                "open": getattr(calibrated, open_setting(level)),
                **{
                    key: achieved[level][key]
                    for key in (
                        "hours_flagged_share_non_septic",
                        "firings_per_patient_day_non_septic",
                        "flagged_at_onset_minus_6h",
                        "flagged_at_onset_minus_3h",
                        "flagged_at_onset_minus_0h",
                    )
                },
            }
            for level in LEVELS
        },
    }


def _write_cases(
    figures: dict,
    results: list[StayResult],
    source: Path,
    columns: ColumnMap,
    out: Path,
    render_case: CaseRenderer | None,
    err: IO[str],
) -> None:
    """The stays to review as replay inputs under out/cases/, and their case reports when a
    renderer is given; the report links each."""
    ids = review_ids(figures["cases"])
    sources = {stay.patient_id: stay.source for stay in results}
    inputs = write_case_inputs(source, columns, sources, ids, out / "cases")
    figures["case_files"] = {patient_id: {"input": str(path.relative_to(out))} for patient_id, path in inputs.items()}
    if render_case is None:
        return
    progress = Progress(len(inputs), err, "case reports")
    for patient_id, path in inputs.items():
        try:
            png = render_case(path, patient_id, out / "cases" / patient_id)
            figures["case_files"][patient_id]["report"] = str(png.relative_to(out))
        except Exception as error:  # one course that cannot be drawn does not lose the others
            err.write(f"case report of {patient_id} failed: {type(error).__name__}: {error}\n")
        progress.advance(1)
    progress.finish()


def _run_folder(
    files: list[Path],
    columns: ColumnMap,
    config: EngineConfig,
    sweep: list[tuple[str, float]],
    jobs: int | None,
    err: IO[str],
):
    chunks = [files[i : i + CHUNK_FILES] for i in range(0, len(files), CHUNK_FILES)]
    done: dict[int, ChunkResult] = {}
    progress = Progress(len(files), err, "stays")
    workers = jobs or os.cpu_count() or 1
    if workers == 1:
        for index, chunk in enumerate(chunks):
            done[index] = run_chunk(chunk, columns, config, sweep)
            progress.advance(len(chunk))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(run_chunk, chunk, columns, config, sweep): index for index, chunk in enumerate(chunks)
            }
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                progress.advance(len(chunks[futures[future]]))
    progress.finish()
    results: list[StayResult] = []
    problems = Problems()
    swept: dict = {}
    bedside_swept: dict = {}
    for index in range(len(chunks)):  # file order, whatever order the chunks finished in
        finished = done[index]
        results.extend(finished.stays)
        problems.merge(finished.problems)
        for key, flags in finished.sweep.items():
            swept.setdefault(key, []).extend(flags)
        for name, scored in finished.bedside_sweep.items():
            bedside_swept.setdefault(name, []).extend(scored)
    return results, problems, swept, bedside_swept


def summarise(
    results: list[StayResult],
    swept: dict,
    bedside_swept: dict,
    problems: Problems,
    config: EngineConfig,
    source: str,
    labs: bool = True,
) -> dict:
    groups = groups_of(results)
    bootstrap = Bootstrap()
    names = list(results[0].detectors) if results else []
    detectors = {name: detector_figures(results, name, groups, bootstrap) for name in names}
    curves: dict[str, list] = {}
    for (name, value), flags in swept.items():
        curves.setdefault(f"crsmon ≥ medium, {name}", []).append(
            {"value": value, **sweep_point(results, [f["crsmon ≥ medium"] for f in flags], groups)}
        )
        curves.setdefault(f"crsmon ≥ high, {name}", []).append(
            {"value": value, **sweep_point(results, [f["crsmon ≥ high"] for f in flags], groups)}
        )
    for label, flags in bedside_swept.items():
        score, _, threshold = label.partition(" ≥ ")
        curves.setdefault(score, []).append({"value": int(threshold), **sweep_point(results, flags, groups)})
    for name in ("crsmon ≥ medium", "crsmon ≥ high"):
        default = {"value": "default", **sweep_point(results, [stay.detectors[name] for stay in results], groups)}
        for key in [k for k in curves if k.startswith(name + ",")]:
            curves[key].append(default)
    return {
        "run": {"input": source, "config": "defaults" if config == EngineConfig() else "custom", "labs": labs},
        "cohort": cohort(results, groups),
        "detectors": detectors,
        "crsmon_firings_by_rule": by_rule(results),
        "what_if": curves,
        "cases": {name: case_lists(results, name, groups) for name in ("crsmon ≥ high",) if name in names},
        "problems": problems.as_json(),
    }


def _print_summary(figures: dict, out: Path, err: IO[str]) -> None:
    c = figures["cohort"]
    err.write(
        f"{c['patients']:,} stays, {c['patient_days']:,.0f} patient-days "
        f"({c['septic']} with the outcome, {c['septic_onset_counted']} of them counted for "
        f"onset figures) in {figures['run']['seconds']:.1f} s\n"
    )
    err.write(
        f"{'detector':<26} {'flagged 6 h before onset':>26} {'hours flagged (non-septic)':>27} {'firings/day':>12}\n"
    )
    for name, d in figures["detectors"].items():
        sens = d["flagged_at_onset_minus_6h"]["value"]
        hours = d["hours_flagged_share_non_septic"]["value"]
        fires = d["firings_per_patient_day_non_septic"]["value"]
        err.write(f"{name:<26} {_pct(sens):>26} {_pct(hours):>27} {'–' if fires is None else f'{fires:.2f}':>12}\n")
    if "calibration" in figures:
        for line in calibration_lines(figures["calibration"], out):
            err.write(line + "\n")
    for line in problem_lines(figures["problems"]):
        err.write(line + "\n")
    err.write(f"report: {out / 'validation.html'}\nfigures: {out / 'validation.json'}\n")


def problem_lines(problems: dict) -> list[str]:
    return [
        f"input: {entry['count']:,} × {kind}" + (f" — e.g. {entry['examples'][0]}" if entry["examples"] else "")
        for kind, entry in problems.items()
    ]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def calibration_lines(calibration: dict, out: Path) -> list[str]:
    lines = [f"calibrated to {', '.join(calibration['targets'])}:"]
    for level, d in calibration["levels"].items():
        sens = d["flagged_at_onset_minus_6h"]
        low, high = sens["ci95"]
        lines.append(
            f"  {d['detector']} at score ≥ {d['open']:.3f}: "
            f"{_pct(d['hours_flagged_share_non_septic']['value'])} of hours, "
            f"{d['firings_per_patient_day_non_septic']['value']:.2f} firings/patient-day, "
            f"flags {_pct(sens['value'])} 6 h before onset "
            f"({_pct(low)}–{_pct(high)})"
            if sens["value"] is not None and low is not None
            else f"  {d['detector']} at score ≥ {d['open']:.3f}"
        )
    lines += [f"  note: {target}: {note}" for target, note in calibration["notes"].items()]
    lines.append(
        f"clinical configuration: {out / calibration['config_file']} "
        "(crsmon worker --config, CRSMON_CLINICAL_CONFIG, crsmon replay --config)"
    )
    return lines
