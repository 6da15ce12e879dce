"""Artifacts and gaps: which samples the engine believes, and for how long.

- A 0 from a monitor is a probe off or a lost signal, never a measurement: it is counted as a
  gap and otherwise ignored (the contract says so).
- A sample that jumps further from the believed value than a physiological change between two
  readings (`implausible_jump`: heart rate 80 → 190, systolic 125 → 68, SpO2 97 → 74) is held,
  not believed, until the next sample of the same measurement decides: closer to the held
  value confirms it, closer to the old value refutes it and it is discarded as an artifact —
  the nurse's "repeat the reading". A held sample nobody confirms or refutes is believed after
  `artifact_hold_max_min`. While held, a sample is kept out of the window's trends.
- A sample within a jump of the median of the last `artifact_recent_min` minutes is no jump:
  it is the way back from a burst of motion that moved several samples together.
- A fever in the CRS risk period is never held: ASTCT counts a measured fever at once.
- A believed value is carried forward for `carry_forward_min`, then it is missing.
"""

from __future__ import annotations

import math

from monitor.config import EngineConfig
from monitor.parameters import COUNT
from monitor.patient_state import Patient
from monitor.robust import nanmedian


def take_sample(
    patient: Patient,
    position: int,
    value: float,
    at: float,
    config: EngineConfig,
    jumps: tuple[float, ...],
    never_hold: bool,
) -> None:
    """Offer the newest sample of one measurement (non-zero) to the patient's believed values."""
    held = patient.held[position]
    values = patient.value
    believed = values[position]
    if held is not None:
        patient.held[position] = None
        if believed is None or abs(value - held) < abs(value - believed):
            patient.window.reinstate(position, patient.held_at[position], held)
            believed = None  # confirmed: believe the newer one, below
        else:
            patient.artifacts += 1  # refuted: it stays out of the window
    if (
        believed is not None
        and not never_hold
        and abs(value - believed) > jumps[position]
        and (not _back_to_recent(patient, position, value, at, jumps[position], config))
    ):
        patient.held[position] = value
        patient.held_at[position] = at
        patient.window.discard(position, at, value)  # trends see only what is believed
        patient.expiry_due = min(patient.expiry_due, at + config.artifact_hold_max_min * 60)
        return
    values[position] = value
    patient.value_at[position] = at
    expires = at + config.carry_forward_min * 60
    if expires < patient.expiry_due:
        patient.expiry_due = expires


def _back_to_recent(
    patient: Patient, position: int, value: float, at: float, jump: float, config: EngineConfig
) -> bool:
    """Whether `value` is within a jump of the median of the minutes before this one: the way
    back from a burst of motion (several samples off together, each believed) is no new jump."""
    minutes = max(1, int(config.artifact_recent_min))
    end_minute = int(at // 60) - 1
    if not patient.window.holds_data_in(end_minute - minutes + 1, end_minute):
        return False  # nothing recent to come back to (charted hourly, say): no numpy for that
    recent = patient.window.minutes_until(end_minute, minutes, (position,))[:, 0]
    level = nanmedian(recent)
    return bool(abs(value - level) <= jump)  # NaN (no recent data) compares False


def fever_never_held(temperature: float, in_risk_period: bool, config: EngineConfig) -> bool:
    return in_risk_period and temperature >= config.fever_celsius


def expire(patient: Patient, at: float, config: EngineConfig) -> bool:
    """Believe held samples whose time is up and drop values carried too long; True if any
    value changed. Leaves `expiry_due` exact."""
    carry = config.carry_forward_min * 60
    hold = config.artifact_hold_max_min * 60
    changed = False
    due = math.inf
    for position in range(COUNT):
        held_at = patient.held_at[position]
        if patient.held[position] is not None:
            if at >= held_at + hold or (
                patient.value[position] is not None and at >= patient.value_at[position] + carry
            ):
                patient.window.reinstate(position, held_at, patient.held[position])
                patient.value[position] = patient.held[position]
                patient.value_at[position] = held_at
                patient.held[position] = None
                changed = True
            else:
                due = min(due, held_at + hold)
        value_at = patient.value_at[position]
        if patient.value[position] is not None:
            if at >= value_at + carry:
                patient.value[position] = None
                changed = True
            else:
                due = min(due, value_at + carry)
    for name in ("consciousness", "monitor_oxygen"):  # observations that are not numbers
        if getattr(patient, name) is not None:
            seen_at = getattr(patient, f"{name}_at")
            if at >= seen_at + carry:
                setattr(patient, name, None)
                changed = True
            else:
                due = min(due, seen_at + carry)
    patient.expiry_due = due
    return changed
