"""The `signal_loss` rule: a continuous source silent or at zero (monitor/signals.py). A
technical rule: the monitoring is impaired, not the patient, so validate's figures leave it out.
"""

from __future__ import annotations

from monitor.config import EngineConfig
from monitor.episodes import Level, Timing
from monitor.patient_state import Patient
from monitor.rules.registry import Rule
from monitor.signals import lost_signals


def signal_loss_level(patient: Patient, config: EngineConfig) -> Level | None:
    if True not in patient.lost:
        return None
    return Level(config.signal_loss_severity, None, lambda: lost_signals(patient, config), at_once=True)


RULE = Rule(
    name="signal_loss",
    precedence=2,
    clinical=False,
    timing=lambda config: Timing(0.0, 0.0, config.signal_loss_resolve_after_s),
    level=lambda f: signal_loss_level(f.patient, f.config),
)
