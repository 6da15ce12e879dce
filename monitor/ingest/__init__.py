"""Ingest codecs: HL7 v2 ORU^R01 and FHIR R4 Observations from hospital feeds to VitalSigns.

Pure functions with no network: the servers that speak MLLP and HTTP live in streams/ingest/.
Parsing is done by python-hl7 and fhir.resources; these modules decide what the parsed
messages mean for crsmon and answer in each protocol's terms (ACK, OperationOutcome).
"""

from monitor.ingest.fhir import decode_fhir
from monitor.ingest.fhir_outcome import http_status_for, rejection_outcome, success_outcome
from monitor.ingest.hl7_ack import ack_code_for, acknowledge
from monitor.ingest.hl7v2 import decode_oru
from monitor.ingest.readings import Decoded, Skip

__all__ = [
    "Decoded", "Skip", "ack_code_for", "acknowledge", "decode_fhir", "decode_oru",
    "http_status_for", "rejection_outcome", "success_outcome",
]
