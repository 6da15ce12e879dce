"""Deterioration early warning (issue 12): a per-patient baseline and robust trends of heart
rate, respiratory rate, temperature, systolic and mean pressure, SpO2 and shock index,
combined with NEWS2 into a score whose alert names its largest contributions.

- `features`: the features from a day of hourly medians (`hourly_medians` makes those from
  the window's per-minute medians); `compute` for many moments, `compute_one` for one;
- `model`: the weights file, the score and its reasons (`assess`; the engine splits it into
  `score_moment` every hour and `reasons` only while a level is open);
- `alerting`: hourly evaluation, persistence and resolve hysteresis.

Fitted by scripts/fit_deterioration.py on the development set; figures in
docs/deterioration-model.md.
"""

from monitor.deterioration.alerting import AlertState, Dynamics, simulate
from monitor.deterioration.features import FEATURES, compute, compute_one, hourly_medians
from monitor.deterioration.model import Assessment, Model, assess, load, reasons, score_moment

__all__ = [
    "AlertState",
    "Assessment",
    "Dynamics",
    "FEATURES",
    "Model",
    "assess",
    "compute",
    "compute_one",
    "hourly_medians",
    "load",
    "reasons",
    "score_moment",
    "simulate",
]
