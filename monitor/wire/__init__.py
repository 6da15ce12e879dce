"""The wire contract as code: every shape that crosses a process boundary."""

from monitor.wire.codec import (
    InputEvent,
    decode_acknowledgement,
    decode_as,
    decode_input,
    describe_validation_error,
    encode,
    validate_input,
)
from monitor.wire.dead_letters import dead_letter
from monitor.wire.errors import InvalidMessage
from monitor.wire.events import (
    CLINICAL_EVENT_TYPES,
    ClinicalEvent,
    DischargeEvent,
    IceItems,
    LabEvent,
    MedicationEvent,
    NeuroEvent,
    OxygenEvent,
    Spo2TargetEvent,
    TherapyEvent,
    VasopressorEvent,
)
from monitor.wire.outputs import (
    SEVERITY_RANK,
    Acknowledgement,
    Alert,
    CrsAssessment,
    DeadLetter,
    IcansAssessment,
    KidneyAssessment,
    LabValue,
    RiskContext,
    News2,
    PatientStatus,
)
from monitor.wire.timestamps import Timestamp, format_timestamp, parse_timestamp
from monitor.wire.vitals import HARD_BOUNDS, MEASUREMENTS, VitalSigns

__all__ = [
    "Acknowledgement", "Alert", "CLINICAL_EVENT_TYPES", "ClinicalEvent", "CrsAssessment",
    "DeadLetter", "DischargeEvent", "IcansAssessment", "KidneyAssessment", "LabValue", "IceItems", "LabEvent", "NeuroEvent", "HARD_BOUNDS", "InputEvent", "InvalidMessage",
    "MEASUREMENTS", "MedicationEvent", "News2", "OxygenEvent", "PatientStatus", "RiskContext", "SEVERITY_RANK",
    "Spo2TargetEvent", "TherapyEvent", "Timestamp", "VasopressorEvent", "VitalSigns",
    "dead_letter", "decode_acknowledgement", "decode_as", "decode_input", "describe_validation_error", "encode",
    "format_timestamp", "parse_timestamp", "validate_input",
]
