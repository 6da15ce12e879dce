"""ClinicalEvent: context that vital signs alone cannot show (therapy, oxygen, drugs), and the
sparse observations charted beside them (lab results, bedside neurological assessments)."""

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.catalogue import CATALOGUE, LAB_TESTS
from monitor.wire.timestamps import Timestamp
from monitor.wire.vitals import PatientId

Therapy = Literal["car-t", "bispecific", "other-immunotherapy", "infection"]
OxygenDevice = Literal[
    "room_air",
    "blow_by",
    "nasal_cannula",
    "high_flow_nasal_cannula",
    "face_mask",
    "non_rebreather",
    "venturi",
    "cpap",
    "bipap",
    "ventilator",
]
Drug = Literal["tocilizumab", "siltuximab", "corticosteroid", "antipyretic"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    patient_id: PatientId
    ts: Timestamp


class TherapyEvent(_Event):
    """Starts the patient's CRS risk period."""

    type: Literal["therapy"]
    therapy: Therapy


class OxygenEvent(_Event):
    """The latest oxygen event is in force until the next one."""

    type: Literal["oxygen"]
    device: OxygenDevice
    flow_l_min: Annotated[float | None, Field(strict=True, ge=0, le=80)] = None


class VasopressorEvent(_Event):
    """`count` excludes vasopressin, as the ASTCT grading does."""

    type: Literal["vasopressor"]
    count: Annotated[int, Field(strict=True, ge=0, le=10)]
    vasopressin: Annotated[bool, Field(strict=True)] = False


class MedicationEvent(_Event):
    """Anti-cytokine drugs and antipyretics lift ASTCT's fever requirement."""

    type: Literal["medication"]
    drug: Drug


class Spo2TargetEvent(_Event):
    """Scale 2 is for hypercapnic respiratory failure with a prescribed 88–92 % target."""

    type: Literal["spo2_target"]
    scale: Literal[1, 2]


class DischargeEvent(_Event):
    """Ends monitoring: the patient's state is dropped and open alerts resolve."""

    type: Literal["discharge"]


LabTest = Literal[LAB_TESTS]  # type: ignore[valid-type]  # the catalogue's lab tests


class LabEvent(_Event):
    """One lab result. Validated into the test's canonical unit (monitor/catalogue.py), so every
    consumer downstream — engine, status, dashboard — sees one unit per test; the unit it came
    in is kept in `received_unit` for the record."""

    type: Literal["lab"]
    test: LabTest
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    unit: str
    received_unit: Annotated[str | None, Field(max_length=32)] = None

    @model_validator(mode="before")
    @classmethod
    def _in_canonical_unit(cls, data):
        """Accepted units convert; anything else is refused with the units that are accepted."""
        if not isinstance(data, dict):
            return data
        entry = CATALOGUE.get(data.get("test")) if isinstance(data.get("test"), str) else None
        value, spelling = data.get("value"), data.get("unit")
        if entry is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return data  # the field validators name what is wrong with the test or the value
        if not isinstance(spelling, str):
            raise ValueError(f"unit is required for {entry.name}: one of {_accepted(entry)}")
        unit = entry.unit_for(spelling)
        if unit is None:
            raise ValueError(f"unit {spelling!r} is not accepted for {entry.name}: one of {_accepted(entry)}")
        canonical = unit.to_canonical(float(value))
        if not entry.within_bounds(canonical):
            low, high = entry.bounds
            raise ValueError(
                f"{entry.name} {value} {spelling} is outside the plausible bounds {low:g}–{high:g} {entry.unit}"
            )
        # Re-reading our own output converts nothing (the canonical unit is the identity) and
        # keeps the unit it first came in.
        received = data.get("received_unit")
        return {
            **data,
            "value": canonical,
            "unit": entry.unit,
            "received_unit": received if isinstance(received, str) else spelling.strip(),
        }


def _accepted(entry) -> str:
    return ", ".join(spelling for unit in entry.units for spelling in unit.spellings)


Arousal = Literal["alert", "spontaneous", "voice", "touch", "vigorous", "unarousable"]
Seizure = Literal["none", "resolved", "prolonged"]
Motor = Literal["none", "deep_focal_weakness"]
CerebralEdema = Literal["none", "focal", "diffuse"]


class IceItems(BaseModel):
    """The ICE score's five tasks (ASTCT 2019): orientation 4, naming 3, commands, writing and
    attention 1 point each; 10 is normal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    orientation: Annotated[int, Field(strict=True, ge=0, le=4)]
    naming: Annotated[int, Field(strict=True, ge=0, le=3)]
    commands: Annotated[int, Field(strict=True, ge=0, le=1)]
    writing: Annotated[int, Field(strict=True, ge=0, le=1)]
    attention: Annotated[int, Field(strict=True, ge=0, le=1)]

    @property
    def total(self) -> int:
        return self.orientation + self.naming + self.commands + self.writing + self.attention


class NeuroEvent(_Event):
    """One bedside neurological assessment, as the ASTCT 2019 ICANS grading reads it. A field
    left out was not assessed; `ice` is absent when the patient could not be assessed."""

    type: Literal["neuro"]
    ice: Annotated[int | None, Field(strict=True, ge=0, le=10)] = None
    ice_items: IceItems | None = None
    arousal: Arousal | None = None
    seizure: Seizure | None = None
    motor: Motor | None = None
    cerebral_edema: CerebralEdema | None = None
    by: Annotated[str | None, Field(max_length=128)] = None

    @model_validator(mode="after")
    def _items_agree_with_the_total(self):
        if self.ice_items is not None:
            total = self.ice_items.total
            if self.ice is None:
                object.__setattr__(self, "ice", total)
            elif self.ice != total:
                raise ValueError(f"ice {self.ice} disagrees with its items, which add up to {total}")
        return self


ClinicalEvent = Annotated[
    Union[
        TherapyEvent,
        OxygenEvent,
        VasopressorEvent,
        MedicationEvent,
        Spo2TargetEvent,
        DischargeEvent,
        LabEvent,
        NeuroEvent,
    ],
    Field(discriminator="type"),
]

CLINICAL_EVENT_TYPES: tuple[str, ...] = (
    "therapy",
    "oxygen",
    "vasopressor",
    "medication",
    "spo2_target",
    "discharge",
    "lab",
    "neuro",
)
