"""From single observations to the contract's VitalSigns: one per patient and moment.

Both codecs reduce a message to Readings (one number of one patient at one time) and Skips
(observations left out, each with why). Merging is shared so that HL7 v2 and FHIR settle the
same questions the same way: several observations of one patient at one time become one
VitalSigns; two sources of one measurement at one time are settled by the code's rank.

Lab results and neurological assessments travel beside them as ClinicalEvents (`events`), and
those of their observations that cannot be used as `refused` Skips: a lab report is not thrown
away whole for one result in an unknown unit, but the refused results are dead-lettered so that
someone fixes the interface (gateway/intake.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from monitor.wire import InvalidMessage, LabEvent, NeuroEvent, VitalSigns
from monitor.wire.codec import invalid


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one patient at one moment, already in the contract's unit."""

    patient_id: str
    ts: datetime
    measurement: str
    value: float
    rank: int
    where: str  # e.g. "OBX #3 (segment 7)": names the observation in reasons, never the patient
    ward: str | None = None
    bed: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """An observation that was read and deliberately not used.

    `kind` is one of a few fixed words (`not_used`, `not_final`, `no_value`, `superseded`,
    `code_mismatch`; for refused lab and neuro observations `unknown_test`, `unit`,
    `out_of_bounds`, `censored`, `invalid_field`, `no_patient`, `timestamp`) that a metric may
    use as a label.
    """

    where: str
    why: str
    kind: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}"


#: Skips a sender is told about (in ACK warnings or OperationOutcome issues). Parameters that
#: crsmon does not use and duplicates of a better source are routine and only counted.
TOLD_KINDS = frozenset({"not_final", "no_value", "code_mismatch"})


ClinicalEvents = tuple[LabEvent | NeuroEvent, ...]


@dataclass(frozen=True)
class Decoded:
    """What a message turned into: the VitalSigns and ClinicalEvents to publish, what was left
    out (`skipped`), and the lab and neuro observations refused (`refused`, dead-lettered)."""

    vitals: tuple[VitalSigns, ...]
    skipped: tuple[Skip, ...] = field(default_factory=tuple)
    events: ClinicalEvents = field(default_factory=tuple)
    refused: tuple[Skip, ...] = field(default_factory=tuple)

    def warnings(self) -> list[str]:
        """The skips worth telling the sender, and every refused observation, as text."""
        return [str(skip) for skip in self.skipped if skip.kind in TOLD_KINDS] + [
            f"{skip} (not used; sent to dead-letters)" for skip in self.refused
        ]

    def refusal_reason(self) -> str:
        """The dead letter's reason for the refused observations of a message otherwise used."""
        return "; ".join(str(skip) for skip in self.refused)

    def values_used(self) -> int:
        """How many measurements the published VitalSigns hold."""
        return sum(len(vitals.measurements()) for vitals in self.vitals)


class Problems:
    """The errors found in one message, gathered so that a sender learns all of them at once."""

    _LIMIT = 8

    def __init__(self) -> None:
        self._found: list[InvalidMessage] = []

    def add(self, where: str, error: InvalidMessage) -> None:
        self._found.append(InvalidMessage(f"{where}: {error.reason}" if where else error.reason, error.kind))

    def raise_any(self) -> None:
        """Raise one InvalidMessage naming every problem (the first one's kind), if any."""
        if not self._found:
            return
        reasons = [problem.reason for problem in self._found[: self._LIMIT]]
        if len(self._found) > self._LIMIT:
            reasons.append(f"and {len(self._found) - self._LIMIT} more")
        raise InvalidMessage("; ".join(reasons), self._found[0].kind)


def merge(
    readings: list[Reading],
    skipped: list[Skip],
    nothing_found: str,
    events: ClinicalEvents = (),
    refused: tuple[Skip, ...] = (),
) -> Decoded:
    """One VitalSigns per patient and moment, in the order the moments first appear, with the
    message's ClinicalEvents and refused observations.

    A message with no reading and no event at all is rejected with `nothing_found` plus the
    skips: a gateway sending only parameters crsmon does not use is misconfigured, and its
    messages must not vanish silently. When its only usable-looking observations were refused,
    the message is rejected with their reasons (the whole message is then the dead letter).
    """
    if not readings and not events and refused:
        _reject_refused(refused)
    if not readings and not events:
        detail = "; ".join(str(skip) for skip in skipped[:8])
        raise InvalidMessage(f"{nothing_found}{' (' + detail + ')' if detail else ''}", "no_vital_signs")
    groups: dict[tuple[str, datetime], dict[str, Reading]] = {}
    skipped = list(skipped)
    for reading in readings:
        chosen = groups.setdefault((reading.patient_id, reading.ts), {})
        held = chosen.get(reading.measurement)
        if held is None or reading.rank < held.rank:
            chosen[reading.measurement] = reading
            if held is not None:
                skipped.append(_superseded(held, reading))
        else:
            skipped.append(_superseded(reading, held))
    return Decoded(
        tuple(_vital_signs(chosen) for chosen in groups.values()), tuple(skipped), tuple(events), tuple(refused)
    )


def _reject_refused(refused: tuple[Skip, ...]) -> None:
    problems = Problems()
    for skip in refused:
        problems.add(skip.where, InvalidMessage(skip.why, skip.kind))
    problems.raise_any()


def _superseded(loser: Reading, winner: Reading) -> Skip:
    return Skip(
        loser.where,
        f"{loser.measurement} {loser.value:g} superseded by {winner.where} ({winner.value:g}) at the same time",
        "superseded",
    )


def _vital_signs(chosen: dict[str, Reading]) -> VitalSigns:
    first = next(iter(chosen.values()))
    document = {
        "patient_id": first.patient_id,
        "ts": first.ts,
        "ward": first.ward,
        "bed": first.bed,
        "source": first.source,
        **{name: reading.value for name, reading in chosen.items()},
    }
    try:
        return VitalSigns.model_validate(document)
    except ValidationError as error:
        culprits = {str(item["loc"][0]) for item in error.errors(include_url=False) if item["loc"]}
        where = ", ".join(chosen[name].where for name in chosen if name in culprits)
        rejected = invalid(error)
        raise InvalidMessage(f"{where}: {rejected.reason}" if where else rejected.reason, rejected.kind) from None
