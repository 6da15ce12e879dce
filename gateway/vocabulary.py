"""The codes and units of vital signs that crsmon understands, in IEEE 11073 MDC, LOINC and UCUM.

One table for both HL7 v2 and FHIR, because bedside monitors and their gateways use the same
nomenclature in either format. A code that is not here is not an error: monitors send many
parameters (pulmonary pressures, PVC counts, waveforms) that the early-warning scores do not use.

Codes and reference ids follow ISO/IEEE 11073-10101 and the LOINC codes of the FHIR R4
vital-signs profile; see docs/ingest.md for the list with their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from monitor.catalogue import CATALOGUE


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one observation code measures.

    `rank` settles two sources of one measurement at one moment, lower first: an ECG heart rate
    before a pulse rate, an arterial line before a cuff, a body-site temperature before a
    temperature of unspecified site.
    """

    measurement: str
    rank: int
    name: str


def _mdc(rows: list[tuple[int, str, str, int]]) -> tuple[dict[str, Meaning], dict[str, Meaning]]:
    by_code = {str(code): Meaning(measurement, rank, ref_id) for code, ref_id, measurement, rank in rows}
    by_ref_id = {meaning.name: meaning for meaning in by_code.values()}
    return by_code, by_ref_id


MDC_CODES, MDC_REFERENCE_IDS = _mdc(
    [
        (147842, "MDC_ECG_HEART_RATE", "heart_rate", 0),
        (149522, "MDC_BLD_PULS_RATE_INV", "heart_rate", 1),
        (149514, "MDC_PULS_RATE", "heart_rate", 2),
        (149530, "MDC_PULS_OXIM_PULS_RATE", "heart_rate", 2),
        (149546, "MDC_PULS_RATE_NON_INV", "heart_rate", 2),
        (149562, "MDC_PALPATION_HEART_RATE", "heart_rate", 2),
        (149554, "MDC_TTHOR_HEART_RATE", "heart_rate", 3),
        (150456, "MDC_PULS_OXIM_SAT_O2", "spo2", 0),
        (150324, "MDC_SAT_O2_ART", "spo2", 1),
        (150033, "MDC_PRESS_BLD_ART_SYS", "systolic_bp", 0),
        (150034, "MDC_PRESS_BLD_ART_DIA", "diastolic_bp", 0),
        (150035, "MDC_PRESS_BLD_ART_MEAN", "mean_arterial_pressure", 0),
        (150037, "MDC_PRESS_BLD_ART_ABP_SYS", "systolic_bp", 0),
        (150038, "MDC_PRESS_BLD_ART_ABP_DIA", "diastolic_bp", 0),
        (150039, "MDC_PRESS_BLD_ART_ABP_MEAN", "mean_arterial_pressure", 0),
        (150021, "MDC_PRESS_BLD_NONINV_SYS", "systolic_bp", 1),
        (150022, "MDC_PRESS_BLD_NONINV_DIA", "diastolic_bp", 1),
        (150023, "MDC_PRESS_BLD_NONINV_MEAN", "mean_arterial_pressure", 1),
        (150364, "MDC_TEMP_BODY", "temperature", 0),
        (150368, "MDC_TEMP_CORE", "temperature", 0),
        (150392, "MDC_TEMP_TYMP", "temperature", 0),
        (188420, "MDC_TEMP_RECT", "temperature", 0),
        (188424, "MDC_TEMP_ORAL", "temperature", 0),
        (188428, "MDC_TEMP_EAR", "temperature", 0),
        (188452, "MDC_TEMP_AXILLA", "temperature", 0),
        (188456, "MDC_TEMP_GIT", "temperature", 0),
        (150344, "MDC_TEMP", "temperature", 1),
        (151562, "MDC_RESP_RATE", "respiratory_rate", 0),
        (151570, "MDC_AWAY_RESP_RATE", "respiratory_rate", 1),
        (151578, "MDC_TTHOR_RESP_RATE", "respiratory_rate", 1),
        (151594, "MDC_CO2_RESP_RATE", "respiratory_rate", 1),
        (151650, "MDC_ACOUSTIC_RESP_RATE", "respiratory_rate", 1),
        (151602, "MDC_PRESS_RESP_RATE", "respiratory_rate", 2),
        (151658, "MDC_PULS_OXIM_PLETH_RESP_RATE", "respiratory_rate", 2),
    ]
)

#: LOINC codes of the vital signs, from the catalogue (monitor/catalogue.py). Lab tests are not
#: here: a lab result is a `type: lab` ClinicalEvent, read by gateway/lab_results.py.
LOINC_CODES: dict[str, Meaning] = {
    loinc.code: Meaning(entry.name, loinc.rank, loinc.code)
    for entry in CATALOGUE.of_kind("vital_sign")
    for loinc in entry.loinc
}

#: Codes of groups whose values are in their parts (FHIR components, PCD-01 child OBX rows):
#: they carry no value of their own and are not worth a note when they have none.
PANEL_CODES: frozenset[str] = frozenset(
    {
        "85354-9",
        "55284-4",
        "85353-1",  # LOINC blood pressure panels, vital signs panel
        "150020",
        "150032",
        "150036",  # MDC NIBP, arterial pressure, ABP groups
        "MDC_PRESS_BLD_NONINV",
        "MDC_PRESS_BLD_ART",
        "MDC_PRESS_BLD_ART_ABP",
    }
)

MDC_SYSTEMS = frozenset({"MDC", "urn:iso:std:iso:11073:10101"})
LOINC_SYSTEMS = frozenset({"LN", "LOINC", "http://loinc.org"})


def meaning_of(code: str, system: str, text: str = "") -> Meaning | None:
    """The measurement a coded observation is, or None when crsmon does not use it.

    An empty system is tolerated (MDC codes are integers and LOINC codes have a check digit
    after a dash, so they cannot be mistaken for each other). Some gateways put a private
    number in the code and the MDC reference id in the text (`1^MDC_ECG_HEART_RATE^MDC`), so
    the text is read as a reference id, but only when the code is not itself a full 32-bit MDC
    code: `1500212^MDC_PRESS_BLD_NONINV_SYS` contradicts itself, and a value whose identity
    is in doubt is not used (see `contradicted_by_text`).
    """
    code, system, text = code.strip(), system.strip(), text.strip()
    if system in MDC_SYSTEMS or not system:
        found = MDC_CODES.get(code) or MDC_REFERENCE_IDS.get(code)
        if found is None and not _full_mdc_code(code):
            found = MDC_REFERENCE_IDS.get(text)
        if found:
            return found
    if system in LOINC_SYSTEMS or not system:
        return LOINC_CODES.get(code)
    return None


def contradicted_by_text(code: str, system: str, text: str) -> Meaning | None:
    """The vital sign that the text names when the code, an MDC code, says something else."""
    code, system, text = code.strip(), system.strip(), text.strip()
    if (system in MDC_SYSTEMS or not system) and _full_mdc_code(code) and code not in MDC_CODES:
        return MDC_REFERENCE_IDS.get(text)
    return None


def mdc_code_of(meaning: Meaning) -> str:
    """The numeric MDC code of a meaning read from the MDC table."""
    return next(code for code, found in MDC_CODES.items() if found is meaning)


def _full_mdc_code(code: str) -> bool:
    return code.isdigit() and int(code) >= 65536  # partition << 16 | term code


# --- units ------------------------------------------------------------------------------------
# The catalogue holds each measurement's units (UCUM and the spellings people use) and their
# conversions; the IEEE 11073 MDC unit codes are the gateway's, added here per UCUM unit.

Convert = Callable[[float], float]

#: MDC dimension codes (numeric and reference id) for (measurement, UCUM unit). A heart rate
#: and a respiratory rate are both "/min" in UCUM but have distinct MDC units.
_MDC_UNITS: dict[tuple[str, str], frozenset[str]] = {
    ("heart_rate", "/min"): frozenset({"264864", "MDC_DIM_BEAT_PER_MIN"}),
    ("respiratory_rate", "/min"): frozenset({"264928", "MDC_DIM_RESP_PER_MIN"}),
    ("spo2", "%"): frozenset({"262688", "MDC_DIM_PERCENT"}),
    **{
        (pressure, "mm[Hg]"): frozenset({"266016", "MDC_DIM_MMHG"})
        for pressure in ("systolic_bp", "diastolic_bp", "mean_arterial_pressure")
    },
    **{
        (pressure, "kPa"): frozenset({"MDC_DIM_KILO_PASCAL"})
        for pressure in ("systolic_bp", "diastolic_bp", "mean_arterial_pressure")
    },
    ("temperature", "Cel"): frozenset({"268192", "MDC_DIM_DEGC"}),
    ("temperature", "[degF]"): frozenset({"266560", "MDC_DIM_FAHR"}),
}

#: For each measurement, the units it may arrive in and how each becomes the contract's unit.
UNITS: dict[str, list[tuple[frozenset[str], Convert]]] = {
    entry.name: [
        (frozenset(unit.spellings) | _MDC_UNITS.get((entry.name, unit.ucum), frozenset()), unit.to_canonical)
        for unit in entry.units
    ]
    for entry in CATALOGUE.of_kind("vital_sign")
}

#: What a sender is told a measurement needs when its unit is not understood: the UCUM codes.
CONTRACT_UNITS = {
    entry.name: " or ".join(unit.ucum for unit in entry.units) for entry in CATALOGUE.of_kind("vital_sign")
}


def converter_for(measurement: str, unit_codes: list[str]) -> Convert | None:
    """How to bring a value in one of `unit_codes` (the code, the text, an MDC reference id: any
    spelling the sender gave) into the contract's unit for `measurement`; None if none fits."""
    for spelling in unit_codes:
        spelling = spelling.strip()
        for accepted, convert in UNITS[measurement]:
            if spelling in accepted:
                return convert
    return None
