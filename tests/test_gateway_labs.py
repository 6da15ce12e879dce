"""Lab results through the gateway: HL7 v2 ORU^R01 and FHIR R4 laboratory Observations to the
contract's `type: lab` ClinicalEvents, and what is refused (dead-lettered) and why.

The messages in tests/clinical_messages/ were written for this project (they are not copied from
/work/shared/samples, which holds only vital signs): a US chemistry panel and CBC in
conventional units, a European report in SI units with the usual troubles (a censored CRP, a
preliminary IL-6, a lactate typed in the wrong unit, a clotted platelet count), and a FHIR
transaction Bundle of laboratory Observations. Expected values were worked out by hand from the
conversion factors the contract gives (creatinine µmol/L ÷ 88.4, bilirubin µmol/L ÷ 17.1,
fibrinogen g/L × 100, 10^3/µL = 10^9/L).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway import acknowledge, decode_fhir, decode_oru, success_outcome
from monitor.catalogue import CATALOGUE
from monitor.engine import Engine
from monitor.wire import InvalidMessage, LabEvent, decode_input, encode
from tests.conftest import SAMPLES

UTC = timezone.utc
MESSAGES = Path(__file__).parent / "clinical_messages"
CHEMISTRY = "oru_r01_chemistry_and_cbc.hl7"
SI_REPORT = "oru_r01_si_units_and_refusals.hl7"
LAB_BUNDLE = "fhir_r4_laboratory_bundle.json"


def message(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def edited(name: str, old: str, new: str) -> bytes:
    raw = message(name).decode("latin-1")
    assert raw.count(old) == 1, f"{old!r} is not unique in {name}"
    return raw.replace(old, new).encode("latin-1")


def labs(decoded) -> list[tuple[str, float, str | None]]:
    return [(event.test, event.value, event.received_unit) for event in decoded.events]


def refused(decoded) -> list[tuple[str, str]]:
    return [(skip.where.split(" (")[0].split(" Observation")[0], skip.kind) for skip in decoded.refused]


def bundle() -> dict[str, Any]:
    return json.loads(message(LAB_BUNDLE))


def entry(document: dict[str, Any], loinc: str) -> dict[str, Any]:
    return next(
        item["resource"]
        for item in document["entry"]
        if item["resource"]["resourceType"] == "Observation" and item["resource"]["code"]["coding"][0]["code"] == loinc
    )


# --- HL7 v2 -------------------------------------------------------------------------------------


def test_a_chemistry_panel_and_cbc_give_one_lab_event_per_known_test_at_the_collection_time() -> None:
    decoded = decode_oru(message(CHEMISTRY))
    assert decoded.vitals == ()
    assert labs(decoded) == [
        ("creatinine", 2.1, "mg/dL"),
        ("alt", 48.0, "U/L"),
        ("ldh", 612.0, "U/L"),
        ("crp", 87.5, "mg/L"),  # SN with no comparator: ^87.5 is a plain number
        ("ferritin", 1840.0, "ng/mL"),
        ("platelets", 62.0, "10*9/L"),
        ("wbc", 3.4, "10*3/uL"),  # 10^3/µL is 10^9/L: the same number
        ("neutrophils", 2.1, "10*9/L"),
    ]
    assert {event.unit for event in decoded.events if event.test in ("platelets", "wbc")} == {"10^9/L"}
    # OBR-7 is the specimen's collection time, 05:40 at -0500: the time a lab value belongs to.
    assert {event.ts for event in decoded.events} == {datetime(2026, 11, 25, 10, 40, tzinfo=UTC)}
    assert all(event.patient_id == "MRN-000123" for event in decoded.events)


def test_a_bad_unit_and_tests_crsmon_does_not_take_are_refused_each_with_what_is_accepted() -> None:
    decoded = decode_oru(message(CHEMISTRY))
    assert refused(decoded) == [("OBX #2", "unit"), ("OBX #3", "unknown_test"), ("OBX #10", "unknown_test")]
    bilirubin, sodium, haemoglobin = (skip.why for skip in decoded.refused)
    assert "'mg/L' is not accepted for bilirubin" in bilirubin and "umol/L" in bilirubin and "mg/dL" in bilirubin
    assert sodium.startswith("2951-2^Sodium") and "creatinine" in sodium and "docs/ingest.md" in sodium
    assert haemoglobin.startswith("718-7^Hemoglobin")
    # The dead letter's reason names all three; the ACK is AA (the rest was used) with warnings.
    assert all(str(skip) in decoded.refusal_reason() for skip in decoded.refused)
    ack = acknowledge(message(CHEMISTRY), None, decoded.warnings()).decode().split("\r")
    assert ack[1].startswith("MSA|AA|SQ25112506301201")
    warnings = [segment for segment in ack if segment.startswith("ERR|") and "|W|" in segment]
    assert len(warnings) == 3 and all("sent to dead-letters" in warning for warning in warnings)


def test_si_units_convert_and_the_message_time_zone_places_an_offset_less_collection_time() -> None:
    decoded = decode_oru(message(SI_REPORT))
    assert labs(decoded) == [
        ("creatinine", 2.1041, "umol/L"),  # 186 / 88.4 = 2.10407 → 4 decimals
        ("bilirubin", 1.579, "µmol/L"),  # 27 / 17.1 = 1.57895 → 3 decimals; µ in ISO 8859-1
        ("fibrinogen", 160.0, "g/L"),  # 1.6 g/L × 100
    ]
    assert all(event.unit == CATALOGUE[event.test].unit for event in decoded.events)
    # OBR-7 20261126063000 has no offset; MSH-7 says +0100.
    assert {event.ts for event in decoded.events} == {datetime(2026, 11, 26, 5, 30, tzinfo=UTC)}


def test_censored_out_of_bounds_and_non_numeric_results_are_refused_and_a_preliminary_one_skipped() -> None:
    decoded = decode_oru(message(SI_REPORT))
    assert refused(decoded) == [("OBX #3", "censored"), ("OBX #5", "out_of_bounds"), ("OBX #7", "invalid_field")]
    crp, lactate, platelets = (skip.why for skip in decoded.refused)
    assert "<5 is censored" in crp and "not a number" in crp
    assert "lactate 88" in lactate and "0–50 mmol/L" in lactate
    assert "'see comment' is not a number" in platelets
    assert [(skip.kind, "status P" in skip.why) for skip in decoded.skipped] == [("not_final", True)]
    assert any("status P" in warning for warning in decoded.warnings())


@pytest.mark.parametrize(
    "value, kind", [(">^1000", "censored"), ("<=^0.5", "censored"), ("=^12", None), ("^12", None), ("12", None)]
)
def test_structured_numeric_values_are_numbers_only_without_a_censoring_comparator(value: str, kind) -> None:
    raw = edited(
        SI_REPORT,
        "OBX|3|SN|1988-5^C reactive protein [Mass/volume] in Serum or Plasma^LN||<^5|",
        f"OBX|3|SN|1988-5^C reactive protein [Mass/volume] in Serum or Plasma^LN||{value}|",
    )
    decoded = decode_oru(raw)
    crp = [event.value for event in decoded.events if event.test == "crp"]
    if kind is None:
        assert crp == [12.0]
    else:
        assert crp == [] and ("OBX #3", kind) in refused(decoded)


def test_a_local_code_with_the_loinc_code_as_alternate_identifier_is_read_by_the_loinc_code() -> None:
    raw = edited(
        CHEMISTRY,
        "|1742-6^Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma^LN|",
        "|ALT^Alanine aminotransferase^L^1742-6^ALT SerPl-cCnc^LN|",
    )
    assert ("alt", 48.0, "U/L") in labs(decode_oru(raw))


def test_own_observation_time_wins_over_the_collection_time() -> None:
    raw = edited(CHEMISTRY, "^LN||48|U/L^U/L^UCUM|7-56|N|||F", "^LN||48|U/L^U/L^UCUM|7-56|N|||F|||20261125071500-0500")
    [alt] = [event for event in decode_oru(raw).events if event.test == "alt"]
    assert alt.ts == datetime(2026, 11, 25, 12, 15, tzinfo=UTC)


def test_a_lab_result_not_yet_verified_is_skipped_though_monitor_data_with_status_r_is_used() -> None:
    raw = edited(CHEMISTRY, "^LN||48|U/L^U/L^UCUM|7-56|N|||F", "^LN||48|U/L^U/L^UCUM|7-56|N|||R")
    decoded = decode_oru(raw)
    assert "alt" not in [event.test for event in decoded.events]
    assert any(skip.kind == "not_final" and "status R" in skip.why for skip in decoded.skipped)


def test_a_lab_result_without_a_unit_is_refused() -> None:
    decoded = decode_oru(edited(CHEMISTRY, "||612|U/L^U/L^UCUM|", "||612||"))
    [ldh] = [skip for skip in decoded.refused if skip.where.startswith("OBX #5")]
    assert ldh.kind == "unit" and "(ldh) has no unit" in ldh.why and "U/L" in ldh.why
    assert "ldh" not in [event.test for event in decoded.events]


def test_a_report_of_nothing_but_unusable_results_is_rejected_whole_with_every_reason() -> None:
    raw = "\r".join(
        [
            "MSH|^~\\&|LIS|LAB|CRSMON|HOSP|20261125063012+0000||ORU^R01|X1|P|2.5.1",
            "PID|1||MRN-000124",
            "OBR|1||F1|CHEM^Chemistry^L|||20261125054000+0000" + "|" * 17 + "CH",
            "OBX|1|NM|2951-2^Sodium^LN||138|mmol/L|||||F",
            "OBX|2|NM|2160-0^Creatinine^LN||2.1|mmol/L|||||F",
        ]
    ).encode()
    with pytest.raises(InvalidMessage) as caught:
        decode_oru(raw)
    assert caught.value.kind == "unknown_test"
    assert "OBX #1" in caught.value.reason and "OBX #2" in caught.value.reason
    assert "'mmol/L' is not accepted for creatinine" in caught.value.reason
    ack = acknowledge(raw, caught.value).decode()
    assert "MSA|AE|X1" in ack


def test_an_unknown_loinc_code_outside_a_laboratory_report_is_skipped_as_before() -> None:
    """A monitor's ORU (no OBR-24) with a LOINC code crsmon does not use: skipped, not refused."""
    raw = (SAMPLES / "sll_t5_nist_pulseox_loinc_mdc.hl7").read_bytes()
    before = decode_oru(raw)
    segments = raw.decode().replace("\r\n", "\r").replace("\n", "\r").rstrip("\r").split("\r")
    time = next(segment for segment in segments if segment.startswith("OBX")).split("|")[14]
    extra = f"OBX|99|NM|2951-2^Sodium^LN||138|mmol/L|||||R|||{time}"
    decoded = decode_oru("\r".join([*segments, extra]).encode())
    assert decoded.vitals == before.vitals and decoded.refused == () and decoded.events == ()
    assert decoded.skipped[-1].kind == "not_used"


def test_vital_signs_and_lab_results_in_one_message_are_both_used() -> None:
    raw = "\r".join(
        [
            "MSH|^~\\&|GW|ICU|CRSMON|HOSP|20261125063012+0000||ORU^R01|X2|P|2.6",
            "PID|1||MRN-000125",
            "OBR|1||F2|VITALS^Vitals^L|||20261125060000+0000",
            "OBX|1|NM|8867-4^Heart rate^LN||118|/min|||||R",
            "OBX|2|NM|1988-5^CRP^LN||210|mg/L|||||F",
        ]
    ).encode()
    decoded = decode_oru(raw)
    assert [vitals.heart_rate for vitals in decoded.vitals] == [118.0]
    assert labs(decoded) == [("crp", 210.0, "mg/L")]


def test_every_catalogue_lab_code_is_read_in_its_canonical_unit() -> None:
    """Each LOINC code of each lab test in the catalogue, sent with the test's UCUM unit,
    becomes a LabEvent of that test: the gateway reads the whole table, not a copy of it."""
    for test in CATALOGUE.of_kind("lab"):
        for loinc in test.loinc:
            raw = "\r".join(
                [
                    "MSH|^~\\&|LIS|LAB|CRSMON|HOSP|20261125063012+0000||ORU^R01|X3|P|2.5.1",
                    "PID|1||MRN-000126",
                    "OBR|1||F3|P^Panel^L|||20261125054000+0000",
                    f"OBX|1|NM|{loinc.code}^x^LN||1|{test.ucum}|||||F",
                ]
            ).encode()
            [event] = decode_oru(raw).events
            assert (event.test, event.value, event.unit) == (test.name, 1.0, test.unit), loinc.code


# --- FHIR R4 ------------------------------------------------------------------------------------


def test_a_fhir_laboratory_bundle_gives_lab_events_and_refuses_what_cannot_be_used() -> None:
    decoded = decode_fhir(message(LAB_BUNDLE))
    assert decoded.vitals == ()
    assert labs(decoded) == [
        ("creatinine", 2.1, "mg/dL"),
        ("creatinine", 1.7986, "umol/L"),  # 159 / 88.4 = 1.79864, the day before
        ("platelets", 62.0, "10*9/L"),  # the UCUM code is read, not the display text x10^9/L
        ("lactate", 3.4, "mmol/L"),
    ]
    assert [event.ts for event in decoded.events][:2] == [
        datetime(2026, 11, 25, 10, 40, tzinfo=UTC),
        datetime(2026, 11, 24, 10, 35, tzinfo=UTC),
    ]
    assert all(event.patient_id == "MRN-000123" for event in decoded.events)  # the Patient's MR identifier
    assert refused(decoded) == [("entry[4]", "censored"), ("entry[5]", "unknown_test"), ("entry[6]", "unit")]
    assert "'ng/dL' is not accepted for ferritin" in decoded.refused[2].why
    assert [skip.kind for skip in decoded.skipped] == ["not_final"]  # the preliminary IL-6
    summary = json.loads(success_outcome(decoded))["issue"]
    assert summary[0]["diagnostics"] == "published 0 VitalSigns holding 0 measurements and 4 clinical events"
    assert sum(issue["severity"] == "warning" for issue in summary) == 4


def test_a_laboratory_category_makes_an_unknown_code_a_refusal_and_without_it_a_skip() -> None:
    document = bundle()
    sodium = entry(document, "2951-2")
    del sodium["category"]
    decoded = decode_fhir(json.dumps(document).encode())
    assert ("entry[5]", "unknown_test") not in refused(decoded)
    assert any(skip.kind == "not_used" and "2951-2" in skip.why for skip in decoded.skipped)


@pytest.mark.parametrize(
    "value, kind, text",
    [
        ({"valueString": "<5"}, "censored", "<5 is censored"),
        ({"valueString": "> 1000"}, "censored", ">1000 is censored"),
        ({"valueString": "4.2"}, "unit", "has no unit"),
        ({"valueCodeableConcept": {"text": "high"}}, "invalid_field", "valueQuantity"),
        (
            {"valueQuantity": {"value": 41, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}},
            "out_of_bounds",
            "outside the plausible bounds 0–40 mg/dL",
        ),
    ],
)
def test_fhir_lab_values_that_are_not_a_number_in_an_accepted_unit_are_refused(value, kind, text) -> None:
    document = bundle()
    creatinine = entry(document, "2160-0")
    del creatinine["valueQuantity"]
    creatinine.update(value)
    decoded = decode_fhir(json.dumps(document).encode())
    [found] = [skip for skip in decoded.refused if skip.where.startswith("entry[1]")]
    assert found.kind == kind and text in found.why


def test_lab_results_in_a_panels_components_are_read_one_by_one() -> None:
    """Some LIS send a CBC as one Observation with a component per result: each is used or
    refused on its own, and the panel itself (no value) is not a result."""
    cbc = {
        "resourceType": "Observation",
        "id": "cbc-1",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2"}]},
        "subject": {"reference": "Patient/MRN-000123"},
        "effectiveDateTime": "2026-11-25T05:40:00-05:00",
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                "valueQuantity": {"value": 62, "system": "http://unitsofmeasure.org", "code": "10*3/uL"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "6690-2"}]},
                "valueQuantity": {"value": 3.4, "system": "http://unitsofmeasure.org", "code": "%"},
            },
        ],
    }
    decoded = decode_fhir(json.dumps(cbc).encode())
    assert labs(decoded) == [("platelets", 62.0, "10*3/uL")]
    [white_cells] = decoded.refused
    assert white_cells.kind == "unit" and white_cells.where == "Observation/cbc-1 component code 6690-2"
    assert decoded.skipped == ()


def test_a_single_lab_observation_whose_value_cannot_be_used_is_rejected_whole() -> None:
    observation = entry(bundle(), "1988-5")
    observation["subject"] = {"reference": "Patient/MRN-000123"}
    with pytest.raises(InvalidMessage) as caught:
        decode_fhir(json.dumps(observation).encode())
    assert caught.value.kind == "censored"


def test_lab_events_as_published_are_what_the_worker_reads_and_charts() -> None:
    """Encoded as the intake publishes them, read as the worker reads clinical-events, applied
    by the engine: the status's labs hold the latest of each test, in its canonical unit."""
    engine = Engine()
    statuses = []
    for event in decode_oru(message(CHEMISTRY)).events:
        read = decode_input(encode(event, drop_none=True))
        assert isinstance(read, LabEvent) and read == event
        statuses += engine.observe(read).statuses
    labs_charted = statuses[-1].labs or {}
    assert {test: (lab.value, lab.unit) for test, lab in labs_charted.items()} == {
        "creatinine": (2.1, "mg/dL"),
        "alt": (48.0, "U/L"),
        "platelets": (62.0, "10^9/L"),
        "wbc": (3.4, "10^9/L"),
        "neutrophils": (2.1, "10^9/L"),
        "crp": (87.5, "mg/L"),
        "ferritin": (1840.0, "ng/mL"),
        "ldh": (612.0, "U/L"),
    }
