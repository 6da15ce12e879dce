"""The one call the engine makes: at each whole hour of a patient's event time, score the
last 24 hours and step the alert machines.

    model = load(config.deterioration_weights)                     # once, at start
    dynamics = alerting.from_config(config)                        # once
    state = AlertState.new()                                       # per patient, persisted
    for hour in hours_due(state, now):                             # on every event or timer
        minutes = window.minutes_until(hour * 60 - 1, HOURS * 60)  # the day before the hour
        result = evaluate(model, dynamics, state, hour, minutes, on_oxygen, news2)

`result.severity` is the level in force (None, "medium", "high"); `result.assessment` holds the
score and the reasons. The offline harness steps the same machines hour by hour, so the
figures in docs/deterioration-model.md are those of this loop.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from monitor.deterioration import features as feat
from monitor.deterioration.alerting import AlertState, Dynamics
from monitor.deterioration.model import Assessment, Model, assess

#: After a silence longer than this, missed hours are not replayed one by one: the day
#: before the newest hour is all the features can see anyway.
MAX_CATCH_UP_H = feat.HOURS


class Evaluation(NamedTuple):
    hour: int
    severity: str | None
    assessment: Assessment


def hours_due(state: AlertState, now_s: float) -> range:
    """The whole hours (epoch hours, each the end of an evaluated hour) that have passed
    since the last evaluation up to `now_s`; the first call evaluates only the latest."""
    latest = int(now_s // 3600)
    first = latest if state.hour < 0 else max(state.hour + 1, latest - MAX_CATCH_UP_H + 1)
    return range(first, latest + 1)


def evaluate(model: Model, dynamics: Dynamics, state: AlertState, hour: int,
             minutes: np.ndarray, on_oxygen: bool = False, news2: int | None = None,
             top: int = 3, least: float = 0.05) -> Evaluation:
    """Score the day of per-minute medians `minutes` ((1440, COUNT), oldest first, ending
    with the last minute before `hour`·3600 s) and take one step of the alert machines.
    `news2` is the engine's NEWS2 score at the hour (with consciousness), for the floor."""
    a = assess(model, feat.hourly_medians(minutes), on_oxygen, top, least)
    if news2 is not None and dynamics.news2_high_floor and news2 >= dynamics.news2_high_floor:
        a = a._replace(reasons=(f"NEWS2 {news2} (≥ {dynamics.news2_high_floor}: emergency "
                                f"response, RCP 2017)",) + a.reasons)
    severity = state.step(a.score, dynamics, news2)
    state.hour = hour
    return Evaluation(hour, severity, a)
