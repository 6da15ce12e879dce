"""The FHIR answer to a POST of Observations: an OperationOutcome and its HTTP status.

FHIR's RESTful API (http.html) answers a request it cannot process with 400 when the resource
cannot be parsed and 422 when it breaks a rule of the server, both with an OperationOutcome
saying why; a transient failure of the server is a 503. A success carries an OperationOutcome
too, so that the sender learns how many VitalSigns (and lab and neuro ClinicalEvents) were
published and what was skipped or refused.
"""

from __future__ import annotations

from fhir.resources.R4B.operationoutcome import OperationOutcome

from gateway.readings import Decoded
from monitor.wire import InvalidMessage

#: InvalidMessage kinds (and the shell's own) → HTTP status and OperationOutcome issue type.
_ANSWERS: dict[str, tuple[int, str]] = {
    "not_json": (400, "structure"),
    "not_object": (400, "structure"),
    "not_fhir": (400, "structure"),
    "too_large": (413, "too-costly"),
    "unsupported_media_type": (415, "not-supported"),
    "publish_failed": (503, "transient"),
    "no_patient": (422, "required"),
    "missing_field": (422, "required"),
    "timestamp": (422, "value"),
    "invalid_field": (422, "value"),
    "out_of_bounds": (422, "value"),
    "unit": (422, "code-invalid"),
    "unknown_test": (422, "code-invalid"),
    "censored": (422, "value"),
    "no_vital_signs": (422, "not-supported"),
}


def http_status_for(kind: str) -> int:
    """The HTTP status of a rejection of this kind."""
    return _ANSWERS.get(kind, (422, "invalid"))[0]


def rejection_outcome(rejection: InvalidMessage) -> bytes:
    """An OperationOutcome with one error issue that carries the reason."""
    issue_type = _ANSWERS.get(rejection.kind, (422, "invalid"))[1]
    return _outcome([("error", issue_type, rejection.reason)])


def success_outcome(decoded: Decoded) -> bytes:
    """An OperationOutcome that says how many VitalSigns were published, with a warning for
    each skipped observation the sender should know about."""
    used = decoded.values_used()
    summary = f"published {len(decoded.vitals)} VitalSigns holding {used} measurement{'s' if used != 1 else ''}"
    if decoded.events:
        summary += f" and {len(decoded.events)} clinical event{'s' if len(decoded.events) != 1 else ''}"
    return _outcome(
        [("information", "informational", summary)]
        + [("warning", "informational", note) for note in decoded.warnings()]
    )


def _outcome(issues: list[tuple[str, str, str]]) -> bytes:
    outcome = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text} for severity, code, text in issues],
        }
    )
    return outcome.model_dump_json(exclude_none=True).encode("utf-8")
