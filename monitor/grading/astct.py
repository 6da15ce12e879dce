"""Provisional ASTCT consensus grade of CRS (Lee et al., Biol Blood Marrow Transplant 2019).

| grade | fever     | with hypotension                     | and/or hypoxia                              |
|-------|-----------|--------------------------------------|---------------------------------------------|
| 1     | ≥ 38.0 °C | none                                 | none                                        |
| 2     | ≥ 38.0 °C | not requiring vasopressors           | low-flow cannula (≤ 6 L/min) or blow-by     |
| 3     | ≥ 38.0 °C | one vasopressor, ± vasopressin       | high-flow cannula, face mask, NRB, Venturi  |
| 4     | ≥ 38.0 °C | several vasopressors (not vasopressin)| CPAP, BiPAP, intubation and ventilation    |

The grade is set by the more severe of hypotension and hypoxia. Once antipyretics or
anti-cytokine therapy have been given to a patient with CRS, fever is no longer required.
From vital signs alone the grade is provisional: the grade-3 and grade-4 columns need the
`oxygen` and `vasopressor` events, which is why oxygen or pressors without a device named
count at the lowest level that fits.
"""

from __future__ import annotations

from typing import NamedTuple

from monitor.config import EngineConfig

_DEFAULTS = EngineConfig()

POSITIVE_PRESSURE = frozenset({"cpap", "bipap", "ventilator"})
HIGH_FLOW_OR_MASK = frozenset({"high_flow_nasal_cannula", "face_mask", "non_rebreather", "venturi"})
LOW_FLOW = frozenset({"nasal_cannula", "blow_by"})

DEVICE_WORDS = {
    "room_air": "room air",
    "blow_by": "blow-by oxygen",
    "nasal_cannula": "nasal cannula",
    "high_flow_nasal_cannula": "high-flow nasal cannula",
    "face_mask": "face mask",
    "non_rebreather": "non-rebreather mask",
    "venturi": "Venturi mask",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "ventilator": "ventilator",
}


def hypotension_level(
    *,
    systolic_bp: float | None,
    mean_arterial_pressure: float | None,
    vasopressors: int,
    vasopressin: bool,
    systolic_below: float = 90.0,
    map_below: float = 65.0,
) -> int:
    """The grade hypotension alone would give: 0, 2, 3 or 4.

    Vasopressin alone is one vasopressor (grade 3): the consensus only excludes it from the
    count that makes grade 4.
    """
    return hypotension(systolic_bp, mean_arterial_pressure, vasopressors, vasopressin, systolic_below, map_below)


def hypotension(
    systolic_bp: float | None,
    mean_arterial_pressure: float | None,
    vasopressors: int,
    vasopressin: bool,
    systolic_below: float,
    map_below: float,
) -> int:
    """`hypotension_level` with positional arguments, for the engine's once-a-vital-sign call."""
    if vasopressors >= 2:
        return 4
    if vasopressors == 1 or vasopressin:
        return 3
    if (systolic_bp is not None and systolic_bp < systolic_below) or (
        mean_arterial_pressure is not None and mean_arterial_pressure < map_below
    ):
        return 2
    return 0


def hypoxia_level(
    *,
    device: str | None,
    flow_l_min: float | None,
    on_oxygen: bool,
    spo2: float | None,
    spo2_at_most: float = 93.0,
    low_flow_max: float = 6.0,
) -> int:
    """The grade hypoxia alone would give: 0, 2, 3 or 4.

    `device` is the oxygen event in force (None without one); `on_oxygen` is the monitor's own
    flag, which names no device and so counts as low-flow oxygen.
    """
    return hypoxia(device, flow_l_min, on_oxygen, spo2, spo2_at_most, low_flow_max)


def hypoxia(
    device: str | None,
    flow_l_min: float | None,
    on_oxygen: bool,
    spo2: float | None,
    spo2_at_most: float,
    low_flow_max: float,
) -> int:
    """`hypoxia_level` with positional arguments, for the engine's once-a-vital-sign call."""
    if device is None and not on_oxygen:
        return 2 if spo2 is not None and spo2 <= spo2_at_most else 0
    if device in POSITIVE_PRESSURE:
        return 4
    if device in HIGH_FLOW_OR_MASK:
        return 3
    if device == "nasal_cannula" and flow_l_min is not None and flow_l_min > low_flow_max:
        return 3
    if device in LOW_FLOW or on_oxygen:
        return 2
    if spo2 is not None and spo2 <= spo2_at_most:
        return 2
    return 0


def grade(fever: bool, fever_not_required: bool, hypotension: int, hypoxia: int) -> int:
    """The consensus grade from fever and the two levels above; 0 means no CRS."""
    if not (fever or fever_not_required):
        return 0
    worst = max(hypotension, hypoxia)
    return max(worst, 1) if fever else worst


class CrsGrade(NamedTuple):
    grade: int
    fever: bool
    hypotension: int
    hypoxia: int


def grade_crs(
    *,
    temperature: float | None,
    fever_not_required: bool = False,
    systolic_bp: float | None = None,
    mean_arterial_pressure: float | None = None,
    vasopressors: int = 0,
    vasopressin: bool = False,
    device: str | None = None,
    flow_l_min: float | None = None,
    on_oxygen: bool = False,
    spo2: float | None = None,
    config: EngineConfig = _DEFAULTS,
) -> CrsGrade:
    """The grade of one moment, from the values and clinical events in force."""
    fever = temperature is not None and temperature >= config.fever_celsius
    hypotension = hypotension_level(
        systolic_bp=systolic_bp,
        mean_arterial_pressure=mean_arterial_pressure,
        vasopressors=vasopressors,
        vasopressin=vasopressin,
        systolic_below=config.hypotension_systolic_mmhg,
        map_below=config.hypotension_map_mmhg,
    )
    hypoxia = hypoxia_level(
        device=device,
        flow_l_min=flow_l_min,
        on_oxygen=on_oxygen,
        spo2=spo2,
        spo2_at_most=config.hypoxia_spo2_percent,
        low_flow_max=config.low_flow_max_l_min,
    )
    return CrsGrade(
        grade(fever=fever, fever_not_required=fever_not_required, hypotension=hypotension, hypoxia=hypoxia),
        fever,
        hypotension,
        hypoxia,
    )
