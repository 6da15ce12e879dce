"""A stay as validation sees it: the contract events for the engine, an hourly grid for the
bedside scores, and the time of the event to foresee.

Both views come from the same rows, so crsmon and the scores it is compared with see the same
values at the same hours.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from monitor.wire import InputEvent, LabEvent

#: Columns of `Stay.grid`: the contract's measurements, oxygen, and the two laboratory values
#: SIRS uses where they are recorded.
GRID_COLUMNS: tuple[str, ...] = (
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "mean_arterial_pressure",
    "temperature",
    "spo2",
    "respiratory_rate",
    "on_oxygen",
    "paco2",
    "wbc",
)
COLUMN = {name: index for index, name in enumerate(GRID_COLUMNS)}
#: A patient-hour is an hour in which one of the scores' inputs was recorded: the hours of a
#: stay before its first observation are no hours of monitoring. (This is the reading that
#: reproduces the published figures of the bedside scores on the PhysioNet 2019 data.)
SCORE_INPUTS = tuple(COLUMN[name] for name in GRID_COLUMNS if name != "diastolic_bp")


@dataclass(slots=True)
class Stay:
    """One patient's records.

    `start` is hour 0 of the grid (the first record's hour); `grid[h]` holds the values
    recorded in hour h (NaN where none); `onset_hour` is the event to foresee, in hours after
    `start` (None for a stay without one); `outcome_known` is False when the input did not say.
    """

    patient_id: str
    source: str
    start: datetime
    grid: np.ndarray
    events: list[InputEvent] = field(default_factory=list)
    onset_hour: float | None = None
    outcome_known: bool = True
    labs: list[LabEvent] = field(default_factory=list)

    def inputs(self) -> list[InputEvent]:
        """Every event in time order; at one moment the vital signs first, then the labs (the
        order a row's messages are sent in: a result is reported after its sample)."""
        if not self.labs:
            return self.events
        return list(heapq.merge(self.events, self.labs, key=lambda event: event.ts))

    @property
    def hours(self) -> int:
        return int(self.grid.shape[0])

    def measured(self) -> np.ndarray:
        """Per hour: whether it is a patient-hour (SCORE_INPUTS)."""
        return ~np.isnan(self.grid[:, SCORE_INPUTS]).all(axis=1)
