"""Clinical events in words, the same on the page as on the dashboard's marks."""

from __future__ import annotations

from typing import Any

THERAPY = {
    "car-t": "CAR-T",
    "bispecific": "Bispecific",
    "other-immunotherapy": "Immunotherapy",
    "infection": "Infection",
}
DEVICE = {
    "room_air": "room air",
    "blow_by": "blow-by",
    "nasal_cannula": "nasal cannula",
    "high_flow_nasal_cannula": "high-flow cannula",
    "face_mask": "face mask",
    "non_rebreather": "non-rebreather",
    "venturi": "Venturi mask",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "ventilator": "ventilator",
}
DRUG = {
    "tocilizumab": "Tocilizumab",
    "siltuximab": "Siltuximab",
    "corticosteroid": "Steroid",
    "antipyretic": "Antipyretic",
}


def describe_event(event: Any) -> str:
    """A clinical event in words, as the dashboard's marks say it."""
    if event.type == "therapy":
        return f"{THERAPY.get(event.therapy, event.therapy)} (day 0)"
    if event.type == "oxygen":
        if event.device == "room_air":
            return "O₂ off (room air)"
        flow = f" {event.flow_l_min:g} L/min" if event.flow_l_min is not None else ""
        return f"O₂ {DEVICE.get(event.device, event.device)}{flow}"
    if event.type == "vasopressor":
        if not event.count and not event.vasopressin:
            return "Vasopressors off"
        return f"Vasopressor ×{event.count}" + (" + vasopressin" if event.vasopressin else "")
    if event.type == "medication":
        return DRUG.get(event.drug, event.drug)
    if event.type == "spo2_target":
        return f"SpO₂ scale {event.scale}"
    if event.type == "discharge":
        return "Discharge"
    return str(event.type)


def describe_risk(risk: Any) -> str:
    """The status's `risk` in words: the m-EASIX at therapy start and what it was computed from.

    A number and what it is, never a band: the clinical reference gives no cut-off (the
    published ones are study-specific), and no rule reads the score."""
    digits = 2 if risk.m_easix < 1 else 1
    return (
        f"m-EASIX {risk.m_easix:.{digits}f} before therapy (LDH, CRP, platelets, latest {risk.at:%d %b %H:%M} UTC)"
        " · a risk context for severe CRS, not an alarm"
    )
