"""Stays from PhysioNet-format files: one `.psv` per ICU stay, one row per hour.

The PhysioNet/CinC 2019 sepsis challenge published hourly ICU records in this form, and other
exports can be mapped onto it: which column holds which vital sign, the hour, the outcome label
and how far its first 1 runs ahead of the event (the challenge labels sepsis from 6 h before its
clinical onset) are all settings (`ColumnMap`, `--columns FILE`).

A row becomes one VitalSigns message, as a gateway would send it; a row the wire contract would
reject (a value outside its hard bounds) is dropped for crsmon and the scores alike — the
worker would dead-letter it — and reported.

A row's lab results (the columns of `PHYSIONET_LABS`, `ColumnMap.labs`) become one `type: lab`
message each, at the row's hour, after its vital signs: a laboratory reports each result on its
own, so a result outside its plausible bounds is dropped alone (counted, as the worker would
dead-letter that message) and the row's vital signs stay. `--no-labs` reads none, to compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from monitor.catalogue import CATALOGUE
from monitor.wire import InputEvent, LabEvent, VitalSigns
from monitor.wire.plain_vitals import plain_vitals
from monitor.wire.timestamps import format_timestamp
from monitor.wire.vitals import HARD_BOUNDS, MEASUREMENTS
from validation.problems import Problems
from validation.stays import COLUMN, GRID_COLUMNS, Stay

#: Hour 0 of every stay's clock. PhysioNet gives no dates, only hours since ICU admission.
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)

#: The columns of the PhysioNet 2019 files that hold an observation of crsmon's catalogue
#: (monitor/catalogue.py): column -> (the observation's name, the unit its values are in).
#: Units as the challenge documents them (physionet.org/content/challenge-2019/1.0.0), but for
#: Lactate: documented as mg/dL ("Lactic acid"), its values are in mmol/L (0.5-19.7 in the 3,072
#: stays of set B, median about 2; in mg/dL they would be a ninth of normal), so mmol/L is written.
PHYSIONET_OBSERVATIONS: dict[str, tuple[str, str]] = {
    "HR": ("heart_rate", "/min"),
    "SBP": ("systolic_bp", "mmHg"),
    "DBP": ("diastolic_bp", "mmHg"),
    "MAP": ("mean_arterial_pressure", "mmHg"),
    "Temp": ("temperature", "°C"),
    "O2Sat": ("spo2", "%"),
    "Resp": ("respiratory_rate", "/min"),
    "Creatinine": ("creatinine", "mg/dL"),
    "Bilirubin_total": ("bilirubin", "mg/dL"),
    "Platelets": ("platelets", "10^3/µL"),
    "WBC": ("wbc", "10^3/µL"),
    "Lactate": ("lactate", "mmol/L"),
    "AST": ("ast", "IU/L"),
    "Fibrinogen": ("fibrinogen", "mg/dL"),
}
for _column, (_name, _unit) in PHYSIONET_OBSERVATIONS.items():  # a wrong entry fails at import
    if CATALOGUE[_name].unit_for(_unit) is None:
        raise ValueError(f"PhysioNet column {_column}: {_name} does not accept the unit {_unit}")
_COLUMN_OF = {name: column for column, (name, _) in PHYSIONET_OBSERVATIONS.items()}


def physionet_value(column: str, value: float) -> tuple[str, float]:
    """A PhysioNet column's value as the catalogue's observation, in its canonical unit:
    (`Creatinine`, 1.9) -> (creatinine, 1.9); (`Platelets`, 42) -> (platelets, 42 ×10^9/L)."""
    name, unit = PHYSIONET_OBSERVATIONS[column]
    accepted = CATALOGUE[name].unit_for(unit)
    assert accepted is not None  # checked at import
    return name, accepted.to_canonical(value)


#: The lab columns read as `type: lab` results: every PhysioNet column whose observation is a
#: lab of the catalogue. WBC is one of them and also feeds SIRS (`ColumnMap.wbc`), as before.
#: Checked against the 3,072 stays of the development set (116,731 rows): creatinine 0.2–20.8
#: (mean 1.7: mg/dL, not µmol/L), bilirubin 0.1–49.6 (mean 1.8: mg/dL), platelets 2–965 (mean
#: 194: 10^3/µL), WBC 0.1–169.7 (mean 10.5: 10^3/µL), lactate 0.5–19.7 (mean 3.1: mmol/L, see
#: above), AST 5–9,961 (mean 177: U/L), fibrinogen 42–1,179 (mean 259: mg/dL); all inside the
#: catalogue's bounds. Alkalinephos, BUN, TroponinI and the rest have no catalogue entry.
PHYSIONET_LABS: dict[str, tuple[str, str]] = {
    column: (name, unit) for column, (name, unit) in PHYSIONET_OBSERVATIONS.items() if CATALOGUE[name].kind == "lab"
}

#: Columns of the PhysioNet 2019 files that validation knowingly does not use.
PHYSIONET_UNUSED = frozenset(
    (
        "EtCO2 BaseExcess HCO3 pH SaO2 BUN Alkalinephos Calcium Chloride "
        "Bilirubin_direct Glucose Magnesium Phosphate Potassium TroponinI "
        "Hct Hgb PTT Age Gender Unit1 Unit2 HospAdmTime"
    ).split()
) - set(PHYSIONET_LABS)


class ColumnMap(BaseModel):
    """Which column holds what. Defaults: the PhysioNet/CinC 2019 challenge files."""

    model_config = ConfigDict(extra="forbid")

    separator: str = "|"
    missing: str = "NaN"
    hour: str = "ICULOS"
    outcome: str | None = "SepsisLabel"
    outcome_label_lead_h: float = 6.0
    heart_rate: str | None = _COLUMN_OF["heart_rate"]
    systolic_bp: str | None = _COLUMN_OF["systolic_bp"]
    diastolic_bp: str | None = _COLUMN_OF["diastolic_bp"]
    mean_arterial_pressure: str | None = _COLUMN_OF["mean_arterial_pressure"]
    temperature: str | None = _COLUMN_OF["temperature"]
    spo2: str | None = _COLUMN_OF["spo2"]
    respiratory_rate: str | None = _COLUMN_OF["respiratory_rate"]
    fio2: str | None = "FiO2"
    paco2: str | None = "PaCO2"
    wbc: str | None = _COLUMN_OF["wbc"]
    #: Lab columns: column -> [test, unit its values are in] (a catalogue lab and a unit it
    #: accepts); {} reads no labs (`--no-labs`).
    labs: dict[str, tuple[str, str]] = dict(PHYSIONET_LABS)
    ignored: list[str] = sorted(PHYSIONET_UNUSED)

    @field_validator("labs")
    @classmethod
    def _known_labs(cls, labs: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        """A lab column must name a lab the catalogue has, in a unit it accepts: said when the
        map is read, not as thousands of refused results."""
        for column, (test, unit) in labs.items():
            entry = CATALOGUE.get(test)
            if entry is None or entry.kind != "lab":
                raise ValueError(
                    f"labs: column {column!r} names {test!r}, which is not a lab test "
                    f"crsmon takes (one of {', '.join(CATALOGUE.names('lab'))})"
                )
            if entry.unit_for(unit) is None:
                raise ValueError(f"labs: column {column!r}: {test} does not accept the unit {unit!r}")
        return labs

    def without_labs(self) -> "ColumnMap":
        """The same map reading no lab results: their columns are ignored, not unknown."""
        return self.model_copy(update={"labs": {}, "ignored": sorted({*self.ignored, *self.labs})})

    @classmethod
    def from_file(cls, path: Path | None) -> "ColumnMap":
        """The defaults, overridden by a JSON file naming only what differs."""
        if path is None:
            return cls()
        try:
            return cls.model_validate(orjson.loads(path.read_bytes()))
        except (OSError, orjson.JSONDecodeError) as error:
            raise SystemExit(f"cannot read the column map {path}: {error}") from None
        except ValidationError as error:
            raise SystemExit(f"the column map {path} is invalid: {error}") from None


@dataclass(frozen=True, slots=True)
class _Layout:
    """Positions of the mapped columns in one file's header (None where absent)."""

    hour: int
    outcome: int | None
    measurements: tuple[tuple[str, int], ...]
    fio2: int | None
    paco2: int | None
    wbc: int | None
    #: (test, unit, position) of each lab column the file has
    labs: tuple[tuple[str, str, int], ...] = ()

    @property
    def read(self) -> tuple[int | None, ...]:
        """The positions a row's values are read from, in `values` order: the measurements,
        FiO2, PaCO2, WBC, the outcome."""
        return (*(index for _, index in self.measurements), self.fio2, self.paco2, self.wbc, self.outcome)


def _layout(header: list[str], columns: ColumnMap, source: str, problems: Problems) -> _Layout | None:
    position = {name: index for index, name in enumerate(header)}
    if columns.hour not in position:
        problems.note(
            "file without an hour column",
            f"{source}: no column {columns.hour!r} "
            "(the hour since admission); the file is skipped — map it with --columns",
        )
        return None
    mapped = {
        columns.hour,
        columns.outcome,
        columns.fio2,
        columns.paco2,
        columns.wbc,
        *(getattr(columns, name) for name in MEASUREMENTS),
        *columns.labs,
    }
    for name in header:
        if name not in mapped and name not in columns.ignored:
            problems.note(
                "unknown column",
                f"{source}: column {name!r} is not mapped to anything "
                "and is ignored (list it in the column map's 'ignored' to silence this)",
            )
    found = []
    for name in MEASUREMENTS:
        column = getattr(columns, name)
        if column is None:
            continue
        if column in position:
            found.append((name, position[column]))
        else:
            problems.note(
                "mapped column missing",
                f"{source}: no column {column!r} for {name}; {name.replace('_', ' ')} is treated as never measured",
            )

    labs = []
    for column, (test, unit) in columns.labs.items():
        if column in position:
            labs.append((test, unit, position[column]))
        else:
            problems.note(
                "mapped column missing",
                f"{source}: no column {column!r} for {test}; {test} is treated as never measured",
            )

    def optional(column: str | None) -> int | None:
        return None if column is None else position.get(column)

    outcome = optional(columns.outcome)
    if outcome is None:
        problems.note(
            "missing outcome",
            f"{source}: no outcome column {columns.outcome!r}; the "
            "stay counts for alert burden only, not for sensitivity",
        )
    return _Layout(
        position[columns.hour],
        outcome,
        tuple(found),
        optional(columns.fio2),
        optional(columns.paco2),
        optional(columns.wbc),
        tuple(labs),
    )


def read_stay(path: Path, columns: ColumnMap, problems: Problems) -> Stay | None:
    """One file as a Stay, or None if nothing in it can be used (said in `problems`)."""
    source = path.name
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        problems.note("unreadable file", f"{source}: {error}; skipped")
        return None
    lines = text.splitlines()
    if len(lines) < 2:
        problems.note("empty file", f"{source}: no rows; skipped")
        return None
    layout = _layout(lines[0].split(columns.separator), columns, source, problems)
    if layout is None:
        return None
    width = len(lines[0].split(columns.separator))
    patient_id = path.stem
    hours: list[float] = []
    rows: list[list[float]] = []
    labs: list[tuple[float, str, str, float]] = []  # (hour, test, unit, value)
    labelled_at: float | None = None
    missing = columns.missing
    read = layout.read
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(columns.separator)
        if len(fields) != width:
            problems.note(
                "bad row", f"{source} line {number}: {len(fields)} fields where the header has {width}; row skipped"
            )
            continue
        try:
            hour = float(fields[layout.hour])
            values = [
                math.nan if (index is None or fields[index] == missing) else float(fields[index]) for index in read
            ]
            results = [
                (test, unit, float(fields[index])) for test, unit, index in layout.labs if fields[index] != missing
            ]
        except ValueError as error:
            problems.note("bad row", f"{source} line {number}: {error}; row skipped")
            continue
        if math.isnan(hour) or (hours and hour <= hours[-1]):
            problems.note(
                "bad row",
                f"{source} line {number}: hour {fields[layout.hour]!r} is "
                "missing or not after the previous row's; row skipped",
            )
            continue
        outside = _outside_bounds(layout, values)
        if outside:
            problems.note(
                "row outside the contract's bounds",
                f"{source} line {number}: {outside}; the row is dropped, as the worker would dead-letter it",
            )
            values[: len(layout.measurements)] = [math.nan] * len(layout.measurements)
        for test, unit, value in results:
            refused = _lab_refused(test, unit, value)
            if refused:
                problems.note(
                    refused[0],
                    f"{source} line {number}: {refused[1]}; the result is dropped, as the worker would dead-letter it",
                )
            else:
                labs.append((hour, test, unit, value))
        if labelled_at is None and values[-1] == 1:
            labelled_at = hour
        hours.append(hour)
        rows.append(values)
    if not rows:
        problems.note("empty file", f"{source}: no usable rows; skipped")
        return None
    stay = _stay(patient_id, source, hours, rows, layout, columns, labelled_at)
    stay.labs = [_lab_event(patient_id, *result) for result in labs]
    return stay


def _lab_refused(test: str, unit: str, value: float) -> tuple[str, str] | None:
    """Why the contract would refuse this result, as (kind of problem, what), or None. Said
    here rather than read from pydantic's error so that the problems are counted by reason."""
    entry = CATALOGUE[test]
    if math.isnan(value) or math.isinf(value):
        return "lab result not a number", f"{test} {value}"
    accepted = entry.unit_for(unit)
    assert accepted is not None  # ColumnMap checked it
    if not entry.within_bounds(accepted.to_canonical(value)):
        low, high = entry.bounds
        return (
            "lab result outside its plausible bounds",
            f"{test} {value:g} {unit} outside {low:g}–{high:g} {entry.unit}",
        )
    return None


def _lab_event(patient_id: str, hour: float, test: str, unit: str, value: float) -> LabEvent:
    """One result as the `type: lab` message a laboratory interface would send, validated by
    the wire (which converts it into the test's canonical unit)."""
    at, text = _timestamp(hour)
    return LabEvent.model_validate(
        {
            "type": "lab",
            "patient_id": patient_id,
            "ts": text if text is not None else at,
            "test": test,
            "value": value,
            "unit": unit,
        }
    )


def _outside_bounds(layout: _Layout, values: list[float]) -> str | None:
    for (name, _), value in zip(layout.measurements, values):
        low, high, unit = HARD_BOUNDS[name]
        if not math.isnan(value) and not (low <= value <= high):
            return f"{name} {value:g} outside {low:g}–{high:g} {unit}"
    return None


def _stay(
    patient_id: str,
    source: str,
    hours: list[float],
    rows: list[list[float]],
    layout: _Layout,
    columns: ColumnMap,
    labelled_at: float | None,
) -> Stay:
    """The rows as a stay: the hourly grid (built as lists, each value put where it goes in
    row order, then made one array) and a VitalSigns per row that measured anything."""
    first = hours[0]
    count = int(round(hours[-1] - first)) + 1
    grid = [[math.nan] * len(GRID_COLUMNS) for _ in range(count)]
    names = [name for name, _ in layout.measurements]
    positions = [COLUMN[name] for name in names]
    oxygen, paco2_at, wbc_at = COLUMN["on_oxygen"], COLUMN["paco2"], COLUMN["wbc"]
    events: list[InputEvent] = []
    for hour, values in zip(hours, rows):
        row = grid[int(round(hour - first))]
        document: dict = {}
        for name, position, value in zip(names, positions, values):
            if not math.isnan(value):
                document[name] = value
                if value != 0:  # 0 is a probe off in the contract, never a reading
                    row[position] = value
        measured = bool(document)
        fio2, paco2, wbc = values[len(names) : len(names) + 3]
        if not math.isnan(fio2):
            fraction = fio2 / 100 if fio2 > 1 else fio2  # some exports give percent
            document["on_oxygen"] = fraction > 0.21
            row[oxygen] = float(fraction > 0.21)
        row[paco2_at] = paco2
        row[wbc_at] = wbc
        if measured:
            document["patient_id"] = patient_id
            events.append(_vital_signs(document, hour))
    onset = None if labelled_at is None else labelled_at + columns.outcome_label_lead_h - first
    return Stay(
        patient_id,
        source,
        EPOCH + timedelta(hours=first),
        np.array(grid, dtype=float).reshape(count, len(GRID_COLUMNS)),
        events,
        onset,
        outcome_known=layout.outcome is not None,
    )


#: Each hour's timestamp, as a datetime and as the wire's text (None when the text would round
#: it): the same hours recur in every stay. Emptied when full, to stay small.
_timestamps: dict[float, tuple[datetime, str | None]] = {}
_TIMESTAMPS_MAX = 4096


def _timestamp(hour: float) -> tuple[datetime, str | None]:
    known = _timestamps.get(hour)
    if known is None:
        if len(_timestamps) >= _TIMESTAMPS_MAX:
            _timestamps.clear()
        at = EPOCH + timedelta(hours=hour)
        known = _timestamps[hour] = (at, format_timestamp(at) if at.microsecond % 1000 == 0 else None)
    return known


def _vital_signs(document: dict, hour: float) -> VitalSigns:
    """The row's VitalSigns at `hour`: by the wire's fast path for plain vital signs (a row's
    values are floats already checked against the contract's bounds, so it nearly always
    applies, at a third of pydantic's cost), else by pydantic, as before."""
    at, text = _timestamp(hour)
    if text is not None:
        fast = plain_vitals({**document, "ts": text})
        if fast is not None:
            return fast
    return VitalSigns.model_validate({**document, "ts": at})


def stay_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.psv"))
