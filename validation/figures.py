"""The figures of a validation run, each with a bootstrap 95 % interval over patients.

Patients, not hours, are the unit that was sampled: a resample draws whole stays with
replacement (1,000 times, seeded, so a run is reproducible) and recomputes each figure; the
interval is the 2.5th to 97.5th percentile. Rates over time (firings per patient-day, the share
of hours flagged) are ratios of sums over the drawn stays.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from validation.outcomes import Flags, StayResult

#: Hours before the onset at which sensitivity is reported.
OFFSETS_H = (6, 3, 0)
#: A septic stay counts for onset figures when its onset is this long after its first record:
#: an earlier onset leaves nothing to warn of ahead (the PhysioNet label starts 6 h before it).
MIN_ONSET_H = 12.0
#: Lead-time buckets of the first firing before onset, in hours (lower bounds).
LEAD_BUCKETS = ((24, "≥ 24 h"), (12, "12–24 h"), (6, "6–12 h"), (3, "3–6 h"), (0, "0–3 h"))
RESAMPLES = 1000


@dataclass(frozen=True, slots=True)
class StayHours:
    """Every stay's patient-hours, counted once per run rather than once per figure: the
    denominators of every burden figure, and the hours in which a detector's flags count.

    `measured` is the stays' masks end to end (stay i is `measured[starts[i]:starts[i + 1]]`),
    so that a detector's flagged patient-hours over all stays are one array operation.
    """

    patient: np.ndarray  # per stay: its patient-hours (float)
    measured: np.ndarray  # bool: every stay's patient-hours, stay after stay
    starts: np.ndarray  # len(stays) + 1 offsets into `measured`

    @classmethod
    def of(cls, stays: list[StayResult]) -> "StayHours":
        lengths = np.array([len(stay.measured) for stay in stays], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths)))
        measured = np.concatenate([stay.measured for stay in stays]) if stays else np.zeros(0, dtype=bool)
        return cls(np.array([stay.measured.sum() for stay in stays], dtype=float), measured, starts)

    def flagged(self, flags: list[Flags]) -> np.ndarray:
        """Per stay, its patient-hours that `flags` flag (float; counts, so exact)."""
        if not flags:
            return np.zeros(0)
        hits = np.concatenate([flag.hours for flag in flags]) & self.measured
        running = np.concatenate(([0], np.cumsum(hits, dtype=np.int64)))
        return (running[self.starts[1:]] - running[self.starts[:-1]]).astype(float)


@dataclass(frozen=True, slots=True)
class Groups:
    """Which stays count where: indices into the run's list of stays; and their hours."""

    non_septic: np.ndarray
    septic: np.ndarray
    onset_counted: np.ndarray
    unknown: np.ndarray
    hours: StayHours


def groups_of(stays: list[StayResult]) -> Groups:
    non_septic, septic, counted, unknown = [], [], [], []
    for index, stay in enumerate(stays):
        if not stay.outcome_known:
            unknown.append(index)
        elif stay.onset_hour is None:
            non_septic.append(index)
        else:
            septic.append(index)
            if stay.onset_hour >= MIN_ONSET_H:
                counted.append(index)
    return Groups(_indices(non_septic), _indices(septic), _indices(counted), _indices(unknown), StayHours.of(stays))


def _indices(group: list[int]) -> np.ndarray:
    return np.array(group, dtype=np.int64)


def _interval(draws: np.ndarray) -> list[float]:
    finite = draws[np.isfinite(draws)]
    if not len(finite):
        return [math.nan, math.nan]
    low, high = np.percentile(finite, [2.5, 97.5])
    return [float(low), float(high)]


class Bootstrap:
    """Resampled index sets, drawn once per group and shared by every detector, so that the
    intervals of two detectors compare on the same resamples.

    The resampled sums of an array are kept by its content: every detector divides by the
    same patient-hours of a group, and summing them over a thousand resamples once per
    detector was most of the figures' time.
    """

    def __init__(self, seed: int = 7) -> None:
        self._rng = np.random.default_rng(seed)
        self._draws: dict[int, np.ndarray] = {}
        self._sums: dict[tuple[str, bytes], np.ndarray] = {}

    def draws(self, size: int) -> np.ndarray:
        if size not in self._draws:
            self._draws[size] = self._rng.integers(0, size, (RESAMPLES, size))
        return self._draws[size]

    def ratio(self, numerator: np.ndarray, denominator: np.ndarray) -> dict:
        if not len(numerator) or denominator.sum() == 0:
            return {"value": None, "ci95": [None, None]}
        with np.errstate(invalid="ignore", divide="ignore"):
            draws = self.resampled_sums(numerator) / self.resampled_sums(denominator)
        return {"value": float(numerator.sum() / denominator.sum()), "ci95": _interval(draws)}

    def resampled_sums(self, values: np.ndarray) -> np.ndarray:
        """`values` summed over each resample of its size (kept: the same content, the same
        sums, since the resamples of a size are drawn once)."""
        key = (values.dtype.str, values.tobytes())
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = values[self.draws(len(values))].sum(axis=1)
        return sums


def detector_figures(stays: list[StayResult], name: str, groups: Groups, bootstrap: Bootstrap) -> dict:
    flags = [stay.detectors[name] for stay in stays]
    hours = groups.hours.patient
    firings = np.array([flag.firings for flag in flags], dtype=float)
    flagged = groups.hours.flagged(flags)
    figures: dict = {}
    for label, members in (("all", np.arange(len(stays))), ("non_septic", groups.non_septic)):
        figures[f"firings_per_patient_day_{label}"] = bootstrap.ratio(firings[members], hours[members] / 24)
        figures[f"hours_flagged_share_{label}"] = bootstrap.ratio(flagged[members], hours[members])
    counted = groups.onset_counted
    for offset in OFFSETS_H:
        hit, evaluable = [], []
        for index in counted:
            stay = stays[index]
            hour = math.floor(stay.onset_hour - offset)
            if 0 <= hour < stay.hours:
                evaluable.append(1.0)
                hit.append(float(flags[index].hours[hour]))
        figures[f"flagged_at_onset_minus_{offset}h"] = {
            **bootstrap.ratio(np.array(hit), np.array(evaluable)),
            "stays": len(evaluable),
        }
    figures["first_firing_lead_time"] = lead_times(stays, flags, counted)
    return figures


def patient_hours(stays: list[StayResult]) -> np.ndarray:
    """Per stay, its patient-hours: the denominators of every burden figure."""
    return np.array([stay.measured.sum() for stay in stays], dtype=float)


def lead_times(stays: list[StayResult], flags: list[Flags], counted: np.ndarray) -> dict:
    """Where the first firing of each counted septic stay fell, before its onset or not."""
    buckets: Counter[str] = Counter()
    leads = []
    for index in counted:
        first = flags[index].first_at
        onset = stays[index].onset_hour
        if first is None:
            buckets["never"] += 1
        elif first > onset:
            buckets["after onset"] += 1
        else:
            lead = onset - first
            leads.append(lead)
            buckets[next(label for low, label in LEAD_BUCKETS if lead >= low)] += 1
    order = [label for _, label in LEAD_BUCKETS] + ["after onset", "never"]
    return {
        "stays": int(len(counted)),
        "median_h": float(np.median(leads)) if leads else None,
        "buckets": {label: buckets.get(label, 0) for label in order},
    }


def cohort(stays: list[StayResult], groups: Groups) -> dict:
    hours = groups.hours.patient
    return {
        "patients": len(stays),
        "patient_days": float(hours.sum() / 24),
        "non_septic": int(len(groups.non_septic)),
        "non_septic_patient_days": float(hours[groups.non_septic].sum() / 24),
        "septic": int(len(groups.septic)),
        "septic_onset_counted": int(len(groups.onset_counted)),
        "outcome_unknown": int(len(groups.unknown)),
    }


def by_rule(stays: list[StayResult]) -> dict:
    """crsmon's firings per patient-day by rule and severity (all stays)."""
    total: Counter = Counter()
    for stay in stays:
        total.update(stay.by_rule)
    days = patient_hours(stays).sum() / 24 or math.nan
    return {
        f"{rule} {severity}": {"firings": count, "per_patient_day": count / days}
        for (rule, severity), count in sorted(total.items())
    }


def sweep_point(stays: list[StayResult], flags: list[Flags], groups: Groups) -> dict:
    """One what-if point: burden on the non-septic stays against sensitivity 6 h ahead."""
    hours = groups.hours.patient
    members = groups.non_septic
    flagged = float(groups.hours.flagged(flags)[members].sum())
    firings = sum(flags[i].firings for i in members)
    hit = evaluable = 0
    for index in groups.onset_counted:
        hour = math.floor(stays[index].onset_hour - OFFSETS_H[0])
        if 0 <= hour < stays[index].hours:
            evaluable += 1
            hit += bool(flags[index].hours[hour])
    return {
        "hours_flagged_share_non_septic": flagged / hours[members].sum() if len(members) else None,
        "firings_per_patient_day_non_septic": firings / (hours[members].sum() / 24) if len(members) else None,
        "flagged_at_onset_minus_6h": hit / evaluable if evaluable else None,
    }


def case_lists(stays: list[StayResult], name: str, groups: Groups, count: int = 20) -> dict:
    """Stays a clinician should look at: septic stays the detector missed 6 h ahead, and the
    non-septic stays it kept flagged longest."""
    missed = []
    for index in groups.onset_counted:
        stay = stays[index]
        hour = math.floor(stay.onset_hour - OFFSETS_H[0])
        if 0 <= hour < stay.hours and not stay.detectors[name].hours[hour]:
            missed.append(stay.patient_id)
    busiest = sorted(groups.non_septic, key=lambda i: -stays[i].detectors[name].hours.sum() / max(1, stays[i].hours))
    return {
        "missed_6h_before_onset": missed[:count],
        "non_septic_most_flagged": [
            {"patient_id": stays[i].patient_id, "hours_flagged_share": float(stays[i].detectors[name].hours.mean())}
            for i in busiest[:count]
            if stays[i].detectors[name].hours.any()
        ],
    }
