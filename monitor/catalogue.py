"""Every observation crsmon takes, in one place: the vital signs and the lab tests.

Why one table: the seven vital signs and their words, units and bounds used to be restated in
the wire's bounds, the gateway's vocabulary, the engine's labels, the case report, validate's
column map and the dashboard's JavaScript; adding a lab test meant finding all of them. Each of
those now reads this module (docs/observations.md says who reads what), so an observation is
added here once, with its sources.

What each entry holds: its name on the wire, its words, its canonical unit and the other units
it may arrive in (with the conversion to the canonical one), its LOINC codes, its plausible
bounds (outside them a value is an error of a device or an interface, not a patient state) and
where it goes on a page. Pure data, no I/O: the clinical core and every edge import it.

Sources of the numbers:
- Vital signs: the wire contract (../shared/CONTRACT.md, `VitalSigns`) for units and bounds; the
  LOINC codes of the FHIR R4 vital-signs profile (as the gateway mapped them, docs/ingest.md).
- Labs: the contract's `type: lab` (tests, canonical units, accepted units); conversion factors
  from the SI conversion table of the JAMA/AMA author instructions (Young, Ann Intern Med
  1987;106:114), as the contract restates them; LOINC codes as published by Regenstrief (loinc.org)
  and used in HL7 FHIR value sets (e.g. the CPG CKD value set's 2160-0 / 14682-9 for creatinine).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Literal

Kind = Literal["vital_sign", "lab"]
KINDS: tuple[Kind, ...] = ("vital_sign", "lab")


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit an observation may arrive in, and how a value in it becomes the canonical unit:
    `(value + shift) * multiply / divide`, rounded to `digits` decimals when given.

    Written as a multiplication and a division, not as one factor, because the sources give the
    factor one way or the other (creatinine µmol/L ÷ 88.4, CRP mg/dL × 10) and a value converted
    here must be the very float the source's arithmetic gives. `spellings[0]` is the UCUM code;
    the others are how people and interfaces write the same unit.
    """

    spellings: tuple[str, ...]
    multiply: float = 1.0
    divide: float = 1.0
    shift: float = 0.0
    digits: int | None = None

    @property
    def ucum(self) -> str:
        return self.spellings[0]

    @property
    def is_identity(self) -> bool:
        return self.shift == 0 and self.multiply == 1 and self.divide == 1

    def to_canonical(self, value: float) -> float:
        """`value`, given in this unit, in the observation's canonical unit."""
        if self.is_identity:
            return value
        converted = (value + self.shift) * self.multiply / self.divide
        return converted if self.digits is None else round(converted, self.digits)


@dataclass(frozen=True, slots=True)
class Loinc:
    """A LOINC code that names the observation. `rank` settles two sources of one measurement
    at one moment, lower first (an ECG heart rate before a pulse-oximeter rate)."""

    code: str
    rank: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing crsmon observes.

    `label` is how a sentence names it ("systolic BP 88 mmHg" in an alert's reasons);
    `short_label` how a tile or an axis does ("Sys BP"). `unit` is the canonical unit as the
    contract and people write it; `units[0]` is the same unit in UCUM, and every value is kept
    in it. `bounds` are inclusive. `digits` is the precision a value is shown with.
    """

    name: str
    kind: Kind
    label: str
    short_label: str
    unit: str
    units: tuple[Unit, ...]
    loinc: tuple[Loinc, ...]
    bounds: tuple[float, float]
    bounds_source: str
    display_order: int
    digits: int

    @property
    def ucum(self) -> str:
        """The canonical unit's UCUM code."""
        return self.units[0].ucum

    def unit_for(self, spelling: str) -> Unit | None:
        """The accepted unit written `spelling` (surrounding blanks ignored), or None."""
        spelling = spelling.strip()
        return next((unit for unit in self.units if spelling in unit.spellings), None)

    def within_bounds(self, value: float) -> bool:
        low, high = self.bounds
        return low <= value <= high

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "short_label": self.short_label,
            "unit": self.unit,
            "ucum": self.ucum,
            "digits": self.digits,
            "display_order": self.display_order,
            "bounds": list(self.bounds),
            "loinc": [loinc.code for loinc in self.loinc],
            "units": [
                {
                    "ucum": unit.ucum,
                    "spellings": list(unit.spellings),
                    "multiply": unit.multiply,
                    "divide": unit.divide,
                    "shift": unit.shift,
                }
                for unit in self.units
            ],
        }


@dataclass(frozen=True)
class Catalogue:
    """The observations, with lookups by name and by LOINC code.

    A catalogue checks itself when made (names and codes unique, the canonical unit first and
    an identity), so a wrong entry fails at import, not on a ward.
    """

    observations: tuple[Observation, ...]
    _by_name: dict[str, Observation] = field(init=False, repr=False, compare=False)
    _by_loinc: dict[str, Observation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Observation] = {}
        by_loinc: dict[str, Observation] = {}
        for entry in self.observations:
            if entry.name in by_name:
                raise ValueError(f"observation {entry.name!r} is in the catalogue twice")
            if not entry.units or not entry.units[0].is_identity:
                raise ValueError(f"{entry.name}: the first unit must be the canonical one (no conversion)")
            if entry.kind not in KINDS:
                raise ValueError(f"{entry.name}: kind {entry.kind!r} is not one of {', '.join(KINDS)}")
            by_name[entry.name] = entry
            for loinc in entry.loinc:
                if loinc.code in by_loinc:
                    raise ValueError(f"LOINC {loinc.code} names both {by_loinc[loinc.code].name} and {entry.name}")
                by_loinc[loinc.code] = entry
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_loinc", by_loinc)

    def __getitem__(self, name: str) -> Observation:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{name!r} is not an observation crsmon takes; known: " + ", ".join(self._by_name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.observations)

    def get(self, name: str) -> Observation | None:
        return self._by_name.get(name)

    def by_loinc(self, code: str) -> Observation | None:
        """The observation a LOINC code names, or None when crsmon does not take it."""
        return self._by_loinc.get(code.strip())

    def of_kind(self, kind: Kind) -> tuple[Observation, ...]:
        """The observations of one kind, in catalogue order."""
        return tuple(entry for entry in self.observations if entry.kind == kind)

    def names(self, kind: Kind | None = None) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.observations if kind is None or entry.kind == kind)

    def in_display_order(self, kind: Kind | None = None) -> tuple[Observation, ...]:
        chosen: Iterable[Observation] = self.observations if kind is None else self.of_kind(kind)
        return tuple(sorted(chosen, key=lambda entry: entry.display_order))

    def with_observation(self, entry: Observation) -> "Catalogue":
        """A copy with one more observation (how a test or a site extension adds one)."""
        return Catalogue((*self.observations, entry))

    def to_json(self) -> dict[str, Any]:
        """The catalogue as the dashboard reads it: plain JSON types, in display order."""
        return {"observations": [entry.to_json() for entry in self.in_display_order()]}


# --- units --------------------------------------------------------------------------------------
# Spellings: the UCUM code first (UCUM writes micro as "u", powers as "10*9", annotations in
# braces, which do not change a unit's meaning), then what people and interfaces write.

_PER_MINUTE = Unit(
    (
        "/min",
        "1/min",
        "min-1",
        "{beats}/min",
        "{beat}/min",
        "{breaths}/min",
        "{breath}/min",
        "{resp}/min",
        "bpm",
        "beats/min",
        "breaths/min",
    )
)
_MMHG = Unit(("mm[Hg]", "mmHg", "mm Hg"))
# 1 kPa = 7.500617 mmHg (1 mmHg = 133.322 Pa, the BIPM SI brochure's non-SI units); to 0.1 mmHg.
_KPA_TO_MMHG = Unit(("kPa",), multiply=7.500617, digits=1)
_PERCENT = Unit(("%",))
_CELSIUS = Unit(("Cel", "°C", "degC"))
# °C = (°F − 32) × 5 / 9, rounded to 0.01 °C.
_FAHRENHEIT = Unit(("[degF]", "°F", "degF"), shift=-32.0, multiply=5.0, divide=9.0, digits=2)

_MG_PER_DL = ("mg/dL", "mg/dl")
_UMOL_PER_L = ("umol/L", "µmol/L", "μmol/L", "umol/l", "µmol/l", "μmol/l")  # µ: U+00B5 and U+03BC
_PER_NANOLITRE = ("10*9/L", "10^9/L", "x10^9/L", "×10⁹/L", "10E9/L", "G/L", "/nL")
_PER_MICROLITRE_THOUSANDS = (
    "10*3/uL",
    "10^3/uL",
    "10^3/µL",
    "10^3/μL",
    "x10^3/uL",
    "10E3/uL",
    "K/uL",
    "K/µL",
    "K/μL",
    "k/uL",
)
_UNITS_PER_LITRE = ("U/L", "u/L")
_INTERNATIONAL_UNITS_PER_LITRE = ("[IU]/L", "IU/L")

# Counts: 10^3/µL is 10^3 per 10^-6 L = 10^9/L, the same number (JAMA SI table: factor 1.0).
_COUNTS = (Unit(_PER_NANOLITRE), Unit(_PER_MICROLITRE_THOUSANDS))
# Enzyme activity: the IU and the U are the same unit, 1 µmol/min (IFCC; JAMA SI table: 1.0).
_ACTIVITY = (Unit(_UNITS_PER_LITRE), Unit(_INTERNATIONAL_UNITS_PER_LITRE))


def _vital(
    name: str,
    label: str,
    short_label: str,
    unit: str,
    units: tuple[Unit, ...],
    loinc: tuple[Loinc, ...],
    bounds: tuple[float, float],
    display_order: int,
    digits: int = 0,
) -> Observation:
    return Observation(
        name,
        "vital_sign",
        label,
        short_label,
        unit,
        units,
        loinc,
        bounds,
        "the wire contract's hard bounds (CONTRACT.md, VitalSigns)",
        display_order,
        digits,
    )


def _lab(
    name: str,
    label: str,
    short_label: str,
    unit: str,
    units: tuple[Unit, ...],
    loinc: tuple[Loinc, ...],
    bounds: tuple[float, float],
    bounds_source: str,
    display_order: int,
    digits: int,
) -> Observation:
    return Observation(
        name, "lab", label, short_label, unit, units, loinc, bounds, bounds_source, display_order, digits
    )


# The vital signs in the wire contract's order: the engine keeps its per-measurement lists in
# this order (monitor/parameters.py), so it is not to be changed. `display_order` is the page's.
VITAL_SIGN_ENTRIES: tuple[Observation, ...] = (
    _vital(
        "heart_rate",
        "heart rate",
        "HR",
        "/min",
        (_PER_MINUTE,),
        (Loinc("8867-4"), Loinc("8889-8", 2, "heart rate by pulse oximetry")),
        (0, 350),
        2,
    ),
    _vital("systolic_bp", "systolic BP", "Sys BP", "mmHg", (_MMHG, _KPA_TO_MMHG), (Loinc("8480-6"),), (0, 300), 3),
    _vital("diastolic_bp", "diastolic BP", "Dia BP", "mmHg", (_MMHG, _KPA_TO_MMHG), (Loinc("8462-4"),), (0, 300), 4),
    _vital(
        "mean_arterial_pressure",
        "mean arterial pressure",
        "MAP",
        "mmHg",
        (_MMHG, _KPA_TO_MMHG),
        (Loinc("8478-0"),),
        (0, 300),
        5,
    ),
    _vital(
        "temperature",
        "temperature",
        "Temp",
        "°C",
        (_CELSIUS, _FAHRENHEIT),
        (
            Loinc("8310-5"),
            Loinc("8331-1", note="oral"),
            Loinc("8328-7", note="axillary"),
            Loinc("8332-9", note="rectal"),
            Loinc("8333-7", note="tympanic membrane"),
        ),
        (20, 45),
        1,
        digits=1,
    ),
    _vital(
        "spo2",
        "SpO2",
        "SpO₂",
        "%",
        (_PERCENT,),
        (
            Loinc("59408-5"),
            Loinc("2708-6", note="the FHIR R4 vital-signs profile's SpO2 code"),
            Loinc("2710-2", 1, "oxygen saturation by oximetry"),
        ),
        (0, 100),
        6,
    ),
    _vital("respiratory_rate", "respiratory rate", "RR", "/min", (_PER_MINUTE,), (Loinc("9279-1"),), (0, 120), 7),
)

# Lab bounds are wide on purpose: they catch a value in the wrong unit or a typing error, never a
# sick patient. Where the ICU set has the test, the bound is several times the largest value in
# its 3,072 stays (../shared/data, PhysioNet/CinC 2019 training set B); elsewhere a judgement,
# written down. They are not reference ranges (those are the local laboratory's, configuration).
_PHYSIONET_MAX = "several times the largest of the PhysioNet 2019 set B stays"

LAB_ENTRIES: tuple[Observation, ...] = (
    _lab(
        "creatinine",
        "creatinine",
        "Creat",
        "mg/dL",
        # 1 mg/dL = 88.4 µmol/L (molar mass 113.12 g/mol; JAMA SI table; CLINICAL.md's KDIGO
        # 0.3 mg/dL = 26.5 µmol/L, 4.0 mg/dL = 353.6 µmol/L). 26.5 µmol/L → 0.2998 mg/dL.
        (Unit(_MG_PER_DL), Unit(_UMOL_PER_L, divide=88.4, digits=4)),
        (
            Loinc("2160-0", note="mass/volume in serum or plasma"),
            Loinc("14682-9", note="moles/volume in serum or plasma"),
            Loinc("38483-4", 1, "mass/volume in blood"),
            Loinc("77140-2", 1, "moles/volume in serum, plasma or blood"),
        ),
        (0, 40),
        f"{_PHYSIONET_MAX} (20.8 mg/dL)",
        11,
        2,
    ),
    _lab(
        "bilirubin",
        "bilirubin",
        "Bili",
        "mg/dL",
        # 1 mg/dL = 17.1 µmol/L (molar mass 584.66 g/mol; JAMA SI table).
        (Unit(_MG_PER_DL), Unit(_UMOL_PER_L, divide=17.1, digits=3)),
        (
            Loinc("1975-2", note="total, mass/volume in serum or plasma"),
            Loinc("14631-6", note="total, moles/volume in serum or plasma"),
            Loinc("42719-5", 1, "total, mass/volume in blood"),
        ),
        (0, 100),
        f"{_PHYSIONET_MAX} (49.6 mg/dL)",
        12,
        1,
    ),
    _lab(
        "alt",
        "ALT",
        "ALT",
        "U/L",
        _ACTIVITY,
        (
            Loinc("1742-6", note="enzymatic activity/volume in serum or plasma"),
            Loinc("1743-4", 1, "with P-5'-P"),
            Loinc("1744-2", 1, "without P-5'-P"),
        ),
        (0, 50_000),
        "judgement: ischaemic hepatitis reaches thousands; AST in set B up to 9,961 U/L",
        13,
        0,
    ),
    _lab(
        "ast",
        "AST",
        "AST",
        "U/L",
        _ACTIVITY,
        (Loinc("1920-8", note="enzymatic activity/volume in serum or plasma"),),
        (0, 50_000),
        f"{_PHYSIONET_MAX} (9,961 U/L)",
        14,
        0,
    ),
    _lab(
        "platelets",
        "platelets",
        "Plt",
        "10^9/L",
        _COUNTS,
        (Loinc("777-3", note="#/volume in blood by automated count"), Loinc("26515-7", 1, "#/volume in blood")),
        (0, 5_000),
        f"{_PHYSIONET_MAX} (965 ×10⁹/L); extreme thrombocytosis exceeds 2,000",
        15,
        0,
    ),
    _lab(
        "wbc",
        "white cells",
        "WBC",
        "10^9/L",
        _COUNTS,
        (
            Loinc("6690-2", note="leukocytes #/volume in blood by automated count"),
            Loinc("26464-8", 1, "leukocytes #/volume in blood"),
        ),
        (0, 1_000),
        f"{_PHYSIONET_MAX} (169.7 ×10⁹/L); leukaemic hyperleukocytosis exceeds 500",
        16,
        1,
    ),
    _lab(
        "neutrophils",
        "neutrophils",
        "Neut",
        "10^9/L",
        _COUNTS,
        (Loinc("751-8", note="#/volume in blood by automated count"), Loinc("26499-4", 1, "#/volume in blood")),
        (0, 1_000),
        "as white cells (a part of them)",
        17,
        2,
    ),
    _lab(
        "fibrinogen",
        "fibrinogen",
        "Fib",
        "mg/dL",
        # 1 g/L = 100 mg/dL (JAMA SI table: mg/dL × 0.01 = g/L).
        (Unit(_MG_PER_DL), Unit(("g/L", "g/l"), multiply=100.0, digits=1)),
        (Loinc("3255-7", note="mass/volume in platelet poor plasma by coagulation assay"),),
        (0, 3_000),
        f"{_PHYSIONET_MAX} (1,179 mg/dL)",
        18,
        0,
    ),
    _lab(
        "crp",
        "CRP",
        "CRP",
        "mg/L",
        # 1 mg/dL = 10 mg/L (JAMA SI table).
        (Unit(("mg/L", "mg/l")), Unit(_MG_PER_DL, multiply=10.0, digits=2)),
        (Loinc("1988-5", note="mass/volume in serum or plasma"), Loinc("30522-7", 1, "high-sensitivity method")),
        (0, 1_000),
        "judgement: assays report up to about 500 mg/L; above 1,000 is an error",
        19,
        1,
    ),
    _lab(
        "ferritin",
        "ferritin",
        "Ferritin",
        "ng/mL",
        # 1 ng/mL = 1 µg/L (same mass per volume).
        (Unit(("ng/mL", "ng/ml")), Unit(("ug/L", "µg/L", "μg/L", "ug/l", "µg/l"))),
        (Loinc("2276-4", note="mass/volume in serum or plasma"),),
        (0, 1_000_000),
        "judgement: HLH-like syndromes reach the hundreds of thousands",
        20,
        0,
    ),
    _lab(
        "il6",
        "IL-6",
        "IL-6",
        "pg/mL",
        # 1 pg/mL = 1 ng/L (same mass per volume).
        (Unit(("pg/mL", "pg/ml")), Unit(("ng/L", "ng/l"))),
        (Loinc("26881-3", note="mass/volume in serum or plasma"),),
        (0, 1_000_000),
        "judgement: severe CRS and IL-6 after tocilizumab reach the tens of thousands",
        21,
        1,
    ),
    _lab(
        "ldh",
        "LDH",
        "LDH",
        "U/L",
        _ACTIVITY,
        (
            Loinc("2532-0", note="lactate dehydrogenase, enzymatic activity/volume in serum or plasma"),
            Loinc("14804-9", 1, "by lactate to pyruvate reaction"),
        ),
        (0, 100_000),
        "judgement: tumour lysis and HLH reach the tens of thousands",
        22,
        0,
    ),
    _lab(
        "lactate",
        "lactate",
        "Lactate",
        "mmol/L",
        # 1 mmol/L = 9.01 mg/dL (molar mass 90.08 g/mol; JAMA SI table: mg/dL × 0.111 = mmol/L).
        (Unit(("mmol/L", "mmol/l")), Unit(_MG_PER_DL, divide=9.01, digits=3)),
        (Loinc("2524-7", note="moles/volume in serum or plasma"), Loinc("32693-4", note="moles/volume in blood")),
        (0, 50),
        f"{_PHYSIONET_MAX} (19.7 mmol/L)",
        23,
        1,
    ),
)

CATALOGUE = Catalogue((*VITAL_SIGN_ENTRIES, *LAB_ENTRIES))

#: The vital signs' names, in the wire contract's order.
VITAL_SIGNS: tuple[str, ...] = CATALOGUE.names("vital_sign")
#: The lab tests' names, as the contract's `type: lab` lists them.
LAB_TESTS: tuple[str, ...] = CATALOGUE.names("lab")


def observation(name: str) -> Observation:
    """The catalogue's entry for `name` (KeyError naming the known ones when there is none)."""
    return CATALOGUE[name]


def by_loinc(code: str) -> Observation | None:
    """The observation a LOINC code names, or None."""
    return CATALOGUE.by_loinc(code)


def to_json() -> dict[str, Any]:
    """The catalogue as JSON-ready data, for the dashboard."""
    return CATALOGUE.to_json()
