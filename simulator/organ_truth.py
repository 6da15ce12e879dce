"""The true ICANS grade of each charted assessment and the true KDIGO stage of each creatinine
result: the ground truth that an engine's `icans` and `kidney` parts are measured against.

Why separate from the planners (simulator/icans.py, simulator/labs.py): the ICANS grade is
read off what was charted, by the published table (ASTCT 2019, CLINICAL.md: the worst domain),
so a planner that charted the wrong thing would be caught. The AKI stage uses what only a
simulator knows — the patient's true baseline creatinine and the true (noise-free) curve — so
an engine that estimates the baseline from results (the lowest of 7 days) is measured against
the real thing, with KDIGO 2012's criteria (CLINICAL.md, labs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.settings import TruthThresholds

AROUSAL_GRADE = {"alert": 0, "spontaneous": 1, "voice": 2, "touch": 3, "vigorous": 4, "unarousable": 4}
SEIZURE_GRADE = {"none": 0, "resolved": 3, "prolonged": 4}
MOTOR_GRADE = {"none": 0, "deep_focal_weakness": 4}
EDEMA_GRADE = {"none": 0, "focal": 3, "diffuse": 4}


def ice_grade(ice: int | None, arousal: str | None) -> int:
    """ICE 7–9 grade 1, 3–6 grade 2, 0–2 grade 3; not assessable because unarousable, 4."""
    if ice is None:
        return 4 if arousal == "unarousable" else 0
    if ice >= 10:
        return 0
    return 1 if ice >= 7 else 2 if ice >= 3 else 3


def icans_grade(fields: dict[str, Any]) -> int:
    """ASTCT 2019 ICANS grade of one assessment: the most severe domain; a domain not charted
    counts 0."""
    ice = fields.get("ice")
    if ice is None and fields.get("ice_items") is not None:
        ice = sum(fields["ice_items"].values())
    return max(
        ice_grade(ice, fields.get("arousal")),
        AROUSAL_GRADE.get(fields.get("arousal") or "alert", 0),
        SEIZURE_GRADE.get(fields.get("seizure") or "none", 0),
        MOTOR_GRADE.get(fields.get("motor") or "none", 0),
        EDEMA_GRADE.get(fields.get("cerebral_edema") or "none", 0),
    )


def aki_stages(times: np.ndarray, true_creatinine, baseline: float, limits: TruthThresholds) -> list[int]:
    """KDIGO stage at each time from the true creatinine curve and the true baseline: stage 3
    at ≥ 3 × baseline or ≥ 4.0 mg/dL, 2 at ≥ 2 ×, 1 at ≥ 1.5 × or a rise ≥ 0.3 mg/dL over the
    lowest true value of the 48 h before."""
    stages = []
    for at in np.asarray(times, float):
        value = float(true_creatinine(np.array([at]))[0])
        window = np.linspace(at - limits.aki_rise_window_h * 3600.0, at, 97)
        rise = value - float(np.min(true_creatinine(window)))
        ratio = value / baseline
        stages.append(
            3
            if ratio >= limits.aki_stage3_ratio or value >= limits.aki_stage3_mg_dl
            else 2
            if ratio >= limits.aki_stage2_ratio
            else 1
            if ratio >= limits.aki_stage1_ratio or rise >= limits.aki_rise_mg_dl - 1e-9
            else 0
        )
    return stages
