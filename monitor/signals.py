"""Signal loss: a continuous source that goes silent, or sends only zeros, is a technical
condition (IEC 60601-1-8, low priority) worth telling the ward about.

A measurement counts as a continuous source once `continuous_min_samples` non-zero samples
arrived in a row, each within `continuous_interval_max_s` of the last; spot checks (NIBP,
hourly temperature) never do. It is lost after `signal_loss_after_s` without a non-zero
sample, and back only when it streams again (the same run of samples): a single spot reading
after a monitor was taken off does not end the signal loss, or it would re-open minutes later.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from monitor.config import EngineConfig
from monitor.parameters import COUNT, LABELS
from monitor.patient_state import Patient
from monitor.wire import format_timestamp


def note_signal(patient: Patient, position: int, at: float, config: EngineConfig) -> None:
    """Record the newest non-zero sample of one measurement (once per sample: kept lean)."""
    signal_at, streak = patient.signal_at, patient.streak
    last = signal_at[position]
    if last is not None and at - last <= config.continuous_interval_max_s:
        count = streak[position] = streak[position] + 1
    else:
        count = streak[position] = 1
    signal_at[position] = at
    if count >= config.continuous_min_samples:
        patient.continuous[position] = True
        patient.lost[position] = False
        due = at + config.signal_loss_after_s
        if due < patient.loss_due:
            patient.loss_due = due


def check_losses(patient: Patient, at: float, config: EngineConfig) -> bool:
    """Mark continuous sources silent for too long as lost; True if one was. Leaves
    `loss_due` exact."""
    silence = config.signal_loss_after_s
    changed = False
    due = math.inf
    for position in range(COUNT):
        if patient.continuous[position] and not patient.lost[position]:
            deadline = patient.signal_at[position] + silence
            if at >= deadline:
                patient.lost[position] = True
                patient.streak[position] = 0
                changed = True
            else:
                due = min(due, deadline)
    patient.loss_due = due
    return changed


def lost_signals(patient: Patient, config: EngineConfig) -> tuple[str, ...]:
    """One reason per lost source, e.g. `SpO2: no signal (silent or zeros) since …`."""
    reasons = []
    for position in range(COUNT):
        if patient.lost[position]:
            since = datetime.fromtimestamp(patient.signal_at[position], timezone.utc)
            reasons.append(
                f"{LABELS[position]}: no signal (silent or zeros) since "
                f"{format_timestamp(since)}, more than "
                f"{config.signal_loss_after_s / 60:g} min"
            )
    return tuple(reasons)
