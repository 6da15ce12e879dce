"""Piecewise-linear curves: how an illness moves one vital sign over time.

A course is written as ramps — "from hour 10 to hour 14 systolic pressure falls by 30 mmHg" —
which read like the clinical narrative they encode, compose by addition (a fluid bolus on top
of a falling pressure), and evaluate over any sample times with one `np.interp` per ramp, so a
day of 1-second numerics costs no Python loop.
"""

from __future__ import annotations

import numpy as np

_INSTANT = 1.0  # s; a "step" is a ramp this short, which keeps every knot list increasing


class Curve:
    """A sum of ramps and paths in seconds since the start of the simulation; zero by default."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []

    def ramp(self, begin: float, end: float, change: float) -> "Curve":
        """Zero before `begin`, `change` from `end` on, linear between."""
        end = max(end, begin + _INSTANT)
        self._parts.append((np.array([begin, end], float), np.array([0.0, change])))
        return self

    def path(self, times: list[float], values: list[float]) -> "Curve":
        """Through the given knots; holds the first value before and the last after."""
        order = np.argsort(times, kind="stable")
        xs = np.asarray(times, float)[order]
        xs = xs + np.arange(len(xs)) * 1e-6  # equal times become a step, not a division by 0
        self._parts.append((xs, np.asarray(values, float)[order]))
        return self

    def settle(self, begin: float, end: float) -> "Curve":
        """Ramp back to zero from whatever the curve is at `begin`: recovery.

        Call it after every ramp that starts earlier, because it cancels only those.
        """
        return self.ramp(begin, end, -self.at(begin))

    def __call__(self, times: np.ndarray) -> np.ndarray:
        total = np.zeros(len(times))
        for xs, ys in self._parts:
            total += np.interp(times, xs, ys)
        return total

    def at(self, time: float) -> float:
        return float(self(np.array([time], float))[0])


def bounded_normal(rng: np.random.Generator, sigma: float, size: int, limit: float = 2.5) -> np.ndarray:
    """Gaussian noise cut at ±`limit` σ: a monitor's noise has no infinitely long tails, and an
    unbounded tail would, over a million samples, manufacture a clinical event from nothing."""
    return np.clip(rng.normal(0.0, sigma, size), -limit * sigma, limit * sigma)


def slow_variation(rng: np.random.Generator, begin: float, end: float, sigma: float, every_s: float = 1200.0) -> Curve:
    """Wandering of a patient's own level from minute to minute (posture, sleep, talking):
    random knots every 20 minutes, interpolated, so neighbouring samples agree."""
    knots = np.arange(begin - every_s, end + 2 * every_s, every_s)
    return Curve().path(list(knots), list(bounded_normal(rng, sigma, len(knots), 2.0)))
