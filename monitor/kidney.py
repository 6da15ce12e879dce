"""The KDIGO 2012 acute kidney injury stage by creatinine, from a patient's lab history.

KDIGO defines AKI by creatinine as a rise ≥ 0.3 mg/dL within 48 hours, or a rise to ≥ 1.5 ×
baseline known or presumed to have occurred within the prior 7 days, and stages it by the ratio
to baseline (1.5–1.9 × stage 1, 2.0–2.9 × stage 2, ≥ 3.0 × stage 3) or a creatinine ≥ 4.0 mg/dL
(stage 3). Urine output and kidney replacement therapy, the guideline's other criteria, do not
reach crsmon, so this is the creatinine stage only and says so (docs/clinical-reference.md).

How the guideline's words are made operational here, each number from `EngineConfig`:
- The stage is that of the LATEST creatinine: a falling value after a peak gives a lower stage,
  and a late (out-of-order) result counts where it belongs in time, not as the latest.
- Its baseline is the lowest creatinine of the 7 days before it (a common operationalisation:
  KDIGO leaves "baseline" to the clinician). No earlier value in those 7 days: no stage at all,
  because a first value says nothing about change — not stage 0, which would claim "no AKI".
- The 48-hour rule compares the latest with the lowest value of the 48 hours before it.
- ≥ 4.0 mg/dL is stage 3 only when AKI is present by the rise or the ratio: KDIGO's note to
  its stage 3 replaces the older "acute rise ≥ 0.5 mg/dL" with "first achieve the creatinine-based
  change in the definition", so a patient with chronic kidney disease at a stable 3.9 → 4.1 has
  no AKI, and 3.9 → 4.3 within 48 hours is stage 3.

Pure functions of the history and the configuration: the engine calls `kdigo_stage` when a
creatinine result arrives and on restore (monitor/engine.py), never on a vital sign. The cost
is one slice of at most `lab_history_max` (64) values.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

from monitor.config import EngineConfig
from monitor.labs import LabHistory, LabResult

CREATININE = "creatinine"
#: Ratios and differences of decimal lab values are not exact in binary (1.2 − 0.9 is
#: 0.29999999999999993): a value that meets a threshold as the laboratory wrote it meets it
#: here. Lab values carry at most four decimals, so this tolerance decides nothing else.
_TOLERANCE = 1e-9


class KidneyStage(NamedTuple):
    """The KDIGO stage of the latest creatinine and the numbers it was decided by (mg/dL)."""

    stage: int  # 0 (no AKI by creatinine) to 3
    creatinine: float  # the latest result
    at: float  # its event time
    baseline: float  # the lowest of the `aki_baseline_days` before it
    ratio: float | None  # creatinine / baseline; None for a baseline of 0
    lowest_48h: float | None  # the lowest of the `aki_rise_window_h` before it, None if none
    by: str  # what found AKI: "ratio" (to baseline) or "rise" (within 48 h); "" at stage 0
    absolute: bool = False  # stage 3 by the ≥ 4.0 mg/dL criterion, AKI being present

    @property
    def rise(self) -> float | None:
        """The rise over the lowest of the prior 48 hours (None without a result in them)."""
        return None if self.lowest_48h is None else self.creatinine - self.lowest_48h


def kdigo_stage(labs: LabHistory | None, config: EngineConfig) -> KidneyStage | None:
    """The stage of the patient's latest creatinine; None without one, or without an earlier
    creatinine in the `aki_baseline_days` before it (nothing to compare with)."""
    if labs is None:
        return None
    latest = labs.latest(CREATININE)
    if latest is None:
        return None
    window = labs.between(CREATININE, latest.at - config.aki_baseline_days * 86400, latest.at)
    return stage_of(latest.value, latest.at, window[:-1], config)  # the last is `latest` itself


def stage_of(value: float, at: float, earlier: Sequence[LabResult], config: EngineConfig) -> KidneyStage | None:
    """The stage of a creatinine `value` at `at` against the `earlier` results of the baseline
    window (all before `at`); None when there are none."""
    if not earlier:
        return None
    baseline = min(result.value for result in earlier)
    since = at - config.aki_rise_window_h * 3600
    recent = [result.value for result in earlier if result.at >= since]
    lowest_48h = min(recent) if recent else None
    ratio = value / baseline if baseline > 0 else None

    by_ratio = 0
    if ratio is not None:
        for stage, threshold in (
            (3, config.aki_stage_3_ratio),
            (2, config.aki_stage_2_ratio),
            (1, config.aki_stage_1_ratio),
        ):
            if ratio >= threshold - _TOLERANCE:
                by_ratio = stage
                break
    by_rise = int(lowest_48h is not None and value - lowest_48h >= config.aki_rise_mg_dl - _TOLERANCE)
    stage = max(by_ratio, by_rise)
    by = "" if stage == 0 else ("ratio" if by_ratio >= by_rise else "rise")
    absolute = 0 < stage < 3 and value >= config.aki_stage_3_creatinine_mg_dl - _TOLERANCE
    return KidneyStage(3 if absolute else stage, value, at, baseline, ratio, lowest_48h, by, absolute)


def describe_stage(kidney: KidneyStage, config: EngineConfig) -> str:
    """The reason an alert gives, naming the numbers the stage was decided by:
    "creatinine 2.1 mg/dL, 2.0 × baseline 1.05 (lowest of 7 days): KDIGO stage 2"."""
    said = f"creatinine {_mg(kidney.creatinine)} mg/dL"
    days = f"lowest of {config.aki_baseline_days:g} days"
    lowest = kidney.lowest_48h
    if kidney.by == "rise" and lowest is not None:
        said += f", up {_mg(kidney.creatinine - lowest)} from {_mg(lowest)} within {config.aki_rise_window_h:g} h"
    elif kidney.ratio is not None:
        said += f", {_times(kidney.ratio)} × baseline {_mg(kidney.baseline)} ({days})"
    else:
        said += f", baseline {_mg(kidney.baseline)} ({days})"
    if kidney.absolute:
        said += f", ≥ {config.aki_stage_3_creatinine_mg_dl:.1f} mg/dL with AKI present"
    return f"{said}: KDIGO stage {kidney.stage}"


def _mg(value: float) -> str:
    """Two decimals at most, one at least, as laboratories report creatinine in mg/dL:
    1.0, 1.05, 1.9 (for 168 µmol/L, 1.9005 mg/dL)."""
    said = f"{value:.2f}"
    return said[:-1] if said.endswith("0") else said


def _times(ratio: float) -> str:
    """The ratio to one decimal, rounded DOWN: 1.99 × reads "1.9 ×", never a "2.0 ×" that its
    stage 1 would contradict."""
    return f"{math.floor((ratio + _TOLERANCE) * 10) / 10:.1f}"
