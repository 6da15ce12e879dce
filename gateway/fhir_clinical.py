"""FHIR R4 Observations that hold a lab result or a neurological assessment.

fhir.py asks this module first about every Observation. A lab result is an Observation whose
code (or a component's) is the LOINC code of a catalogue test; a laboratory Observation (category `laboratory`)
with any other code is a test crsmon does not take and is refused, not skipped as a monitor's
unused parameter is. An ICANS Observation carries crsmon's own codes (`neuro_assessments`):
an ICE total as valueInteger, or a panel whose components are the items (and findings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from fhir.resources.R4B.observation import Observation

from gateway.lab_results import Refused, censored_result, lab_event, lab_test_of, number_in, unknown_test
from gateway.neuro_assessments import NeuroPart, finding, is_score, neuro_code_of, score
from gateway.readings import Skip
from monitor.wire import InvalidMessage, LabEvent

USED_STATUSES = ("final", "amended", "corrected")
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True, slots=True)
class RefusedPart:
    """A lab result inside an Observation (itself or one of its components) that is refused
    while the others are used."""

    skip: Skip


Found = list[LabEvent | NeuroPart | Skip | RefusedPart]


def codes_of(concept: Any) -> list[tuple[str, str]]:
    """The (code, system) pairs of a CodeableConcept."""
    return [(coding.code or "", coding.system or "") for coding in (concept.coding or [])] if concept else []


def label_of(concept: Any) -> str:
    codes = [code for code, _ in codes_of(concept) if code]
    return "code " + "/".join(codes) if codes else "an uncoded observation"


def is_laboratory(observation: Observation) -> bool:
    """Whether the Observation says it is a laboratory result (category `laboratory`)."""
    return any(
        code == "laboratory" and system in ("", CATEGORY_SYSTEM)
        for concept in observation.category or []
        for code, system in codes_of(concept)
    )


def has_value(observation: Any) -> bool:
    return any(
        getattr(observation, name, None) is not None
        for name in (
            "valueQuantity",
            "valueString",
            "valueInteger",
            "valueCodeableConcept",
            "valueRange",
            "valueRatio",
            "valueBoolean",
        )
    )


def refuse_unknown_laboratory(observation: Observation) -> Refused | None:
    """The refusal of a laboratory Observation with a value whose code crsmon does not take."""
    if is_laboratory(observation) and has_value(observation) and observation.status in USED_STATUSES:
        return unknown_test(label_of(observation.code))
    return None


def clinical_observation(
    observation: Observation,
    where: str,
    patient_of: Callable[[], str],
    time_of: Callable[[], datetime],
) -> Found | None:
    """The lab results or assessment parts of one Observation (itself and its components), why
    some are skipped, and the lab results refused (RefusedPart); None when it holds neither.
    Raises Refused when the Observation's patient or time cannot be read."""
    codes = codes_of(observation.code)
    test = lab_test_of(codes)
    neuro = neuro_code_of(codes) if test is None else None
    components = [
        (component, code)
        for component in observation.component or []
        if (code := neuro_code_of(codes_of(component.code)))
    ]
    lab_components = [
        (component, found)
        for component in observation.component or []
        if (found := lab_test_of(codes_of(component.code)))
    ]
    if test is None and neuro is None and not components and not lab_components:
        return None
    label = label_of(observation.code)
    if observation.status not in USED_STATUSES:
        return [
            Skip(
                where,
                f"{label} has status {observation.status}; only {', '.join(USED_STATUSES)} values are used",
                "not_final",
            )
        ]
    try:
        patient_id, ts = patient_of(), time_of()
    except InvalidMessage as error:
        raise Refused(error.reason, error.kind) from None
    if test is not None or lab_components:
        holders: list[tuple[Any, Any, str, str]] = [(observation, test, label, where)] if test is not None else []
        holders += [
            (
                component,
                found,
                f"{label} component {label_of(component.code)}",
                f"{where} component {label_of(component.code)}",
            )
            for component, found in lab_components
        ]
        return [
            _lab_result(
                holder,
                entry,
                patient_id,
                ts,
                part_label,
                part_where,
                panel=holder is observation and bool(lab_components),
            )
            for holder, entry, part_label, part_where in holders
        ]
    by = _performer(observation)
    parts: Found = []
    if neuro is not None and (has_value(observation) or not components):
        parts.append(NeuroPart(patient_id, ts, neuro, _neuro_value(observation, neuro, label), where, by))
    for component, code in components:
        parts.append(
            NeuroPart(
                patient_id,
                ts,
                code,
                _neuro_value(component, code, f"component {code}"),
                f"{where} component {code}",
                by,
            )
        )
    return parts


def _lab_result(
    holder: Any, test: Any, patient_id: str, ts: datetime, label: str, where: str, panel: bool
) -> LabEvent | Skip | RefusedPart:
    """One result (an Observation's own value or a component's) as a LabEvent, a Skip when it
    has no value, or a RefusedPart; a `panel`'s own missing value is no news (its values are in
    its components), so it is a Skip that is never told."""
    try:
        number = _lab_number(holder, label)
        if number is None:
            return Skip(where, f"{label} has no value{_absent_reason(holder)}", "not_used" if panel else "no_value")
        quantity = holder.valueQuantity
        units = (
            [(quantity.code or "") if quantity.system in (None, UCUM) else "", quantity.unit or ""]
            if quantity is not None
            else []
        )
        return lab_event(test, patient_id, ts, number, units, label)
    except Refused as refusal:
        return RefusedPart(Skip(where, refusal.why, refusal.kind))


def _lab_number(observation: Any, label: str) -> float | None:
    """The number of an Observation or a component; None when it has no value at all."""
    quantity = observation.valueQuantity
    if quantity is not None:
        if quantity.comparator:
            raise censored_result(label, quantity.comparator, f"{quantity.value}")
        if quantity.value is None:
            raise Refused(f"{label} valueQuantity has no value", "invalid_field")
        return float(quantity.value)
    if observation.valueString is not None:
        return number_in(observation.valueString, label)
    if observation.valueInteger is not None:
        raise Refused(f"{label} must have a valueQuantity with a UCUM unit", "unit")
    if has_value(observation):
        raise Refused(f"{label} must have a valueQuantity with a UCUM unit, not another kind of value", "invalid_field")
    return None


def _neuro_value(holder: Any, code: str, label: str) -> int | str | Refused:
    """A score or a finding from valueInteger, valueQuantity, valueCodeableConcept or
    valueString; a Refused stands in for a value that cannot be read."""
    try:
        if is_score(code):
            number: float | None = None
            if holder.valueInteger is not None:
                number = holder.valueInteger
            elif holder.valueQuantity is not None and holder.valueQuantity.value is not None:
                number = float(holder.valueQuantity.value)
            elif holder.valueString is not None:
                number = number_in(holder.valueString, label)
            return score(code, number, label)
        word = holder.valueString
        concept = holder.valueCodeableConcept
        if concept is not None:
            word = next((found for found, _ in codes_of(concept) if found), None) or concept.text
        return finding(code, word or "", label)
    except Refused as refusal:
        return refusal


def _performer(observation: Observation) -> str | None:
    """Who charted it: the first performer's identifier, the id it refers to, or its display."""
    for performer in observation.performer or []:
        if performer.identifier is not None and performer.identifier.value:
            return performer.identifier.value[:128]
        if performer.reference:
            return performer.reference.rsplit("/", 1)[-1][:128]
        if performer.display:
            return performer.display[:128]
    return None


def _absent_reason(holder: Any) -> str:
    reason = holder.dataAbsentReason
    if reason and reason.coding and reason.coding[0].code:
        return f" (dataAbsentReason {reason.coding[0].code})"
    return ""
