"""Stays from JSON Lines in the wire contract's shapes, with an outcomes file.

The events are what `crsmon replay` reads (VitalSigns and ClinicalEvents); the outcomes file
says, for each patient, when the event to foresee happened, or that it did not:
`{"MRN-1": "2026-03-02T14:00:00Z", "MRN-2": null}` (JSON) or a CSV with the columns
`patient_id,onset` (an empty onset for none). A patient the outcomes file does not name is
reported and counted for alert burden only.

Each patient's hour 0 is the hour of its first event; the grid of a stay takes the newest value
of each measurement in each hour.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson

from monitor.wire import InvalidMessage, VitalSigns, decode_input, parse_timestamp
from monitor.wire.vitals import MEASUREMENTS
from validation.problems import Problems
from validation.stays import COLUMN, GRID_COLUMNS, Stay


def read_outcomes(path: Path, problems: Problems) -> dict[str, datetime | None]:
    outcomes: dict[str, datetime | None] = {}
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="") as source:
                rows = [(row.get("patient_id", ""), row.get("onset", "")) for row in csv.DictReader(source)]
        else:
            document = orjson.loads(path.read_bytes())
            if not isinstance(document, dict):
                raise SystemExit(f"crsmon validate: {path} must be a JSON object of patient_id -> onset time or null")
            rows = list(document.items())
    except (OSError, orjson.JSONDecodeError, csv.Error) as error:
        raise SystemExit(f"crsmon validate: cannot read the outcomes {path}: {error}") from None
    for patient_id, onset in rows:
        if not onset:
            outcomes[patient_id] = None
            continue
        try:
            outcomes[patient_id] = parse_timestamp(onset)
        except ValueError as error:
            problems.note(
                "bad outcome", f"{path.name}: {patient_id}: {error}; the patient counts for alert burden only"
            )
    return outcomes


def read_jsonl_stays(path: Path, outcomes_path: Path | None, problems: Problems) -> list[Stay]:
    if outcomes_path is None:
        raise SystemExit(
            "crsmon validate: JSON Lines input needs --outcomes FILE (patient_id -> "
            "onset time or null), or give a folder of PhysioNet .psv files"
        )
    outcomes = read_outcomes(outcomes_path, problems)
    events: dict[str, list] = {}
    with path.open("rb") as source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                event = decode_input(line)
            except InvalidMessage as error:
                problems.note("bad row", f"{path.name} line {number}: {error.reason}; skipped")
                continue
            events.setdefault(event.patient_id, []).append(event)
    stays = []
    for patient_id, own in events.items():
        own.sort(key=lambda event: event.ts)  # stable: a file's order within one moment stays
        known = patient_id in outcomes
        if not known:
            problems.note(
                "missing outcome", f"{patient_id} is not in {outcomes_path.name}; it counts for alert burden only"
            )
        stays.append(_stay(patient_id, path.name, own, outcomes.get(patient_id), known))
    return stays


def _stay(patient_id: str, source: str, events: list, onset: datetime | None, known: bool) -> Stay:
    start = events[0].ts
    count = int((events[-1].ts - start).total_seconds() // 3600) + 1
    grid = np.full((count, len(GRID_COLUMNS)), np.nan)
    for event in events:
        if not isinstance(event, VitalSigns):
            continue
        hour = int((event.ts - start).total_seconds() // 3600)
        for name in MEASUREMENTS:
            value = getattr(event, name)
            if value:  # 0 is a probe off
                grid[hour, COLUMN[name]] = value
        if event.on_oxygen is not None:
            grid[hour, COLUMN["on_oxygen"]] = float(event.on_oxygen)
    onset_hour = None if onset is None else (onset - start).total_seconds() / 3600
    return Stay(patient_id, source, start, grid, events, onset_hour, outcome_known=known)
