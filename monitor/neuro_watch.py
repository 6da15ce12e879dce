"""The ICANS watch: how long after therapy neurotoxicity is watched, and when an assessment is due.

Why its own clock and not CRS's risk period: neurotoxicity starts later and lasts longer than
CRS (median onset day 4, range 1–43 after axi-cel; new ICANS after day 14 in 0.7 %), so the watch
runs `icans_watch_days` (28) after the latest therapy where CRS's runs 14.

An assessment is overdue when a patient in the watch who has been assessed at least once has not
been assessed for `neuro_overdue_after_h`. Why "assessed at least once": the first assessment is
what shows that this ward charts ICE into crsmon. Without it, every patient of a ward (or a
hospital) that charts on paper, or an outpatient on a bispecific, would raise a technical alert
12 hours after therapy, for a feed that does not exist — alarms that nobody can act on, which is
how alarm fatigue starts. Once a patient has been assessed, silence is a gap in the watch.

Everything here is a function of the patient's state and a moment, so the engine's timer can
honour it (`neuro_deadline`) when nothing arrives.
"""

from __future__ import annotations

import math

from monitor.config import EngineConfig
from monitor.patient_state import Patient


def watch_end(patient: Patient, config: EngineConfig) -> float | None:
    """When the watch of the latest therapy ends; None without a therapy."""
    started = patient.therapy_at
    return None if started is None else started + config.icans_watch_days * 86400


def in_watch(patient: Patient, at: float, config: EngineConfig) -> bool:
    """Within `icans_watch_days` of the latest therapy."""
    started = patient.therapy_at
    return started is not None and started <= at < started + config.icans_watch_days * 86400


def overdue_from(patient: Patient, config: EngineConfig) -> float | None:
    """The moment the next assessment is overdue (the last one plus the interval, and not before
    the therapy: an assessment before it starts the watch overdue), or None when it cannot be —
    never assessed, no therapy, or only after the watch has ended."""
    return watch_moments(patient, config)[0]


def is_overdue(patient: Patient, at: float, config: EngineConfig) -> bool:
    due, end = watch_moments(patient, config)
    return due is not None and end is not None and due <= at < end


def neuro_deadline(patient: Patient, clock: float | None, config: EngineConfig) -> float:
    """The next moment after `clock` at which time alone changes what the ICANS rules find: an
    assessment falling overdue, or the watch ending; inf if none."""
    if patient.neuro is None:
        return math.inf
    due = math.inf
    for moment in watch_moments(patient, config):
        if moment is not None and (clock is None or moment > clock) and moment < due:
            due = moment
    return due


def watch_moments(patient: Patient, config: EngineConfig) -> tuple[float | None, float | None]:
    """(the moment the next assessment is overdue, the watch's end), as `overdue_from` and
    `watch_end` say; computed once per assessment, therapy and configuration."""
    neuro, started = patient.neuro, patient.therapy_at
    if neuro is None or started is None:
        return None, None
    key = (started, neuro.assessed_at, config.neuro_overdue_after_h, config.icans_watch_days)
    if neuro.moments_for != key:
        end = started + config.icans_watch_days * 86400
        due = max(neuro.assessed_at + config.neuro_overdue_after_h * 3600, started)
        neuro.moments, neuro.moments_for = (due if due < end else None, end), key
    return neuro.moments
