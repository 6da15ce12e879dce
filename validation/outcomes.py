"""One stay's result: which hours each detector flags, how often it fires, when first.

Definitions, so that figures compare across tools (issue 7):
- a patient is *flagged* in an hour when an alert of at least that severity is open at any
  moment of that hour (crsmon: a clinical alert, signal loss excepted), or when a bedside score
  computed at that hour reaches its threshold;
- a *firing* is a patient's passage from not flagged to flagged at that severity (an episode
  raised from medium to high is one `high` firing, and no `medium` one);
- each clinical rule of the registry on under the run's configuration is also a detector of its
  own (`crsmon RULE rule`): flagged while an episode of that rule is open, at any severity. The
  rules are read from monitor/rules/registry.py when a stay is counted, so a rule registered
  there appears in every table with its firings per patient-day without an edit here.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from monitor.config import EngineConfig
from monitor.rules import registry  # the rules counted, read at call time
from monitor.wire import SEVERITY_RANK, Alert

#: The clinical rules registered at import (what tests/test_rule_registry.py compares); the
#: counting below reads the registry itself, when it runs.
CLINICAL_RULES = registry.CLINICAL_RULES

#: crsmon's detectors: the lowest severity each counts.
CRSMON_LEVELS: dict[str, str] = {"crsmon ≥ medium": "medium", "crsmon ≥ high": "high"}


def _packed(mask: np.ndarray) -> tuple[str, bytes]:
    """A 1-D array as its dtype and bytes. A chunk's results cross from its process as tens of
    thousands of small arrays, and numpy's own pickling of each (its reconstruction through
    __reduce__) cost more than the data: about a second of CPU on the development set."""
    return mask.dtype.str, mask.tobytes()


def _unpacked(packed: tuple[str, bytes]) -> np.ndarray:
    """The array `_packed` gave, read-only: nothing changes a stay's flags once they are made."""
    dtype, data = packed
    return np.frombuffer(data, dtype=np.dtype(dtype))


@dataclass(slots=True)
class Flags:
    """One detector on one stay."""

    hours: np.ndarray  # bool per hour of the stay
    firings: int
    first_at: float | None  # hours after the stay's start of the first firing

    def __getstate__(self) -> tuple:
        return _packed(self.hours), self.firings, self.first_at

    def __setstate__(self, state: tuple) -> None:
        hours, self.firings, self.first_at = state
        self.hours = _unpacked(hours)


@dataclass(slots=True)
class StayResult:
    patient_id: str
    source: str
    hours: int
    measured: np.ndarray  # bool per hour: a patient-hour (validation/stays.py)
    onset_hour: float | None
    outcome_known: bool
    detectors: dict[str, Flags] = field(default_factory=dict)
    #: crsmon's passages into each severity, by rule: (rule, severity) -> count
    by_rule: Counter = field(default_factory=Counter)

    def __getstate__(self) -> tuple:
        return (
            self.patient_id,
            self.source,
            self.hours,
            _packed(self.measured),
            self.onset_hour,
            self.outcome_known,
            self.detectors,
            self.by_rule,
        )

    def __setstate__(self, state: tuple) -> None:
        (
            self.patient_id,
            self.source,
            self.hours,
            measured,
            self.onset_hour,
            self.outcome_known,
            self.detectors,
            self.by_rule,
        ) = state
        self.measured = _unpacked(measured)


def clinical_rules(config: EngineConfig | None = None) -> tuple[str, ...]:
    """The registry's clinical rules in registration order; with `config`, those it switches
    on (the NEWS2 rule is off beside the deterioration warning: a row of zeros would say it
    was tried and never fired)."""
    return tuple(rule.name for rule in registry.REGISTRY if rule.clinical and (config is None or rule.enabled(config)))


def rule_detector(rule: str) -> str:
    """The name of one rule's detector in the figures."""
    return f"crsmon {rule} rule"


def flags_of_alerts(
    alerts: list[Alert], start: float, hours: int, rules: tuple[str, ...] = ()
) -> tuple[dict[str, Flags], Counter]:
    """crsmon's detectors from the alerts of one stay, in the order they were published, and
    one detector per rule of `rules` (`rule_detector`).

    The patient's level is the highest severity among its open episodes of the ward-level
    rules (`Rule.ward_level`: the organ rules have their own rows); each detector is the time
    that level stays at or above its severity. A rule's own level is the highest among its open
    episodes, and its detector the time that is any severity at all.
    """
    clinical = frozenset(clinical_rules())
    ward = frozenset(rule.name for rule in registry.REGISTRY if rule.clinical and rule.ward_level)
    open_by_episode: dict[str, int] = {}  # every clinical episode open, by its severity's rank
    open_in_ward: dict[str, int] = {}  # those of the ward-level rules
    open_by_rule: dict[str, dict[str, int]] = {rule: {} for rule in rules}
    by_rule: Counter = Counter()
    timeline: list[tuple[float, int]] = []  # (hours after start, the patient's level from then)
    timelines: dict[str, list[tuple[float, int]]] = {rule: [] for rule in rules}
    for alert in alerts:
        if alert.rule not in clinical:
            continue
        rank = SEVERITY_RANK[alert.severity]
        before = open_by_episode.get(alert.episode_id, 0)
        own = open_by_rule.get(alert.rule)
        if alert.status == "resolved":
            open_by_episode.pop(alert.episode_id, None)
            open_in_ward.pop(alert.episode_id, None)
            if own is not None:
                own.pop(alert.episode_id, None)
        else:
            open_by_episode[alert.episode_id] = rank
            if alert.rule in ward:
                open_in_ward[alert.episode_id] = rank
            if own is not None:
                own[alert.episode_id] = rank
            if rank > before:
                by_rule[(alert.rule, alert.severity)] += 1
        at = (alert.observed_at.timestamp() - start) / 3600
        if alert.rule in ward:
            timeline.append((at, max(open_in_ward.values(), default=0)))
        if own is not None:
            timelines[alert.rule].append((at, max(own.values(), default=0)))
    result = {}
    for name, severity in CRSMON_LEVELS.items():
        result[name] = _flags(timeline, SEVERITY_RANK[severity], hours)
    for rule in rules:
        result[rule_detector(rule)] = _flags(timelines[rule], 1, hours)
    return result, by_rule


def _flags(timeline: list[tuple[float, int]], rank: int, hours: int) -> Flags:
    flagged = np.zeros(hours, dtype=bool)
    firings = 0
    first_at: float | None = None
    since: float | None = None
    for at, level in timeline:
        if level >= rank and since is None:
            since = at
            firings += 1
            if first_at is None:
                first_at = at
        elif level < rank and since is not None:
            _mark(flagged, since, at)
            since = None
    if since is not None:
        _mark(flagged, since, math.inf)
    return Flags(flagged, firings, first_at)


def _mark(flagged: np.ndarray, since: float, until: float) -> None:
    """Flag every hour that [since, until) touches; an instant touches its own hour."""
    first = max(0, math.floor(since))
    last = len(flagged) if until == math.inf else max(first + 1, math.ceil(until))
    flagged[first : min(last, len(flagged))] = True


def flags_of_score(score: np.ndarray, threshold: int) -> Flags:
    flagged = score >= threshold
    rises = flagged & ~np.concatenate(([False], flagged[:-1]))
    where = np.flatnonzero(rises)
    return Flags(flagged, int(len(where)), float(where[0]) if len(where) else None)
