"""FHIR R4 vital-signs Observations, and Bundles of them, to VitalSigns.

Pure: JSON in, VitalSigns out, InvalidMessage for anything that cannot be used. Resources are
validated by fhir.resources (its R4B models: R4B changed nothing in Observation, Bundle,
Patient or Device since R4 4.0.1), so a malformed resource is rejected with the library's
account of what is wrong. This module only decides what a valid Observation means for crsmon:

- The code (and each component's code) in LOINC or MDC names the measurement (`vocabulary`);
  the valueQuantity's UCUM code its unit.
- Only final, amended and corrected Observations are used; others are skipped with a reason.
- The subject is the patient: `subject.identifier`, else the identifier of the Patient it
  points to inside the Bundle, else the id in `Patient/<id>`.
- The time is effectiveDateTime, effectiveInstant, or effectivePeriod's end (its start if
  open); FHIR requires an offset on any time of day, and a date without a time is rejected.
- Lab results and neurological assessments (`fhir_clinical`) become ClinicalEvents; those
  that cannot be used are refused one by one, and the rest of the message is still used.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Iterable

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation, ObservationComponent
from pydantic import ValidationError

from gateway.fhir_clinical import RefusedPart, clinical_observation, refuse_unknown_laboratory
from gateway.lab_results import Refused
from gateway.neuro_assessments import NeuroPart, neuro_events
from gateway.readings import Decoded, Problems, Reading, Skip, merge
from gateway.vocabulary import CONTRACT_UNITS, Meaning, converter_for, meaning_of
from monitor.wire import InvalidMessage, LabEvent
from monitor.wire.codec import _load_object
from monitor.wire.vitals import PATIENT_ID_PATTERN

USED_STATUSES = ("final", "amended", "corrected")
RESOURCE_MODELS: dict[str, type[Observation] | type[Bundle]] = {"Observation": Observation, "Bundle": Bundle}
UCUM = "http://unitsofmeasure.org"

_PATIENT_ID = re.compile(PATIENT_ID_PATTERN)
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")
_OTHER_VALUES = (
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
    "valueCodeableConcept",
)


def decode_fhir(raw: bytes | str, accept: Iterable[str] = ("Observation", "Bundle")) -> Decoded:
    """The VitalSigns and ClinicalEvents in one Observation or Bundle (of any type: transaction,
    batch, collection).

    `accept` narrows the resource types (an HTTP endpoint for Observations only). Raises
    InvalidMessage naming every problem found.
    """
    document = _load_object(raw)
    accepted = tuple(accept)
    resource_type = document.get("resourceType")
    if resource_type not in accepted:
        raise InvalidMessage(
            f"resourceType is {str(resource_type)[:40]!r}: expected {' or '.join(accepted)}",
            "not_fhir",
        )
    try:
        resource = RESOURCE_MODELS[resource_type].model_validate(document)
    except ValidationError as error:
        raise InvalidMessage(f"not a valid FHIR R4 {resource_type}: {_validation_errors(error)}", "not_fhir") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        # fhir.resources looks contained resources up by resourceType and raises KeyError (or
        # worse) for a type it does not know rather than a ValidationError.
        raise InvalidMessage(
            f"not a valid FHIR R4 {resource_type}: a resource inside it has an unknown resourceType or shape",
            "not_fhir",
        ) from None
    directory: dict[str, Any]
    if isinstance(resource, Observation):
        observations, directory = [(_named(resource), resource)], {}
    else:
        observations, directory = _observations_in(resource)
    problems, readings = Problems(), []
    skipped: list[Skip] = []
    labs: list[LabEvent] = []
    neuro: list[NeuroPart] = []
    refused: list[Skip] = []
    for where, observation in observations:
        try:
            clinical = clinical_observation(
                observation,
                where,
                lambda: _patient_id(observation.subject, directory),
                lambda: _effective_time(observation),
            )
        except Refused as refusal:
            refused.append(Skip(where, refusal.why, refusal.kind))
            continue
        if clinical is not None:
            for item in clinical:
                if isinstance(item, RefusedPart):
                    refused.append(item.skip)
                elif isinstance(item, LabEvent):
                    labs.append(item)
                elif isinstance(item, NeuroPart):
                    neuro.append(item)
                else:
                    skipped.append(item)
            continue
        try:
            found, left_out = _readings(observation, where, directory)
        except InvalidMessage as error:
            problems.add(where, error)
            continue
        unknown = refuse_unknown_laboratory(observation) if not found else None
        if unknown is not None:
            refused.append(Skip(where, unknown.why, unknown.kind))
            continue
        readings.extend(found)
        skipped.extend(left_out)
    problems.raise_any()
    if not observations:
        raise InvalidMessage("the Bundle holds no Observation", "no_vital_signs")
    assessments, unusable = neuro_events(neuro)
    return merge(
        readings,
        skipped,
        "no Observation holds a vital sign, lab result or "
        "neurological assessment crsmon uses (see docs/ingest.md for "
        "the LOINC and MDC codes it reads)",
        events=(*labs, *assessments),
        refused=(*refused, *unusable),
    )


def _validation_errors(error: ValidationError, limit: int = 5) -> str:
    """fhir.resources' errors with where each one is (its messages do not say). The offending
    values are left out: they may be names or identifiers, and reasons end up in logs."""
    items = error.errors(include_url=False)
    shown = []
    for item in items[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "resource"
        shown.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(shown) + more


def _named(observation: Observation, prefix: str = "") -> str:
    return f"{prefix}Observation/{observation.id}" if observation.id else f"{prefix}Observation"


def _observations_in(bundle: Bundle) -> tuple[list[tuple[str, Observation]], dict[str, Any]]:
    """The Bundle's Observations with their names, and its resources by fullUrl."""
    observations, directory = [], {}
    for number, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource is None:
            continue
        if entry.fullUrl:
            directory[entry.fullUrl] = resource
        if isinstance(resource, Observation):
            observations.append((_named(resource, f"entry[{number}] "), resource))
    return observations, directory


def _readings(observation: Observation, where: str, directory: dict[str, Any]) -> tuple[list[Reading], list[Skip]]:
    """The readings of one Observation (its own value and its components'), or why it has none."""
    own = _meaning(observation.code)
    parts = [
        (component, _meaning(component.code), _code_label(component.code)) for component in observation.component or []
    ]
    used_parts = [(component, meaning, label) for component, meaning, label in parts if meaning]
    label = _code_label(observation.code)
    if own is None and not used_parts:
        if observation.hasMember and observation.valueQuantity is None:
            why = (
                f"panel {label} has no values of its own, and its hasMember references are not "
                f"followed: send the member Observations themselves (e.g. in a Bundle)"
            )
        else:
            why = f"{label} is not a vital sign crsmon uses"
        return [], [Skip(where, why, "not_used")]
    if observation.status not in USED_STATUSES:
        return [], [
            Skip(
                where,
                f"{label} has status {observation.status}; only {', '.join(USED_STATUSES)} values are used",
                "not_final",
            )
        ]
    patient_id = _patient_id(observation.subject, directory)
    ts = _effective_time(observation)
    readings, skipped = [], []
    measured: list[tuple[Observation | ObservationComponent, Meaning, str, str]] = (
        [(observation, own, label, where)] if own else []
    )
    measured += [
        (component, meaning, part_label, f"{where} component {part_label}")
        for component, meaning, part_label in used_parts
    ]
    for holder, meaning, part_label, part_where in measured:
        quantity = holder.valueQuantity
        if quantity is None:
            if any(getattr(holder, name, None) is not None for name in _OTHER_VALUES):
                raise InvalidMessage(f"{part_label} must have a valueQuantity with a UCUM unit", "invalid_field")
            if holder is observation and used_parts:
                continue  # a panel coded as a vital sign (e.g. MDC 150020), its values in components
            skipped.append(Skip(part_where, f"{part_label} has no value" + _absent_reason(holder), "no_value"))
            continue
        if quantity.value is None:
            raise InvalidMessage(f"{part_label} valueQuantity has no value", "missing_field")
        convert = _converter(meaning, quantity, part_label)
        readings.append(
            Reading(
                patient_id=patient_id,
                ts=ts,
                measurement=meaning.measurement,
                value=convert(float(quantity.value)),
                rank=meaning.rank,
                where=part_where,
            )
        )
    return readings, skipped


def _meaning(concept: Any) -> Meaning | None:
    for coding in (concept.coding or []) if concept else []:
        found = meaning_of(coding.code or "", coding.system or "")
        if found:
            return found
    return None


def _code_label(concept: Any) -> str:
    codings = (concept.coding or []) if concept else []
    codes = [coding.code for coding in codings if coding.code]
    return "code " + "/".join(codes) if codes else "an uncoded observation"


def _absent_reason(holder: Any) -> str:
    reason = holder.dataAbsentReason
    if reason and reason.coding and reason.coding[0].code:
        return f" (dataAbsentReason {reason.coding[0].code})"
    return ""


def _converter(meaning: Meaning, quantity: Any, label: str):
    spellings = [quantity.code if quantity.system in (None, UCUM) else "", quantity.unit or ""]
    convert = converter_for(meaning.measurement, [spelling or "" for spelling in spellings])
    if convert is None:
        given = quantity.code or quantity.unit or "none"
        raise InvalidMessage(
            f"{label} has unit {given!r}; {meaning.measurement} needs the UCUM unit "
            f"{CONTRACT_UNITS[meaning.measurement]}",
            "unit",
        )
    return convert


def _patient_id(subject: Any, directory: dict[str, Any]) -> str:
    if subject is None:
        raise InvalidMessage(
            "has no subject: crsmon keys every vital sign by patient; set "
            "subject to the Patient (reference or identifier)",
            "no_patient",
        )
    if subject.identifier is not None and subject.identifier.value:
        candidate, said = subject.identifier.value, "subject.identifier.value"
    elif subject.reference:
        candidate, said = _referenced_patient(subject.reference, directory), "subject"
    else:
        raise InvalidMessage("subject has neither a reference nor an identifier", "no_patient")
    if not _PATIENT_ID.match(candidate):
        raise InvalidMessage(
            f"{said} gives patient id {candidate[:70]!r}, which is not 1-64 "
            f"characters of A-Z a-z 0-9 . _ : - as the wire contract requires",
            "no_patient",
        )
    return candidate


def _referenced_patient(reference: str, directory: dict[str, Any]) -> str:
    target = directory.get(reference)
    if target is not None:
        if target.get_resource_type() != "Patient":
            raise InvalidMessage(
                f"subject {reference} is a {target.get_resource_type()} in this Bundle, not a Patient", "no_patient"
            )
        return _identifier_of(target)
    if reference.startswith(("urn:uuid:", "urn:oid:", "#")):
        raise InvalidMessage(f"subject {reference} is not an entry of this Bundle", "no_patient")
    match = _PATIENT_REFERENCE.search(reference)
    if not match:
        raise InvalidMessage(f"subject {reference[:80]!r} does not refer to a Patient", "no_patient")
    return match.group(1)


def _identifier_of(patient: Any) -> str:
    """A Patient's medical record number (identifier of type MR), else its first identifier,
    else its id: identifiers survive a transaction, whose resource ids the server replaces."""
    identifiers = [item for item in patient.identifier or [] if item.value]
    for item in identifiers:
        codings = (item.type.coding or []) if item.type else []
        if any(coding.code == "MR" for coding in codings):
            return item.value
    if identifiers:
        return identifiers[0].value
    if patient.id:
        return patient.id
    raise InvalidMessage("subject is a Patient in this Bundle with neither an identifier nor an id", "no_patient")


def _effective_time(observation: Observation) -> datetime:
    if observation.effectiveDateTime is not None:
        return _time_of_day(observation.effectiveDateTime, "effectiveDateTime")
    if observation.effectiveInstant is not None:
        return _time_of_day(observation.effectiveInstant, "effectiveInstant")
    period = observation.effectivePeriod
    if period is not None and (period.end or period.start):
        return _time_of_day(
            period.end or period.start, "effectivePeriod.end" if period.end else "effectivePeriod.start"
        )
    if observation.effectiveTiming is not None:
        raise InvalidMessage("effectiveTiming is not supported: give effectiveDateTime", "timestamp")
    raise InvalidMessage(
        "has no effective time: give effectiveDateTime with a time of day and "
        "an offset (e.g. 2026-11-23T18:00:00+01:00)",
        "timestamp",
    )


def _time_of_day(value: Any, field: str) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    shown = value.isoformat() if isinstance(value, date) else str(value)
    raise InvalidMessage(
        f"{field} {shown} has no time of day: a vital sign needs the moment it was measured, "
        f"e.g. {shown[:10]}T10:30:00+01:00",
        "timestamp",
    )
