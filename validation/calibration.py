"""Site calibration: the deterioration warning's open thresholds that meet the alert burden a
hospital can staff, on its own history.

`crsmon validate FOLDER --out DIR --target-burden high=3%,medium=12%` runs each level's open
threshold at a grid of values around the configured one (the what-if machinery: the hourly
scores are computed once and shared), reads the burden each gives on the stays without the
outcome, and interpolates the threshold at which the burden meets the target (linear between
the two grid points that bracket it; the burden falls as the threshold rises). A target may be
a share of hours under alert (`high=3%`) or firings per patient-day (`high=0.3/day`); given
both, the higher threshold meets both. The chosen thresholds are then run once more over the
whole history, so that the burden and sensitivity the report gives for them (with their
intervals) are the engine's own, not an interpolation; if that run misses a target by more
than a tenth of its size the threshold is corrected once (secant through the run's point).

Why the resolve thresholds move with the open ones: each level resolves at `resolve/open`
times its open threshold, as configured (1.0 by default); keeping that ratio keeps the
hysteresis the configuration chose. And `medium_open ≤ high_open` always: a medium grid point
above the high threshold raises the high one with it (only the medium-or-above burden is read
from such a point).

The thresholds are written as a clinical configuration file (the format `crsmon worker
--config` / CRSMON_CLINICAL_CONFIG and `crsmon replay --config` read): the configuration the
run started from, with the four thresholds replaced.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from monitor.config import EngineConfig

LEVELS = ("high", "medium")
DETECTOR = {"high": "crsmon ≥ high", "medium": "crsmon ≥ medium"}
#: Grid of open thresholds, as multiples of the configured one: wide enough for targets from
#: about half to about twice the default burden on the development set.
GRID = (0.75, 0.88, 1.15, 1.35, 1.65)
KINDS = {"%": "hours", "/day": "firings"}
FIGURE = {"hours": "hours_flagged_share_non_septic", "firings": "firings_per_patient_day_non_septic"}
#: The verification run is corrected once when it misses a target by more than this share of it.
TOLERANCE = 0.1


@dataclass(frozen=True)
class Target:
    level: str  # "high" or "medium" (medium or above)
    kind: str  # "hours" (share of non-septic patient-hours) or "firings" (per patient-day)
    value: float  # a share (0.03) or a rate (0.3)

    def __str__(self) -> str:
        return f"{self.level}={100 * self.value:g}%" if self.kind == "hours" else f"{self.level}={self.value:g}/day"


_PART = re.compile(r"^\s*(high|medium)\s*=\s*([0-9]*\.?[0-9]+)\s*(%|/day)\s*$")


def parse_targets(text: str) -> list[Target]:
    """`high=3%,medium=12%` (shares of hours) or `high=0.3/day` (firings per patient-day)."""
    targets = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = _PART.match(part)
        if not match:
            raise SystemExit(
                f"crsmon validate: --target-burden {part!r}: write LEVEL=N% (share "
                "of hours under alert) or LEVEL=N/day (firings per patient-day), "
                "LEVEL being high or medium, e.g. high=3%,medium=12%"
            )
        level, number, unit = match.groups()
        value = float(number) / 100 if unit == "%" else float(number)
        if value <= 0 or (unit == "%" and value >= 1):
            raise SystemExit(
                f"crsmon validate: --target-burden {part}: a burden must be above 0 (and a share of hours below 100 %)"
            )
        targets.append(Target(level, KINDS[unit], value))
    if not targets:
        raise SystemExit("crsmon validate: --target-burden is empty; e.g. high=3%,medium=12%")
    return targets


def open_setting(level: str) -> str:
    return f"deterioration_{level}_open"


def thresholds_with(config: EngineConfig, level: str, value: float) -> dict[str, float]:
    """The four thresholds with `level`'s open threshold at `value`: resolve thresholds keep
    their configured ratio to the open ones, and medium_open ≤ high_open holds."""
    ratio = {
        name: getattr(config, f"deterioration_{name}_resolve") / getattr(config, f"deterioration_{name}_open")
        for name in LEVELS
    }
    opens = {name: getattr(config, f"deterioration_{name}_open") for name in LEVELS}
    opens[level] = value
    if level == "high":
        opens["medium"] = min(opens["medium"], value)
    else:
        opens["high"] = max(opens["high"], value)
    out: dict[str, float] = {}
    for name in LEVELS:
        out[f"deterioration_{name}_open"] = round(float(opens[name]), 4)
        out[f"deterioration_{name}_resolve"] = round(float(opens[name] * ratio[name]), 4)
    return out


def grid(config: EngineConfig, targets: list[Target]) -> list[tuple[str, float, dict[str, float]]]:
    """The what-if points to run: (setting, value, the thresholds it sets)."""
    points = []
    for level in dict.fromkeys(t.level for t in targets):
        configured = getattr(config, open_setting(level))
        for factor in GRID:
            value = round(configured * factor, 3)
            points.append((open_setting(level), value, thresholds_with(config, level, value)))
    return points


def threshold_for(curve: list[tuple[float, float]], target: float) -> tuple[float, str | None]:
    """The threshold at which the burden meets `target`, from (threshold, burden) points:
    linear between the two points that bracket it. Outside the points: the nearest end, and
    a note saying what could not be met."""
    points = sorted(curve)
    for (t0, b0), (t1, b1) in zip(points, points[1:]):
        if (b0 - target) * (b1 - target) <= 0 and b0 != b1:
            return float(t0 + (t1 - t0) * (b0 - target) / (b0 - b1)), None
    if not points:
        raise ValueError("no points")
    lowest, highest = points[0], points[-1]
    if target > max(b for _, b in points):
        return lowest[0], (
            f"even the lowest threshold tried ({lowest[0]:.3g}) stays under the target ({lowest[1]:.4g})"
        )
    return highest[0], (f"even the highest threshold tried ({highest[0]:.3g}) is over the target ({highest[1]:.4g})")


def burden_of(point: dict, kind: str) -> float | None:
    return point.get(FIGURE[kind])


def choose(
    config: EngineConfig, targets: list[Target], curves: dict[str, list[dict]]
) -> tuple[dict[str, float], dict[str, str]]:
    """Each targeted level's open threshold from its what-if curve (points with `value` and
    the burden figures); every target of a level met: the highest of their thresholds.
    Returns the open thresholds and notes on targets out of reach."""
    chosen: dict[str, float] = {}
    notes: dict[str, str] = {}
    for target in targets:
        curve = [(float(p["value"]), burden_of(p, target.kind)) for p in curves[target.level]]
        value, note = threshold_for([(t, b) for t, b in curve if b is not None], target.value)
        if note:
            notes[str(target)] = note
        chosen[target.level] = max(chosen.get(target.level, -math.inf), value)
    return chosen, notes


def configured(config: EngineConfig, opens: dict[str, float]) -> EngineConfig:
    """The configuration with the chosen open thresholds (high first, so that a medium
    threshold above the configured high one raises it, as in the grid)."""
    updates: dict[str, float] = {}
    for level in [name for name in LEVELS if name in opens]:
        base = config.model_copy(update=updates)
        updates.update(thresholds_with(base, level, opens[level]))
    if "high" in opens and "medium" in opens and opens["medium"] > opens["high"]:
        raise SystemExit(
            "crsmon validate: the targets ask for a medium threshold above the "
            f"high one ({opens['medium']:.3f} > {opens['high']:.3f}): the medium "
            "target's burden must be above the high target's"
        )
    return config.model_copy(update=updates)


def miss(target: Target, achieved: float | None) -> float:
    """How far the run's burden is from the target, as a share of the target."""
    return math.inf if achieved is None else abs(achieved - target.value) / target.value
