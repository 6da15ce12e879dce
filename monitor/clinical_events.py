"""How each kind of clinical event is put in force on a patient: one function a kind, found by the
event's type.

Why a table and not the engine's own `if isinstance` chain: the chain grew with every kind
(labs, then neurological assessments) inside the engine, which issue 20 asked to get smaller as
the engine learns new observations. A new kind of event is now its wire model
(monitor/wire/events.py), its function here and its line in `APPLY`; the engine calls
`put_in_force` and knows none of them. A discharge is not here: it ends the patient, which is
the engine's to do.

The rule of every kind: the latest event, by event time, is in force (a late event older than the
one in force changes nothing), except where a kind says otherwise below.
"""

from __future__ import annotations

from typing import Any, Callable

from monitor.assessment import in_risk_period
from monitor.config import EngineConfig
from monitor.kidney import CREATININE, kdigo_stage
from monitor.labs import LabHistory
from monitor.neuro import NeuroAssessment, NeuroState
from monitor.patient_state import Patient
from monitor.wire import (
    LabEvent,
    MedicationEvent,
    NeuroEvent,
    OxygenEvent,
    Spo2TargetEvent,
    TherapyEvent,
    VasopressorEvent,
)

#: ASTCT 2019: these drugs, given once CRS has begun, lift the fever requirement for longer than
#: an antipyretic does (monitor/config.py, `anticytokine_lifts_fever_h`).
ANTI_CYTOKINE = frozenset({"tocilizumab", "siltuximab", "corticosteroid"})


def therapy(patient: Patient, event: TherapyEvent, at: float, config: EngineConfig) -> None:
    """A new risk period starts: what the previous one knew of fever and tocilizumab goes."""
    if not in_risk_period(patient, at, config):
        patient.fever_at = patient.fever_lift_until = patient.fever_lifted_by = None
        patient.tocilizumab_at = None
    if patient.therapy_at is None or at > patient.therapy_at:
        patient.therapy_at = at


def oxygen(patient: Patient, event: OxygenEvent, at: float, config: EngineConfig) -> None:
    if patient.device_at is None or at >= patient.device_at:
        patient.device, patient.flow_l_min, patient.device_at = (event.device, event.flow_l_min, at)


def vasopressor(patient: Patient, event: VasopressorEvent, at: float, config: EngineConfig) -> None:
    if patient.vasopressor_at is None or at >= patient.vasopressor_at:
        patient.vasopressors, patient.vasopressin, patient.vasopressor_at = (event.count, event.vasopressin, at)


def spo2_target(patient: Patient, event: Spo2TargetEvent, at: float, config: EngineConfig) -> None:
    if patient.scale_at is None or at >= patient.scale_at:
        patient.scale, patient.scale_at = event.scale, at


def lab(patient: Patient, event: LabEvent, at: float, config: EngineConfig) -> None:
    """Every result is kept in the patient's history (monitor/labs.py), a late one in its place."""
    if patient.labs is None:
        patient.labs = LabHistory()
    taken = patient.labs.add(event.test, event.value, at, config.lab_history_days * 86400, config.lab_history_max)
    if taken and event.test == CREATININE:
        # Derived here, where it can change, not in every step: the step that follows this
        # event levels the `aki` rule on it (monitor/rules/aki.py).
        patient.kidney = kdigo_stage(patient.labs, config)


def neuro(patient: Patient, event: NeuroEvent, at: float, config: EngineConfig) -> None:
    """Put a neurological assessment in force (a newer one replaces the older), and hear it as a
    consciousness reading for NEWS2 when it says something of consciousness and is newer than
    the latest ACVPU: it then stands, and expires, as an ACVPU charted with the vital signs would
    (docs/clinical-reference.md, "Neurotoxicity: ICANS")."""
    assessment = NeuroAssessment(at, event.ice, event.arousal, event.seizure, event.motor, event.cerebral_edema)
    if patient.neuro is None:
        patient.neuro = NeuroState.first(assessment, patient.therapy_at)
    elif not patient.neuro.add(assessment, patient.therapy_at):
        return
    acvpu = patient.neuro.acvpu(patient.therapy_at)
    if acvpu is not None and (patient.consciousness_at is None or at >= patient.consciousness_at):
        patient.consciousness, patient.consciousness_at = acvpu, at
        patient.expiry_due = min(patient.expiry_due, at + config.carry_forward_min * 60)


def medication(patient: Patient, event: MedicationEvent, at: float, config: EngineConfig) -> None:
    """A drug is an event, not a state: each one given counts (no "latest wins")."""
    if event.drug == "tocilizumab" and (patient.tocilizumab_at is None or at < patient.tocilizumab_at):
        patient.tocilizumab_at = at  # IL-6 rises after it: monitor/organs/inflammation.py
    # "Patients who have CRS and then receive" them: a premedication before any fever lifts nothing.
    if patient.fever_at is not None and patient.fever_at <= at and in_risk_period(patient, at, config):
        hours = config.anticytokine_lifts_fever_h if event.drug in ANTI_CYTOKINE else config.antipyretic_lifts_fever_h
        until = at + hours * 3600
        if patient.fever_lift_until is None or until > patient.fever_lift_until:
            patient.fever_lift_until, patient.fever_lifted_by = until, event.drug


#: Each kind of clinical event (but discharge) and how it is put in force.
APPLY: dict[type, Callable[[Patient, Any, float, EngineConfig], None]] = {
    TherapyEvent: therapy,
    OxygenEvent: oxygen,
    VasopressorEvent: vasopressor,
    Spo2TargetEvent: spo2_target,
    LabEvent: lab,
    NeuroEvent: neuro,
    MedicationEvent: medication,
}


def put_in_force(patient: Patient, event: Any, at: float, config: EngineConfig) -> None:
    """Put a clinical event in force on the patient, as its kind says."""
    APPLY[type(event)](patient, event, at, config)
