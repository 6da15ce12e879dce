"""Run crsmon and the bedside scores over stays: the work one process does for a chunk.

Chunks go to a process pool (validation/command.py), so everything here takes and returns
plain, picklable data. One engine serves a chunk: each stay is closed at its end (the engine's
deadlines up to the end of its last hour are honoured, then it is forgotten), so the engine
holds one patient at a time however large the chunk.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from monitor.config import EngineConfig
from monitor.deterioration.engine_rule import THRESHOLD_SETTINGS
from monitor.engine import Engine
from validation.bedside import COMPARATORS, SWEEP, scores
from validation.outcomes import Flags, StayResult, clinical_rules, flags_of_alerts, flags_of_score
from validation.physionet import ColumnMap, read_stay
from validation.problems import Problems
from validation.stays import Stay


@dataclass(slots=True)
class ChunkResult:
    stays: list[StayResult]
    problems: Problems
    #: per what-if setting: (setting name, value) -> per-stay crsmon detectors
    sweep: dict[tuple[str, float], list[dict[str, Flags]]]
    #: bedside what-if: "NEWS2 ≥ 3" -> per-stay flags
    bedside_sweep: dict[str, list[Flags]]


def crsmon_flags(stay: Stay, engine: Engine, rules: tuple[str, ...] = ()) -> tuple[dict[str, Flags], Counter]:
    """The stay's vital signs and lab results through the engine: crsmon's detectors, one
    per rule of `rules`, and the firings by rule."""
    alerts = []
    for event in stay.inputs():
        alerts.extend(engine.observe(event).alerts)
    end = stay.start + timedelta(hours=stay.hours)
    alerts.extend(engine.close(stay.patient_id, end).alerts)
    return flags_of_alerts(alerts, stay.start.timestamp(), stay.hours, rules)


#: A what-if point: (setting, value), or (setting, value, every setting it changes) when
#: changing one setting moves others with it (validation/calibration.py).
SweepPoint = tuple


def run_chunk(files: list[Path], columns: ColumnMap, config: EngineConfig, sweep: list[SweepPoint]) -> ChunkResult:
    problems = Problems()
    stays = [stay for path in files if (stay := read_stay(path, columns, problems)) is not None]
    return run_stays(stays, problems, config, sweep)


def run_stays(stays: list[Stay], problems: Problems, config: EngineConfig, sweep: list[SweepPoint]) -> ChunkResult:
    # Hourly deterioration scores, kept for the sweep of the warning's thresholds: the same
    # stays give the same scores whatever the thresholds (monitor/deterioration/engine_rule.py)
    points = [(item[0], item[1], item[2] if len(item) > 2 else {item[0]: item[1]}) for item in sweep]
    memo: dict | None = {} if any(set(updates) <= THRESHOLD_SETTINGS for _, _, updates in points) else None
    engine = Engine(config, statuses=False, scores=memo)
    rules = clinical_rules(config)
    results = []
    bedside_sweep: dict[str, list[Flags]] = {}
    for stay in stays:
        result = StayResult(
            stay.patient_id, stay.source, stay.hours, stay.measured(), stay.onset_hour, stay.outcome_known
        )
        result.detectors, result.by_rule = crsmon_flags(stay, engine, rules)
        hourly = scores(stay, config.carry_forward_min)
        for name, thresholds in COMPARATORS.items():
            for threshold in thresholds:
                result.detectors[f"{name} ≥ {threshold}"] = flags_of_score(hourly[name], threshold)
        for name, thresholds in SWEEP.items():
            for threshold in thresholds:
                bedside_sweep.setdefault(f"{name} ≥ {threshold}", []).append(flags_of_score(hourly[name], threshold))
        results.append(result)
    swept = {}
    for name, value, updates in points:
        engine = Engine(
            config.model_copy(update=updates),
            statuses=False,
            scores=memo if set(updates) <= THRESHOLD_SETTINGS else None,
        )
        swept[(name, value)] = [crsmon_flags(stay, engine)[0] for stay in stays]
    return ChunkResult(results, problems, swept, bedside_sweep)
