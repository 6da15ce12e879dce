"""HL7 v2 ORU^R01 from bedside-monitor gateways (IHE PCD-01) to VitalSigns.

Pure: bytes in, VitalSigns out, InvalidMessage for anything that cannot be used, so that the
MLLP server can answer AA, AE or AR and dead-letter without knowing HL7. The message is parsed
by python-hl7; this module only decides what each segment means for crsmon:

- PID-3, first repetition, CX.1 is the patient id; PV1-3 (point of care, room, bed) the place.
- Each OBX with an OBX-3 code in `vocabulary` (MDC, LOINC, or an MDC reference id) is one
  reading; OBX-6 gives its unit (MDC or UCUM), °F and kPa are converted.
- The time is OBX-14, else that of the OBX it belongs to by its OBX-4 sub-id (PCD-01 nests
  metrics in channels, VMDs and MDSs as 1.2.3.4), else OBR-7.
- An OBX holding a lab result or part of a neurological assessment (`hl7_clinical`) becomes a
  ClinicalEvent instead; those that cannot be used are refused one by one, and the rest of the
  message is still used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo

import hl7

from gateway.hl7_clinical import clinical_observation, unknown_in_laboratory
from gateway.hl7_fields import parse_message, parse_time, repetitions, sender_zone, text_of, value
from gateway.lab_results import Refused, unknown_test
from gateway.neuro_assessments import NeuroPart, neuro_events
from gateway.readings import Decoded, Problems, Reading, Skip, merge
from gateway.vocabulary import (
    CONTRACT_UNITS,
    PANEL_CODES,
    Meaning,
    contradicted_by_text,
    converter_for,
    mdc_code_of,
    meaning_of,
)
from monitor.wire import InvalidMessage, LabEvent
from monitor.wire.vitals import PATIENT_ID_PATTERN

#: OBX-11 result statuses (HL7 table 0085) whose values are used. R ("not verified") is what
#: live monitor data always carries under PCD-01; an empty status is tolerated from older gateways.
USED_STATUSES = {"F": "final", "C": "corrected", "R": "not verified", "U": "final", "A": "amended", "": ""}
SKIPPED_STATUSES = {
    "P": "preliminary",
    "S": "partial",
    "D": "deleted",
    "X": "cannot be obtained",
    "W": "posted as wrong",
    "I": "pending",
    "N": "not asked",
    "O": "order detail only",
}

#: The IEEE 11073-20601 FLOAT special values (NaN, NRes, +INF, -INF) that some gateways pass
#: through as numbers: a device's way of saying "no reading".
_DEVICE_SPECIAL_VALUES = {8388607.0, -8388608.0, 8388608.0, 8388606.0, -8388606.0}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_PATIENT_ID = re.compile(PATIENT_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class _Patient:
    patient_id: str
    ward: str | None = None
    bed: str | None = None


@dataclass(slots=True)
class _Order:
    """The OBR group an OBX belongs to: its time, the times of OBX rows by sub-id, and its
    diagnostic service section (OBR-24: a laboratory's report or not)."""

    time: str
    times_by_sub_id: dict[str, str]
    section: str = ""


def decode_oru(raw: bytes | str, default_zone: tzinfo = timezone.utc) -> Decoded:
    """The VitalSigns and ClinicalEvents (lab results, neurological assessments) in one ORU^R01.

    `default_zone` places times that carry no UTC offset when MSH-7 has none either (see
    docs/ingest.md). Raises InvalidMessage naming every problem found.
    """
    message = parse_message(text_of(raw))
    msh = message[0]
    _check_message_type(msh)
    zone = sender_zone(value(msh, 7), default_zone)
    source = value(msh, 3) or value(msh, 3, 2) or None
    problems, readings, skipped = Problems(), [], []
    labs: list[LabEvent] = []
    neuro: list[NeuroPart] = []
    refused: list[Skip] = []
    patient: _Patient | None = None
    patient_problem: InvalidMessage | None = None
    order = _Order("", {})
    observation_count = 0
    for position, segment in enumerate(message, start=1):
        name = str(segment[0])
        if name == "PID":
            patient, patient_problem = _patient(segment)
            if patient_problem:
                problems.add(f"PID (segment {position})", patient_problem)
        elif name == "PV1" and patient is not None:
            patient = _placed(patient, segment)
        elif name == "OBR":
            order = _Order(value(segment, 7), {}, value(segment, 24))
        elif name == "OBX":
            observation_count += 1
            where = f"OBX #{observation_count} (segment {position})"
            if patient is None:
                if patient_problem is None:
                    problems.add(
                        where,
                        InvalidMessage(
                            "comes before any PID segment: send PID (with the patient id in PID-3) before the results",
                            "no_patient",
                        ),
                    )
                    patient_problem = InvalidMessage("reported", "no_patient")
                continue
            try:
                outcome = _clinical_or_vital(segment, where, patient, order, zone, source)
            except InvalidMessage as error:
                problems.add(where, error)
                continue
            except Refused as refusal:
                refused.append(Skip(where, refusal.why, refusal.kind))
                continue
            if isinstance(outcome, Reading):
                readings.append(outcome)
            elif isinstance(outcome, LabEvent):
                labs.append(outcome)
            elif isinstance(outcome, NeuroPart):
                neuro.append(outcome)
            elif outcome is not None:
                skipped.append(outcome)
    if observation_count == 0:
        problems.add("", InvalidMessage("the message has no OBX segment: nothing was measured", "no_vital_signs"))
    problems.raise_any()
    assessments, unusable = neuro_events(neuro)
    return merge(
        readings,
        skipped,
        "no OBX holds a vital sign, lab result or neurological "
        "assessment crsmon uses (see docs/ingest.md for the MDC and "
        "LOINC codes it reads)",
        events=(*labs, *assessments),
        refused=(*refused, *unusable),
    )


def _check_message_type(msh: hl7.Segment) -> None:
    kind, event = value(msh, 9), value(msh, 9, 2)
    if (kind, event) != ("ORU", "R01"):
        raise InvalidMessage(
            f"MSH-9 message type is {kind or '(empty)'}^{event or '(empty)'}: crsmon ingests "
            f"ORU^R01 observation results only",
            "unsupported_message",
        )


def _patient(pid: hl7.Segment) -> tuple[_Patient | None, InvalidMessage | None]:
    patient_id = value(pid, 3)
    if not patient_id:
        return None, InvalidMessage(
            "PID-3 (patient identifier list) is empty: crsmon keys every vital sign by patient; "
            "configure the gateway to send the patient's identifier (e.g. the MRN) in PID-3",
            "no_patient",
        )
    if not _PATIENT_ID.match(patient_id):
        return None, InvalidMessage(
            f"PID-3 patient id {patient_id[:70]!r} is not 1-64 characters of A-Z a-z 0-9 . _ : -, "
            f"which the wire contract requires",
            "no_patient",
        )
    return _Patient(patient_id), None


def _placed(patient: _Patient, pv1: hl7.Segment) -> _Patient:
    """PV1-3 (point of care ^ room ^ bed) as ward and bed; the bed keeps its room (`3001-1`)
    because bed numbers repeat from room to room."""
    ward, room, bed = value(pv1, 3), value(pv1, 3, 2), value(pv1, 3, 3)
    return replace(patient, ward=ward or None, bed="-".join(part for part in (room, bed) if part) or None)


def _clinical_or_vital(
    obx: hl7.Segment,
    where: str,
    patient: _Patient,
    order: _Order,
    zone: tzinfo,
    source: str | None,
) -> Reading | LabEvent | NeuroPart | Skip | None:
    """One OBX as a lab result or assessment part when it is one, else as a vital sign; a
    laboratory's result that is neither is refused (Refused) rather than skipped."""
    sub_id, own_time = value(obx, 4), value(obx, 14)
    if own_time and sub_id:
        order.times_by_sub_id[sub_id] = own_time
    found = clinical_observation(obx, where, patient.patient_id, lambda: _time(own_time, sub_id, order, zone))
    if found is not None:
        return found
    outcome = _observation(obx, where, patient, order, zone, source)
    if isinstance(outcome, Skip) and outcome.kind == "not_used" and unknown_in_laboratory(obx, order.section):
        code, text, system = value(obx, 3, 1), value(obx, 3, 2), value(obx, 3, 3)
        raise unknown_test("^".join(part for part in (code, text, system) if part))
    return outcome


def _observation(
    obx: hl7.Segment,
    where: str,
    patient: _Patient,
    order: _Order,
    zone: tzinfo,
    source: str | None,
) -> Reading | Skip | None:
    """One OBX as a Reading, a Skip with its reason, or None for a row that holds no
    measurement (PCD-01 device and group rows)."""
    sub_id, own_time = value(obx, 4), value(obx, 14)
    if own_time and sub_id:
        order.times_by_sub_id[sub_id] = own_time
    codes = [
        (value(obx, 3, 1), value(obx, 3, 3), value(obx, 3, 2)),
        (value(obx, 3, 4), value(obx, 3, 6), value(obx, 3, 5)),
    ]
    if not any(code or text for code, _, text in codes):
        raise InvalidMessage(
            "OBX-3 (observation identifier) is empty: every OBX needs a code such as 147842^MDC_ECG_HEART_RATE^MDC",
            "missing_field",
        )
    code, system, text = codes[0]
    label = "^".join(part for part in (code, text, system) if part)
    meaning = next((found for code in codes if (found := meaning_of(*code))), None)
    result = value(obx, 5)
    if meaning is None:
        if not result or code in PANEL_CODES:
            return None
        named = contradicted_by_text(code, system, text)
        if named is not None:
            return Skip(
                where,
                f"OBX-3 code {code} is not the MDC code of {named.name} "
                f"({mdc_code_of(named)}) that its text names; the value is not used "
                f"until the gateway's code table is fixed",
                "code_mismatch",
            )
        return Skip(where, f"{label} is not a vital sign crsmon uses", "not_used")
    status = value(obx, 11)
    if status not in USED_STATUSES:
        state = SKIPPED_STATUSES.get(status, "unknown")
        return Skip(where, f"{label} has result status {status} ({state}) in OBX-11", "not_final")
    if not result:
        return Skip(where, f"{label} has no value in OBX-5", "no_value")
    number = _number(obx, label, result)
    if number in _DEVICE_SPECIAL_VALUES:
        return Skip(where, f"{label} value {result} is the device's 'no reading' value", "no_value")
    convert = _unit(obx, meaning, label)
    return Reading(
        patient_id=patient.patient_id,
        ts=_time(own_time, sub_id, order, zone),
        measurement=meaning.measurement,
        value=convert(number),
        rank=meaning.rank,
        where=where,
        ward=patient.ward,
        bed=patient.bed,
        source=source,
    )


def _number(obx: hl7.Segment, label: str, result: str) -> float:
    kind = value(obx, 2)
    if kind not in ("NM", "ST", ""):
        raise InvalidMessage(
            f"{label} has value type {kind} in OBX-2: a vital sign must be NM (numeric)",
            "invalid_field",
        )
    if repetitions(obx, 5) > 1 or not _NUMBER.match(result):
        raise InvalidMessage(f"{label} value {result[:40]!r} in OBX-5 is not a number", "invalid_field")
    return float(result)


def _unit(obx: hl7.Segment, meaning: Meaning, label: str):
    spellings = [value(obx, 6, 1), value(obx, 6, 2)]
    convert = converter_for(meaning.measurement, spellings)
    if convert is None:
        given = "^".join(part for part in spellings if part)
        problem = f"unit {given!r}" if given else "no unit"
        raise InvalidMessage(
            f"{label} has {problem} in OBX-6; {meaning.measurement} needs "
            f"{CONTRACT_UNITS[meaning.measurement]} (UCUM) or the MDC unit",
            "unit",
        )
    return convert


def _time(own_time: str, sub_id: str, order: _Order, zone: tzinfo) -> datetime:
    if own_time:
        return parse_time(own_time, zone, "OBX-14")
    parts = sub_id.split(".") if sub_id else []
    for length in range(len(parts) - 1, 0, -1):
        stamp = order.times_by_sub_id.get(".".join(parts[:length]))
        if stamp:
            return parse_time(stamp, zone, f"OBX-14 of the row it belongs to ({'.'.join(parts[:length])})")
    if order.time:
        return parse_time(order.time, zone, "OBR-7")
    raise InvalidMessage(
        "has no observation time: OBX-14, the OBX-14 of the rows it belongs to (by OBX-4) and OBR-7 are all empty",
        "timestamp",
    )
