"""The `neuro_overdue` rule: a patient in the ICANS watch has not been assessed for longer than
`neuro_overdue_after_h` (monitor/neuro_watch.py says who and why). A technical rule, as signal
loss is for monitors: the watch is impaired, not the patient, so it is `low` and validate's
figures leave it out. It fires by the engine's timer when nothing arrives, and resolves with the
next assessment.
"""

from __future__ import annotations

from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.neuro_watch import watch_moments
from monitor.patient_state import Patient
from monitor.rules.registry import Rule


def overdue_level(patient: Patient, config: EngineConfig) -> Level | None:
    at, neuro = patient.clock, patient.neuro
    if at is None or neuro is None:
        return None
    due, end = watch_moments(patient, config)
    if due is None or end is None or not due <= at < end:
        return None
    hours = int((at - neuro.assessed_at) // 3600)
    return Level(
        config.neuro_overdue_severity,
        None,
        lambda: (f"no neurological assessment for {hours} h (due every {config.neuro_overdue_after_h:g} h)",),
        at_once=True,
    )


RULE = Rule(
    name="neuro_overdue",
    precedence=2,
    clinical=False,
    # The next assessment ends it at once: it is the thing that was missing.
    timing=lambda config: Timing(0.0, 0.0, 0.0),
    level=lambda f: overdue_level(f.patient, f.config),
    enabled=lambda config: config.icans_rule,
)
