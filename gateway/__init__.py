"""The HL7/FHIR gateway (`crsmon ingest`): hospital feeds in, VitalSigns and ClinicalEvents
(lab results, neurological assessments) on Kafka out.

Two layers in one room. The codecs (hl7v2, hl7_fields, hl7_clinical, hl7_ack, fhir,
fhir_clinical, fhir_outcome, readings, vocabulary, lab_results, neuro_assessments) are pure
functions with no network: python-hl7 and fhir.resources parse, and these modules decide what
the parsed messages mean for crsmon and answer in each protocol's terms (ACK,
OperationOutcome). The shell (mllp, fhir_http, intake, service, settings, metrics) speaks MLLP
and HTTP and publishes VitalSigns to `vitals`, ClinicalEvents to `clinical-events`, and what
cannot be used to `dead-letters`.
It uses the clinical core's wire contract and kafka_client/, never the worker or Faust.
"""

from gateway.fhir import decode_fhir
from gateway.fhir_outcome import http_status_for, rejection_outcome, success_outcome
from gateway.hl7_ack import ack_code_for, acknowledge
from gateway.hl7v2 import decode_oru
from gateway.readings import Decoded, Skip

__all__ = [
    "Decoded",
    "Skip",
    "ack_code_for",
    "acknowledge",
    "decode_fhir",
    "decode_oru",
    "http_status_for",
    "rejection_outcome",
    "success_outcome",
]
