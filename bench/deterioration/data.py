"""Reading a PhysioNet/CinC 2019 folder (one pipe-separated `.psv` file per ICU stay).

Every row is one ICU hour; `SepsisLabel` turns 1 six hours *before* clinical onset, so
onset = first labelled row + 6. Rows are consecutive hours (checked on the dev set: no gaps
in ICULOS), so a row's index is the hour since the stay's first record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Columns kept, in this order, as `Stay.values[:, i]`.
COLUMNS = ("HR", "O2Sat", "Temp", "SBP", "MAP", "Resp", "FiO2", "PaCO2", "WBC")
HR, O2SAT, TEMP, SBP, MAP, RESP, FIO2, PACO2, WBC = range(len(COLUMNS))
LABEL_SHIFT_H = 6  # SepsisLabel starts this many hours before onset (SOURCES.md)


@dataclass(frozen=True)
class Stay:
    """One ICU stay: hourly values (hours, COLUMNS) with NaN where not measured."""

    patient: str
    values: np.ndarray
    onset: int | None  # row index of clinical onset (may lie past the last row), None if not septic
    measured: np.ndarray  # per row: any of COLUMNS (the scores' inputs) recorded that hour

    @property
    def hours(self) -> int:
        return len(self.values)

    @property
    def septic(self) -> bool:
        return self.onset is not None


def read_stay(path: Path) -> Stay:
    lines = path.read_text().split("\n")
    header = lines[0].split("|")
    index = [header.index(name) for name in COLUMNS]
    label = header.index("SepsisLabel")
    rows = [line.split("|") for line in lines[1:] if line]
    values = np.array([[float(row[i]) for i in index] for row in rows], dtype=float)
    labels = [row[label] == "1" for row in rows]
    onset = labels.index(True) + LABEL_SHIFT_H if any(labels) else None
    measured = ~np.isnan(values).all(axis=1)
    return Stay(path.stem, values, onset, measured)


def read_folder(folder: str | Path) -> list[Stay]:
    """Every `*.psv` in `folder`, sorted by file name so that splits are reproducible."""
    paths = sorted(Path(folder).glob("*.psv"))
    if not paths:
        raise SystemExit(f"no .psv files in {folder}")
    return [read_stay(path) for path in paths]


def split(stays: list[Stay], held_out_share: float = 0.3, seed: int = 12) -> tuple[list[Stay], list[Stay]]:
    """A patient-level split, stratified by septic/not: the fit never sees the held-out stays.

    A seeded permutation, so the fit script and the harness draw the same split."""
    rng = np.random.default_rng(seed)
    fit, held = [], []
    for group in ([s for s in stays if s.septic], [s for s in stays if not s.septic]):
        order = rng.permutation(len(group))
        cut = int(round(len(group) * held_out_share))
        held += [group[i] for i in order[:cut]]
        fit += [group[i] for i in order[cut:]]
    return (sorted(fit, key=lambda s: s.patient), sorted(held, key=lambda s: s.patient))
