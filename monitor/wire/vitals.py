"""VitalSigns: one observation set from one patient at one moment."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from monitor.catalogue import CATALOGUE
from monitor.wire.timestamps import Timestamp

PATIENT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"

PatientId = Annotated[str, Field(strict=True, pattern=PATIENT_ID_PATTERN)]

#: Hard physical bounds from the wire contract; outside them a value is a device or gateway
#: error, not a patient state, and the whole message is dead-lettered. Read from the catalogue
#: (monitor/catalogue.py), in the contract's order: name -> (low, high, unit).
HARD_BOUNDS: dict[str, tuple[float, float, str]] = {
    entry.name: (*entry.bounds, entry.unit) for entry in CATALOGUE.of_kind("vital_sign")
}

MEASUREMENTS: tuple[str, ...] = tuple(HARD_BOUNDS)


def _within(name: str):
    low, high, unit = HARD_BOUNDS[name]

    def check(value: float | None) -> float | None:
        if value is not None and not (low <= value <= high):
            raise ValueError(f"{name} {value} outside {low:g}–{high:g} {unit}")
        return value

    return AfterValidator(check)


#: A measurement field, annotated with its bounds (`_within`) and defaulting to None.
_Measurement = Annotated[float | None, Field(strict=True)]


class VitalSigns(BaseModel):
    """A measurement of 0 is kept as 0: it means a probe is off, and the engine treats it as a
    gap in the signal rather than a reading."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    patient_id: PatientId
    ts: Timestamp
    ward: str | None = None
    bed: str | None = None
    source: str | None = None
    heart_rate: Annotated[_Measurement, _within("heart_rate")] = None
    systolic_bp: Annotated[_Measurement, _within("systolic_bp")] = None
    diastolic_bp: Annotated[_Measurement, _within("diastolic_bp")] = None
    mean_arterial_pressure: Annotated[_Measurement, _within("mean_arterial_pressure")] = None
    temperature: Annotated[_Measurement, _within("temperature")] = None
    spo2: Annotated[_Measurement, _within("spo2")] = None
    respiratory_rate: Annotated[_Measurement, _within("respiratory_rate")] = None
    on_oxygen: Annotated[bool | None, Field(strict=True)] = None
    consciousness: Literal["A", "C", "V", "P", "U"] | None = None

    @model_validator(mode="after")
    def _has_a_measurement(self) -> "VitalSigns":
        if all(getattr(self, name) is None for name in MEASUREMENTS):
            raise ValueError("no measurement: at least one of " + ", ".join(MEASUREMENTS) + " is required")
        return self

    def measurements(self) -> dict[str, float]:
        """The measurements present in this set, by name."""
        return {name: value for name in MEASUREMENTS if (value := getattr(self, name)) is not None}
