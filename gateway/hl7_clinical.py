"""HL7 v2 OBX rows that hold a lab result or part of a neurological assessment.

A laboratory information system sends results in the same ORU^R01 as a monitor gateway sends
vital signs, so hl7v2.py asks this module first whether an OBX is a lab result (OBX-3 a LOINC
code of a catalogue test, as identifier or alternate identifier) or an ICANS observation
(crsmon's own codes, `gateway.neuro_assessments`). OBR-24 (diagnostic service section, HL7
table 0074) tells a laboratory's report from a monitor's: under a laboratory section, a code
crsmon does not know is a lab test it does not take and is refused, not skipped as a monitor's
unused parameter is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import hl7

from gateway.hl7_fields import repetitions, value
from gateway.lab_results import Refused, censored_result, lab_event, lab_test_of, number_in
from gateway.neuro_assessments import NeuroPart, finding, is_score, neuro_code_of, score
from gateway.readings import Skip
from monitor.wire import InvalidMessage, LabEvent

#: OBR-24 sections (HL7 table 0074) whose reports are laboratory results.
LAB_SECTIONS = frozenset(
    {"LAB", "CH", "HM", "SR", "IMM", "BG", "BLB", "MB", "MCB", "MYC", "SP", "CP", "TX", "VR", "OSL"}
)
#: OBX-11 statuses of a result that is released: final, corrected, amended, final without
#: retransmission. R (entered, not verified) and P (preliminary), which monitor data may carry,
#: are not released lab results.
RELEASED = {"F": "final", "C": "corrected", "A": "amended", "U": "final"}
_CENSORING = {"<", ">", "<=", ">="}


def clinical_observation(
    obx: hl7.Segment,
    where: str,
    patient_id: str,
    time_of: Callable[[], datetime],
) -> LabEvent | NeuroPart | Skip | None:
    """The lab result or assessment part one OBX holds, a Skip, or None when it holds neither
    (then it may be a vital sign). Raises Refused for a result that cannot be used."""
    codes = [(value(obx, 3, 1), value(obx, 3, 3)), (value(obx, 3, 4), value(obx, 3, 6))]
    label = "^".join(part for part in (value(obx, 3, 1), value(obx, 3, 2), value(obx, 3, 3)) if part)
    test = lab_test_of(codes)
    neuro = neuro_code_of(codes) if test is None else None
    if test is None and neuro is None:
        return None
    status = value(obx, 11)
    if status not in RELEASED:
        return Skip(
            where,
            f"{label} has result status {status or '(empty)'} in OBX-11; only released results (F, C, A, U) are used",
            "not_final",
        )
    if not value(obx, 5) and not value(obx, 5, 2):
        return Skip(where, f"{label} has no value in OBX-5", "no_value")
    try:
        ts = time_of()
    except InvalidMessage as error:
        raise Refused(error.reason, error.kind) from None
    if test is not None:
        return lab_event(test, patient_id, ts, _number(obx, label), [value(obx, 6, 1), value(obx, 6, 2)], label)
    assert neuro is not None
    try:
        reading: int | str | Refused = (
            score(neuro, _number(obx, label), label) if is_score(neuro) else finding(neuro, value(obx, 5), label)
        )
    except Refused as refusal:
        reading = refusal
    return NeuroPart(patient_id, ts, neuro, reading, where, value(obx, 16) or value(obx, 16, 2) or None)


def unknown_in_laboratory(obx: hl7.Segment, section: str) -> bool:
    """Whether an OBX that is neither a vital sign nor a lab test crsmon takes is a laboratory
    result (its OBR says so) with a value, which is refused rather than skipped."""
    return section in LAB_SECTIONS and value(obx, 11) in RELEASED and bool(value(obx, 5) or value(obx, 5, 2))


def _number(obx: hl7.Segment, label: str) -> float:
    kind = value(obx, 2)
    if repetitions(obx, 5) > 1:
        raise Refused(f"{label} has more than one value in OBX-5", "invalid_field")
    if kind == "SN":  # structured numeric: comparator ^ number (HL7 v2 chapter 2A, SN)
        comparator, number = value(obx, 5, 1), value(obx, 5, 2)
        if not number and repetitions(obx, 5) == 1 and "^" not in str(obx(5)):
            return number_in(comparator, label)  # "12" or "<5" sent as SN without its components
        if comparator in _CENSORING:
            raise censored_result(label, comparator, number)
        if comparator not in ("", "="):
            raise Refused(f"{label} SN value {comparator}^{number} is not a single number", "invalid_field")
        return number_in(number, label)
    if kind not in ("NM", "ST", ""):
        raise Refused(
            f"{label} has value type {kind} in OBX-2: a lab result or a score must be NM (numeric) or SN",
            "invalid_field",
        )
    return number_in(value(obx, 5), label)
