"""CRP, ferritin and IL-6 since therapy: how far they have come, and how fast they are rising.

Why a trend and not a threshold: these markers have no CRS cut-off (peak CRP and ferritin go
with severity but did not predict severe CRS early, Teachey, Cancer Discov 2016), and a
patient's level before therapy varies with the disease; what a ward reads is "CRP ×8 since
infusion, doubling every 14 h". So:

- the start is the last result at or before therapy; without one, the first within
  `inflammation_start_grace_h` after it (a sample drawn before the infusion and charted late
  still precedes CRS, whose median onset is day 2–3);
- the fold change is the latest result over the start;
- the doubling time is that of the current rise — the run of results, each above the one
  before, that ends at the latest (at least two) — from a least-squares fit of log value on
  time: an earlier fall does not dilute the rise now, and three or more results steady it;
- IL-6 rises after tocilizumab, which blocks its receptor and so its clearance (Nishimoto,
  Blood 2008): an IL-6 result drawn after a tocilizumab dose carries the note "expected after
  tocilizumab", so that a climbing IL-6 is not read as CRS worsening.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from monitor.config import EngineConfig
from monitor.labs import LabHistory, LabResult

#: The inflammation markers crsmon follows, in the catalogue's display order.
INFLAMMATION_TESTS: tuple[str, ...] = ("crp", "ferritin", "il6")
AFTER_TOCILIZUMAB = "expected after tocilizumab"


class Trend(NamedTuple):
    """One marker's course: None where there is nothing to say."""

    fold_change: float | None
    doubling_h: float | None
    note: str | None


def trend_start(labs: LabHistory, test: str, therapy_at: float, config: EngineConfig) -> LabResult | None:
    """The result the trend is measured from: the last at or before therapy, else the first
    within the grace after it."""
    before = labs.latest(test, therapy_at)
    if before is not None:
        return before
    after = labs.between(test, therapy_at, therapy_at + config.inflammation_start_grace_h * 3600)
    return after[0] if after else None


def doubling_time_h(results: list[LabResult]) -> float | None:
    """The doubling time (hours) of the rise that ends at the last result, or None when the last
    result is not above the one before. Results at or below 0 cannot be on a log scale and end
    the run."""
    run = [results[-1]] if results else []
    for result in reversed(results[:-1]):
        if not 0 < result.value < run[-1].value:
            break
        run.append(result)
    if len(run) < 2:
        return None
    times = [result.at / 3600 for result in run]
    logs = [math.log(result.value) for result in run]
    mean_t, mean_log = sum(times) / len(times), sum(logs) / len(logs)
    spread = sum((t - mean_t) ** 2 for t in times)
    slope = sum((t - mean_t) * (v - mean_log) for t, v in zip(times, logs)) / spread
    return math.log(2) / slope if slope > 0 else None


def inflammation_trend(
    labs: LabHistory, test: str, at: float, therapy_at: float | None, tocilizumab_at: float | None, config: EngineConfig
) -> Trend | None:
    """The trend of `test` as of `at`, or None when the test has no result by then. Without a
    therapy there is no start: the doubling time is then that of the rise within the history."""
    latest = labs.latest(test, at)
    if latest is None:
        return None
    fold = None
    since = -math.inf
    if therapy_at is not None:
        start = trend_start(labs, test, therapy_at, config)
        if start is not None and start.at < latest.at and start.value > 0:
            fold = round(latest.value / start.value, 2)
        if start is not None:
            since = start.at
    doubling = doubling_time_h(labs.between(test, since, latest.at))
    note = None
    if test == "il6" and tocilizumab_at is not None and latest.at >= tocilizumab_at:
        note = AFTER_TOCILIZUMAB
    return Trend(fold, None if doubling is None else round(doubling, 1), note)
