"""ClinicalEvent: context that vital signs alone cannot show (therapy, oxygen, drugs)."""

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from monitor.wire.timestamps import Timestamp
from monitor.wire.vitals import PatientId

Therapy = Literal["car-t", "bispecific", "other-immunotherapy", "infection"]
OxygenDevice = Literal[
    "room_air", "blow_by", "nasal_cannula", "high_flow_nasal_cannula", "face_mask",
    "non_rebreather", "venturi", "cpap", "bipap", "ventilator",
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


ClinicalEvent = Annotated[
    Union[
        TherapyEvent, OxygenEvent, VasopressorEvent, MedicationEvent, Spo2TargetEvent,
        DischargeEvent,
    ],
    Field(discriminator="type"),
]

CLINICAL_EVENT_TYPES: tuple[str, ...] = (
    "therapy", "oxygen", "vasopressor", "medication", "spo2_target", "discharge",
)
