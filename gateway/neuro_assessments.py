"""Bedside neurological assessments (ICE score and ICANS findings) as `type: neuro` ClinicalEvents.

LOINC has no code for the ICE score (ASTCT 2019) or its items, so crsmon defines its own in the
code system `https://crsmon.org/fhir/CodeSystem/icans` (docs/ingest.md): `ice-score` and the five
items, and the four ICANS findings whose values are the contract's words. Both codecs reduce an
observation to a NeuroPart; the parts of one patient at one moment are one assessment, so an
ICE panel, its items sent as separate observations, and an arousal charted in the same minute
become one NeuroEvent, which checks the items against the total.

An assessment is used whole or not at all: if its items disagree with its total, or one part
is out of range or not a known word, none of it is trusted, and it is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, get_args

from pydantic import ValidationError

from gateway.lab_results import Refused
from gateway.readings import Skip
from monitor.wire import NeuroEvent, describe_validation_error
from monitor.wire.events import Arousal, CerebralEdema, Motor, Seizure

ICANS_SYSTEM = "https://crsmon.org/fhir/CodeSystem/icans"
#: The same code system as HL7 v2 names it in CWE.3 (table 0396: 99zzz is a local system).
ICANS_SYSTEMS = frozenset({ICANS_SYSTEM, "99CRSMON", "CRSMON-ICANS"})

TOTAL = "ice-score"
ITEMS: dict[str, str] = {
    "ice-orientation": "orientation",
    "ice-naming": "naming",
    "ice-commands": "commands",
    "ice-writing": "writing",
    "ice-attention": "attention",
}
#: Finding code → (NeuroEvent field, the words it takes).
FINDINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "arousal": ("arousal", get_args(Arousal)),
    "seizure": ("seizure", get_args(Seizure)),
    "motor": ("motor", get_args(Motor)),
    "cerebral-edema": ("cerebral_edema", get_args(CerebralEdema)),
}
CODES = frozenset({TOTAL, *ITEMS, *FINDINGS})


@dataclass(frozen=True, slots=True)
class NeuroPart:
    """One observation of an assessment: a score (int) or a finding (a contract word), or the
    reason it could not be read."""

    patient_id: str
    ts: datetime
    code: str
    value: int | str | Refused
    where: str
    by: str | None = None


def neuro_code_of(codes: Iterable[tuple[str, str]]) -> str | None:
    """The ICANS code among these (code, system) pairs, or None.

    The code must come with crsmon's system: `arousal` or `motor` alone are words any local
    code table may use for something else.
    """
    for code, system in codes:
        if system.strip() in ICANS_SYSTEMS and code.strip() in CODES:
            return code.strip()
    return None


def score(code: str, number: float | None, label: str) -> int:
    """An ICE total or item: a whole number (its range is NeuroEvent's to check)."""
    if number is None or number != int(number):
        shown = "no value" if number is None else f"{number:g}"
        raise Refused(f"{label} ({code}) must be a whole number of points, not {shown}", "invalid_field")
    return int(number)


def finding(code: str, word: str, label: str) -> str:
    """A finding's word as the contract spells it; `-` and blanks are read as `_`."""
    field, words = FINDINGS[code]
    spelled = "_".join(word.strip().lower().replace("-", " ").split())
    if spelled not in words:
        raise Refused(f"{label} ({code}) {word[:40]!r} is not one of {', '.join(words)}", "invalid_field")
    return spelled


def is_score(code: str) -> bool:
    return code == TOTAL or code in ITEMS


def neuro_events(parts: list[NeuroPart]) -> tuple[list[NeuroEvent], list[Skip]]:
    """One NeuroEvent per patient and moment (in the order they first appear), and a refusal for
    each assessment that cannot be used."""
    groups: dict[tuple[str, datetime], list[NeuroPart]] = {}
    for part in parts:
        groups.setdefault((part.patient_id, part.ts), []).append(part)
    events, refused = [], []
    for group in groups.values():
        where = ", ".join(part.where for part in group)
        try:
            events.append(_assessment(group))
        except Refused as refusal:
            refused.append(Skip(where, f"the neurological assessment is not used: {refusal.why}", refusal.kind))
    return events, refused


def _assessment(group: list[NeuroPart]) -> NeuroEvent:
    problems = [part.value for part in group if isinstance(part.value, Refused)]
    if problems:
        raise Refused("; ".join(problem.why for problem in problems), problems[0].kind)
    fields: dict[str, int | str] = {}
    items: dict[str, int | str] = {}
    for part in group:
        name = "ice" if part.code == TOTAL else ITEMS.get(part.code) or FINDINGS[part.code][0]
        held = items if part.code in ITEMS else fields
        if name in held and held[name] != part.value:
            raise Refused(f"{part.code} is given twice at one moment ({held[name]} and {part.value})", "invalid_field")
        held[name] = part.value  # type: ignore[assignment]  # Refused was ruled out above
    by = next((part.by for part in group if part.by), None)
    document = {
        "type": "neuro",
        "patient_id": group[0].patient_id,
        "ts": group[0].ts,
        **fields,
        **({"ice_items": items} if items else {}),
        **({"by": by} if by else {}),
    }
    try:
        return NeuroEvent.model_validate(document)
    except ValidationError as error:
        raise Refused(describe_validation_error(error), "invalid_field") from None
