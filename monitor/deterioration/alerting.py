"""When the deterioration score opens, raises and resolves an alert: hourly evaluations,
persistence to open, hysteresis to resolve.

The score is evaluated once an hour of event time, on the hour (its features are hourly
medians, so evaluating more often would only re-read the same hours). Each level (`medium`,
`high`) is its own small machine:

- it opens after its `persistence_h` consecutive evaluations at or above its open threshold;
- it resolves after its `resolve_h` consecutive evaluations below its resolve threshold (at
  most the open threshold: a score wobbling at the edge neither resolves nor re-fires).

The alert's severity is `high` while the high machine is open, else `medium` while the medium
machine is, else none.

A floor keeps NEWS2's own emergency level: while the patient's NEWS2 is at least
`news2_high_floor` (7: the RCP's emergency response), the score counts as at least the high open
threshold. The fitted score weighs what predicted sepsis in ICU records; a patient with NEWS2 ≥
7 from, say, a respiratory rate of 30, SpO2 90 % and a systolic of 95 needs the bedside whether
or not the model has seen such patients turn septic. The thresholds were searched with the floor
in place, so the burden figures include it. The offline harness (bench/deterioration) runs
exactly this code over the hourly records, so the burden it reports is the burden of these
dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Dynamics:
    """Thresholds on the score (see model.py) and the hourly counts of persistence and
    resolve hysteresis; the defaults live in monitor/config.py with their judgement."""

    medium_open: float
    medium_resolve: float
    high_open: float
    high_resolve: float
    medium_persistence_h: int = 2
    medium_resolve_h: int = 2
    high_persistence_h: int = 2
    high_resolve_h: int = 2
    news2_high_floor: int = 7  # 0: no floor

    def __post_init__(self) -> None:
        if not (self.medium_resolve <= self.medium_open <= self.high_open and self.high_resolve <= self.high_open):
            raise ValueError("need medium_resolve ≤ medium_open ≤ high_open and high_resolve ≤ high_open")
        if (
            min(self.medium_persistence_h, self.medium_resolve_h, self.high_persistence_h, self.high_resolve_h) < 1
            or self.news2_high_floor < 0
        ):
            raise ValueError("persistence and resolve need at least one evaluation")

    @classmethod
    def from_thresholds(cls, thresholds: dict[str, float]) -> "Dynamics":
        """From the `thresholds` of a weights file (or the config's settings, same names)."""
        values: dict[str, Any] = {
            name: (int(thresholds[name]) if name.endswith(("_h", "_floor")) else float(thresholds[name]))
            for name in cls.__dataclass_fields__
        }
        return cls(**values)

    def floored(self, score: float, news2: int | None) -> float:
        """The score the machines see: at least the high open threshold at NEWS2 ≥ the floor."""
        if self.news2_high_floor and news2 is not None and news2 >= self.news2_high_floor:
            return max(score, self.high_open)
        return score

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(slots=True)
class LevelState:
    """One level's machine: open or not, and how many evaluations in a row have argued for
    the change (opening when closed, resolving when open)."""

    open: bool = False
    run: int = 0

    def step(self, score: float, open_at: float, resolve_below: float, persistence: int, resolve: int) -> bool:
        if not self.open:
            self.run = self.run + 1 if score >= open_at else 0
            if self.run >= persistence:
                self.open, self.run = True, 0
        else:
            self.run = self.run + 1 if score < resolve_below else 0
            if self.run >= resolve:
                self.open, self.run = False, 0
        return self.open


@dataclass(slots=True)
class AlertState:
    """Per patient: the two machines and the last hour evaluated (epoch hour, −1 for none).
    Four small integers and two booleans: `as_list`/`from_list` persist it with the patient."""

    medium: LevelState
    high: LevelState
    hour: int = -1

    @classmethod
    def new(cls) -> "AlertState":
        return cls(LevelState(), LevelState())

    def step(self, score: float, dynamics: Dynamics, news2: int | None = None) -> str | None:
        """One hourly evaluation: the severity in force afterwards (None: no alert).
        `news2`: the patient's NEWS2 now, for the floor (None: no floor)."""
        d = dynamics
        score = d.floored(score, news2)
        high = self.high.step(score, d.high_open, d.high_resolve, d.high_persistence_h, d.high_resolve_h)
        medium = self.medium.step(score, d.medium_open, d.medium_resolve, d.medium_persistence_h, d.medium_resolve_h)
        return "high" if high else "medium" if medium else None

    def as_list(self) -> list:
        return [self.medium.open, self.medium.run, self.high.open, self.high.run, self.hour]

    @classmethod
    def from_list(cls, items: list) -> "AlertState":
        m_open, m_run, h_open, h_run, hour = items
        return cls(LevelState(bool(m_open), int(m_run)), LevelState(bool(h_open), int(h_run)), int(hour))


def simulate(scores: np.ndarray, dynamics: Dynamics, news2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One stay's hourly scores (and NEWS2, for the floor) → (medium-or-above flags, high
    flags) per hour, from a fresh state: what the engine would have had open after each
    hour's evaluation."""
    state = AlertState.new()
    medium = np.zeros(len(scores), dtype=bool)
    high = np.zeros(len(scores), dtype=bool)
    news = [None] * len(scores) if news2 is None else [int(v) for v in np.asarray(news2).tolist()]
    for hour, value in enumerate(np.asarray(scores, dtype=float).tolist()):
        severity = state.step(value, dynamics, news[hour])
        high[hour] = severity == "high"
        medium[hour] = severity is not None
    return medium, high


def from_config(config) -> Dynamics:
    """The dynamics from an EngineConfig's `deterioration_*` settings (duck-typed, so this
    module does not depend on the configuration's schema)."""
    return Dynamics.from_thresholds(
        {name: getattr(config, f"deterioration_{name}") for name in Dynamics.__dataclass_fields__}
    )
