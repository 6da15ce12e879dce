"""m-EASIX at therapy start: a pre-infusion risk context for severe CRS, never an alarm.

m-EASIX = LDH (U/L) × CRP (mg/dL) / platelets (10^9/L) (Pennisi, Blood Adv 2021: AUC 0.80 for
severe CRS at lymphodepletion, 0.73 on day −1, 0.75 on day +1; external validation weaker, AUC
0.61–0.62). CRP's canonical unit here is mg/L (monitor/catalogue.py), so it is divided by 10:
the published cut-offs are on the mg/dL scale.

Which results: for each test the latest at or before therapy, no older than `easix_lookback_h`
(72 h by default: a panel from the last days of lymphodepletion). A score from one day's LDH
and another week's platelets would describe no moment of the patient, so an older or missing
result leaves no score. The score is shown in the status (`risk`); no rule reads it.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.config import EngineConfig
from monitor.labs import LabHistory

_CRP_MG_L_PER_MG_DL = 10.0
#: The tests the score is read from: a status's risk changes only with theirs (monitor/reports.py).
EASIX_TESTS = ("ldh", "crp", "platelets")


class Easix(NamedTuple):
    """The score, and the time of the newest result it was computed from."""

    m_easix: float
    at: float


def m_easix(ldh_u_l: float, crp_mg_l: float, platelets_10e9_l: float) -> float | None:
    """The formula on canonical units; None without platelets to divide by."""
    if platelets_10e9_l <= 0:
        return None
    return ldh_u_l * (crp_mg_l / _CRP_MG_L_PER_MG_DL) / platelets_10e9_l


def easix_at_therapy(labs: LabHistory, therapy_at: float | None, config: EngineConfig) -> Easix | None:
    """m-EASIX from the results nearest before therapy, or None when one is missing or too old."""
    if therapy_at is None:
        return None
    earliest = therapy_at - config.easix_lookback_h * 3600
    results = []
    for test in EASIX_TESTS:
        result = labs.latest(test, therapy_at)
        if result is None or result.at < earliest:
            return None
        results.append(result)
    ldh, crp, platelets = results
    score = m_easix(ldh.value, crp.value, platelets.value)
    if score is None:
        return None
    return Easix(round(score, 2), max(result.at for result in results))
