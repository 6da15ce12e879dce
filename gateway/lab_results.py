"""Lab results, from either format, as the contract's `type: lab` ClinicalEvents.

Both codecs find a result's LOINC code, number and unit spellings; this module decides whether
crsmon takes it, in the same words for HL7 v2 and FHIR. The catalogue (monitor/catalogue.py)
says which LOINC codes name which test; LabEvent's own validator converts the unit and checks
the bounds, so the gateway cannot disagree with the worker about what a valid lab result is.

What cannot be used is refused (a `Refused` naming what is accepted), not skipped: a lab result
that the laboratory meant for the patient and crsmon could not read is an interface to fix, and
its refusal goes to dead-letters. Censored results ("<5", ">1000") are refused too: they are not
numbers, and taking the bound would put a value that was never measured into the patient's trend
(docs/ingest.md, "Lab results").
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable

from pydantic import ValidationError

from gateway.vocabulary import LOINC_SYSTEMS
from monitor.catalogue import CATALOGUE, LAB_TESTS, Observation
from monitor.wire import LabEvent, describe_validation_error

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_CENSORED = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([+-]?(\d+(\.\d*)?|\.\d+))\s*$")

#: What a sender is told crsmon takes, when a laboratory code is not one of its tests.
TESTS_TAKEN = ", ".join(LAB_TESTS)


class Refused(Exception):
    """A lab or neuro observation that cannot be used; `kind` is a fixed word (a metric label)."""

    def __init__(self, why: str, kind: str) -> None:
        super().__init__(why)
        self.why = why
        self.kind = kind


def lab_test_of(codes: Iterable[tuple[str, str]]) -> Observation | None:
    """The catalogue's lab test that one of these (code, system) pairs names, or None.

    An empty system is tolerated as the vital-sign vocabulary tolerates it: a LOINC code has a
    check digit after a dash and cannot be mistaken for an MDC or a local code.
    """
    for code, system in codes:
        if system.strip() in LOINC_SYSTEMS or not system.strip():
            entry = CATALOGUE.by_loinc(code)
            if entry is not None and entry.kind == "lab":
                return entry
    return None


def unknown_test(label: str) -> Refused:
    """The refusal of a laboratory result whose code names no test crsmon takes."""
    return Refused(
        f"{label} is a laboratory result that crsmon does not take: it takes "
        f"{TESTS_TAKEN}, by the LOINC codes in docs/ingest.md",
        "unknown_test",
    )


def number_in(text: str, label: str) -> float:
    """A result written as text (HL7 OBX-5, FHIR valueString) as a number, or why it is not."""
    text = text.strip()
    censored = _CENSORED.match(text)
    if censored:
        raise censored_result(label, censored.group(1), censored.group(2))
    if not _NUMBER.match(text):
        raise Refused(f"{label} value {text[:40]!r} is not a number", "invalid_field")
    return float(text)


def censored_result(label: str, comparator: str, bound: str) -> Refused:
    """The refusal of a result reported only as beyond a bound of the assay."""
    return Refused(
        f"{label} value {comparator}{bound} is censored (beyond the assay's range), not a "
        f"number: crsmon takes measured values only and does not stand the bound in for "
        f"one",
        "censored",
    )


def lab_event(
    test: Observation, patient_id: str, ts: datetime, number: float, units: list[str], label: str
) -> LabEvent:
    """The LabEvent of one result, in the test's canonical unit.

    `units` are the spellings the sender gave (UCUM code, then text); the first that the test
    accepts is used, else the first given, so that the refusal names what was sent.
    """
    given = [unit.strip() for unit in units if unit and unit.strip()]
    if not given:
        raise Refused(f"{label} ({test.name}) has no unit: {test.name} needs one of {_accepted(test)}", "unit")
    unit = next((spelling for spelling in given if test.unit_for(spelling)), given[0])
    try:
        return LabEvent.model_validate(
            {"type": "lab", "patient_id": patient_id, "ts": ts, "test": test.name, "value": number, "unit": unit}
        )
    except ValidationError as error:
        reason = describe_validation_error(error)
        kind = (
            "unit"
            if "is not accepted" in reason or "unit is required" in reason
            else "out_of_bounds"
            if "outside the plausible bounds" in reason
            else "invalid_field"
        )
        raise Refused(f"{label}: {reason}", kind) from None


def _accepted(test: Observation) -> str:
    return ", ".join(spelling for unit in test.units for spelling in unit.spellings)
