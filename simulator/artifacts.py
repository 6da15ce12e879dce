"""Artifacts: what monitors report when the patient did not change.

Probe-off zeros, single implausible samples, motion bursts, silent sources — the reasons 87–99 %
of ward alarms are not actionable (docs/clinical-reference.md, alarm safety). They are planned per patient as
times and intervals, then stamped onto whatever samples fall there, so the same plan serves
1-second and 1-minute numerics alike. Every stamped sample is marked, because the ground truth is
computed from the samples that are not artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.course import DAY
from simulator.settings import ArtifactRates

Interval = tuple[float, float]


@dataclass
class ArtifactPlan:
    spo2_probe_off: list[Interval] = field(default_factory=list)
    ecg_leads_off: list[Interval] = field(default_factory=list)
    motion: list[Interval] = field(default_factory=list)
    gaps: list[Interval] = field(default_factory=list)
    monitor_off: list[Interval] = field(default_factory=list)
    heart_rate_spikes: list[float] = field(default_factory=list)
    spo2_dips: list[float] = field(default_factory=list)


def plan_artifacts(rng: np.random.Generator, rates: ArtifactRates, begin: float, end: float) -> ArtifactPlan:
    """Poisson numbers of each artifact, uniformly over the monitored time."""
    days = max(end - begin, 0.0) / DAY

    def intervals(rate: float, shortest_s: float, longest_s: float) -> list[Interval]:
        starts = np.sort(rng.uniform(begin, end, rng.poisson(rate * days)))
        return [(float(a), float(a + rng.uniform(shortest_s, longest_s))) for a in starts]

    def moments(rate: float) -> list[float]:
        return sorted(float(t) for t in rng.uniform(begin, end, rng.poisson(rate * days)))

    return ArtifactPlan(
        spo2_probe_off=intervals(rates.spo2_probe_off, 30, 600),
        ecg_leads_off=intervals(rates.ecg_leads_off, 30, 300),
        motion=intervals(rates.motion, 20, 180),
        gaps=intervals(rates.gap, 600, 2700),
        monitor_off=intervals(rates.monitor_off, 3600, 10_800),
        heart_rate_spikes=moments(rates.heart_rate_spike),
        spo2_dips=moments(rates.spo2_single_dip),
    )


def within(times: np.ndarray, intervals: list[Interval]) -> np.ndarray:
    mask = np.zeros(len(times), bool)
    for begin, end in intervals:
        mask |= (times >= begin) & (times < end)
    return mask


def _single_samples(times: np.ndarray, moments: list[float], interval_s: float) -> np.ndarray:
    """The one sample each moment lands on (the first at or after it)."""
    if not len(times) or not moments:
        return np.zeros(0, int)
    found = np.searchsorted(times, np.asarray(moments))
    found = found[found < len(times)]
    return found[times[found] - np.asarray(moments)[: len(found)] < interval_s]


def stamp_numerics(
    plan: ArtifactPlan, rng: np.random.Generator, times: np.ndarray, interval_s: float, readings: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Overwrite readings in place where artifacts fall; returns (sent, artifact) masks.

    A sample not `sent` is a silent source: no message at all. An `artifact` sample is sent
    with a value the patient did not have.
    """
    heart, spo2, breaths = readings["heart_rate"], readings["spo2"], readings["respiratory_rate"]
    artifact = np.zeros(len(times), bool)
    moving = within(times, plan.motion)
    count = int(moving.sum())
    heart[moving] = np.minimum(heart[moving] + rng.uniform(25, 60, count), 250)
    spo2[moving] = np.maximum(spo2[moving] - np.round(rng.uniform(4, 15, count)), 50)
    breaths[moving] = np.minimum(breaths[moving] + np.round(rng.uniform(5, 15, count)), 60)
    artifact |= moving
    for index in _single_samples(times, plan.heart_rate_spikes, interval_s):
        heart[index] = float(np.round(rng.uniform(150, 200)))
        artifact[index] = True
    for index in _single_samples(times, plan.spo2_dips, interval_s):
        spo2[index] = float(np.round(rng.uniform(70, 80)))
        artifact[index] = True
    probe_off = within(times, plan.spo2_probe_off)
    spo2[probe_off] = 0.0
    leads_off = within(times, plan.ecg_leads_off)
    heart[leads_off] = 0.0
    breaths[leads_off] = 0.0
    artifact |= probe_off | leads_off
    sent = ~(within(times, plan.gaps) | within(times, plan.monitor_off))
    return sent, artifact & sent
