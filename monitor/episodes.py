"""Alert episodes: one open episode per patient and rule, instead of an alarm per reading.

An episode opens (`firing`) once a rule's criteria have held for its persistence, or at once
when the rule says the evidence needs no waiting (a fever in the CRS risk period). It changes
(`updated`) when its level — severity, then grade — changes: upward after the same persistence,
downward only after the lower level has held for the downgrade hysteresis, so that a value
wobbling around a threshold does not page on every reading. It ends (`resolved`) once the
criteria have been absent for the resolve hysteresis.

Every transition is decided at a time the caller passes in, never the clock, so a replay of
the same events gives the same episodes, and the deadline of each pending transition is known
in advance (`next_due`) for a timer to honour when no events arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, NamedTuple

from monitor.wire import SEVERITY_RANK, format_timestamp


def episode_id_for(patient_id: str, rule: str, opened_at: float) -> str:
    """`PATIENT:RULE:OPENING_OBSERVED_AT`, as the contract's example: stable for the episode's
    life, and the same in every replay of the same events."""
    opened = datetime.fromtimestamp(opened_at, timezone.utc)
    return f"{patient_id}:{rule}:{format_timestamp(opened)}"


class Level(NamedTuple):
    """What a rule currently finds: how bad, why, and whether it needs no persistence.

    `explain` gives the reasons; it is called only when a change is published, because most
    evaluations of an open episode change nothing and formatting reasons is not free.
    """

    severity: str
    grade: int | None
    explain: Callable[[], tuple[str, ...]]
    at_once: bool = False

    def rank(self) -> tuple[int, int]:
        return SEVERITY_RANK[self.severity], self.grade or 0


@dataclass(frozen=True, slots=True)
class Timing:
    persistence_s: float
    downgrade_after_s: float
    resolve_after_s: float


class Change(NamedTuple):
    """One state change to publish: the episode, its change number, and what it is now."""

    episode_id: str
    number: int
    status: str
    severity: str
    grade: int | None
    reasons: tuple[str, ...]
    at: float


@dataclass(slots=True)
class Episode:
    """The state of one rule for one patient: open or not, and the clocks of what is pending."""

    episode_id: str | None = None
    severity: str = ""
    grade: int | None = None
    changes: int = 0
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    above_since: float | None = None  # criteria stronger than the episode (or present, if closed)
    below_since: float | None = None  # criteria present but weaker than the episode
    absent_since: float | None = None  # no criteria while the episode is open
    back_since: float | None = None  # criteria back during an absence, not yet for long

    @property
    def open(self) -> bool:
        return self.episode_id is not None

    def rank(self) -> tuple[int, int]:
        return SEVERITY_RANK[self.severity], self.grade or 0

    @property
    def idle(self) -> bool:
        """Equal to a fresh episode (never opened, nothing pending): what a snapshot may leave out."""
        return self.as_list() == _FRESH

    def step(self, at: float, level: Level | None, timing: Timing, patient_id: str, rule: str) -> Change | None:
        """Advance to time `at` given the rule's finding then; at most one change results."""
        if self.episode_id is None:
            if level is None:
                self.above_since = None
                return None
            if self.above_since is None:
                self.above_since = at
            if level.at_once or at >= self.above_since + timing.persistence_s:
                self.episode_id = episode_id_for(patient_id, rule, at)
                self.changes = 0
                self.acknowledged_by = self.acknowledged_at = None
                return self._change("firing", level, at)
            return None
        if level is None:
            self.above_since = self.below_since = self.back_since = None
            if self.absent_since is None:
                self.absent_since = at
            if at >= self.absent_since + timing.resolve_after_s:
                return self.resolve(at, ("criteria absent for the resolve period",))
            return None
        if self.absent_since is not None and not level.at_once:
            # Criteria that come back must persist, as they must to open an episode, before
            # they cancel the absence: a blip of motion does not restart the resolve delay.
            if self.back_since is None:
                self.back_since = at
            if at < self.back_since + timing.persistence_s:
                return None
        self.absent_since = self.back_since = None
        rank = level.rank()
        current = self.rank()
        if rank > current:
            self.below_since = None
            if self.above_since is None:
                self.above_since = at
            if level.at_once or at >= self.above_since + timing.persistence_s:
                return self._change("updated", level, at)
        elif rank < current:
            self.above_since = None
            if self.below_since is None:
                self.below_since = at
            if at >= self.below_since + timing.downgrade_after_s:
                return self._change("updated", level, at)
        else:
            self.above_since = self.below_since = None
        return None

    def resolve(self, at: float, reasons: tuple[str, ...]) -> Change:
        """Close the episode now (criteria gone for long enough, or the patient discharged)."""
        assert self.episode_id is not None
        self.changes += 1
        change = Change(self.episode_id, self.changes, "resolved", self.severity, self.grade, reasons, at)
        self.episode_id = None
        self.severity, self.grade = "", None
        self.acknowledged_by = self.acknowledged_at = None
        self.above_since = self.below_since = self.absent_since = self.back_since = None
        return change

    def _change(self, status: str, level: Level, at: float) -> Change:
        if status == "updated" and SEVERITY_RANK[level.severity] != SEVERITY_RANK[self.severity]:
            self.acknowledged_by = self.acknowledged_at = None  # an ack holds until severity changes
        self.severity, self.grade = level.severity, level.grade
        self.above_since = self.below_since = self.absent_since = self.back_since = None
        self.changes += 1
        assert self.episode_id is not None
        return Change(self.episode_id, self.changes, status, level.severity, level.grade, level.explain(), at)

    def acknowledge(self, by: str, at: float) -> None:
        self.acknowledged_by, self.acknowledged_at = by, at

    def next_due(self, timing: Timing) -> float:
        """When this episode would change if nothing else happened; inf if never.

        Each clock left set by `step` names a transition that time alone can bring, and only
        those count. While criteria that came back are waiting out their persistence
        (`back_since`), the resolve deadline of the absence is not one of them: `step` resolves
        only when the criteria are absent, and they are present. Counting it made a deadline
        that a step at that moment could not honour — the engine's timer rescheduled it for
        ever (the first real ICU records hung `crsmon replay` and the worker this way).
        After every `step(at, …)` the result is later than `at` (tests/test_engine_time.py).
        """
        due = math.inf
        if self.above_since is not None:
            due = self.above_since + timing.persistence_s
        if self.below_since is not None:
            due = min(due, self.below_since + timing.downgrade_after_s)
        if self.back_since is not None:
            due = min(due, self.back_since + timing.persistence_s)
        elif self.absent_since is not None:
            due = min(due, self.absent_since + timing.resolve_after_s)
        return due

    def pending(self, timing: Timing) -> list[tuple[str, float]]:
        """Every deadline `next_due` weighs, by name: what a stall report names."""
        named = [
            ("persistence of stronger criteria", self.above_since, timing.persistence_s),
            ("downgrade hysteresis", self.below_since, timing.downgrade_after_s),
            ("persistence of returning criteria", self.back_since, timing.persistence_s),
            ("resolve hysteresis", None if self.back_since is not None else self.absent_since, timing.resolve_after_s),
        ]
        return [(name, since + delay) for name, since, delay in named if since is not None]

    def as_list(self) -> list:
        return [
            self.episode_id,
            self.severity,
            self.grade,
            self.changes,
            self.acknowledged_by,
            self.acknowledged_at,
            self.above_since,
            self.below_since,
            self.absent_since,
            self.back_since,
        ]

    @classmethod
    def from_list(cls, items: list) -> "Episode":
        return cls(*items)


_FRESH = Episode().as_list()
