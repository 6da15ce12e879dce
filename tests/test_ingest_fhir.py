"""FHIR R4 vital-signs Observations and Bundles to VitalSigns, on every sample in tests/samples/.

The expected values were read off the samples by hand. The R4 specification's own examples
stamp heart rate, blood pressure, temperature and respiratory rate with a date only
(`"effectiveDateTime": "1999-07-02"`): crsmon rejects those, since a vital sign without a time
of day cannot take its place in a trend, and the same samples with a time of day added in
memory show the values that would then be published.
"""

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import decode_fhir, http_status_for, rejection_outcome, success_outcome
from monitor.wire import InvalidMessage
from tests.conftest import SAMPLES

UTC = timezone.utc
FHIR_SAMPLES = sorted(SAMPLES.glob("*.json"))


def document(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_bytes())


def encoded(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource).encode()


def with_time(name: str, moment: str = "T10:30:00+02:00") -> bytes:
    resource = document(name)
    resource["effectiveDateTime"] += moment
    return encoded(resource)


def only(raw: bytes):
    decoded = decode_fhir(raw)
    assert len(decoded.vitals) == 1, decoded.vitals
    return decoded.vitals[0], decoded


def rejected(raw: bytes, **kwargs) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as caught:
        decode_fhir(raw, **kwargs)
    return caught.value


# --- the R4 specification's vital-signs examples ------------------------------------------------


@pytest.mark.parametrize(
    "name, field",
    [
        ("fhir_r4_observation-example-heart-rate.json", "1999-07-02"),
        ("fhir_r4_observation-example-bloodpressure.json", "2012-09-17"),
        ("fhir_r4_observation-example-body-temperature.json", "1999-07-02"),
        ("fhir_r4_observation-example-respiratory-rate.json", "1999-07-02"),
    ],
)
def test_a_date_without_a_time_of_day_is_rejected_with_a_reason(name: str, field: str) -> None:
    error = rejected((SAMPLES / name).read_bytes())
    assert error.kind == "timestamp"
    assert f"effectiveDateTime {field} has no time of day" in error.reason


def test_heart_rate() -> None:
    vitals, _ = only(with_time("fhir_r4_observation-example-heart-rate.json"))
    assert vitals.patient_id == "example"  # subject Patient/example
    assert vitals.measurements() == {"heart_rate": 44}
    assert vitals.ts == datetime(1999, 7, 2, 8, 30, tzinfo=UTC)


def test_blood_pressure_panel_components() -> None:
    vitals, _ = only(with_time("fhir_r4_observation-example-bloodpressure.json"))
    assert vitals.measurements() == {"systolic_bp": 107, "diastolic_bp": 60}  # 8480-6, 8462-4


def test_body_temperature() -> None:
    vitals, _ = only(with_time("fhir_r4_observation-example-body-temperature.json"))
    assert vitals.measurements() == {"temperature": 36.5}


def test_respiratory_rate() -> None:
    vitals, _ = only(with_time("fhir_r4_observation-example-respiratory-rate.json"))
    assert vitals.measurements() == {"respiratory_rate": 26}


def test_oxygen_saturation_with_loinc_and_mdc_codes_and_a_full_time() -> None:
    vitals, decoded = only((SAMPLES / "fhir_r4_observation-example-satO2.json").read_bytes())
    assert vitals.patient_id == "example"
    assert vitals.measurements() == {"spo2": 95}
    assert vitals.ts == datetime(2014, 12, 5, 8, 30, 10, tzinfo=UTC)  # 09:30:10+01:00
    assert decoded.skipped == ()


def test_the_vitals_panel_without_values_is_rejected_saying_to_send_its_members() -> None:
    error = rejected((SAMPLES / "fhir_r4_observation-example-vitals-panel.json").read_bytes())
    assert error.kind == "no_vital_signs"
    assert "hasMember" in error.reason and "send the member Observations" in error.reason


# --- the Personal Health Device IG examples ---------------------------------------------------


def test_phd_transaction_bundle_merges_spo2_and_pulse_of_one_moment() -> None:
    vitals, decoded = only((SAMPLES / "hl7_phd_bundle-example-1_pulseox_transaction.json").read_bytes())
    # The subject is urn:uuid:5b78… — the Patient entry of the Bundle, whose MR identifier is taken.
    assert vitals.patient_id == "sisansarahId"
    # Pulse 47 has the broken unit text "{beat}/min}" but the UCUM code "/min".
    assert vitals.measurements() == {"spo2": 98, "heart_rate": 47}
    assert vitals.ts == datetime(2019, 9, 20, 16, 40, 16, 936000, tzinfo=UTC)
    # The coincident time stamp Observation (MDC_ATTR_TIME_ABS) is not a vital sign.
    assert [(skip.where, skip.kind) for skip in decoded.skipped] == [("entry[3] Observation/cts-001", "not_used")]


def test_phd_compound_blood_pressure_with_an_mdc_only_mean() -> None:
    vitals, _ = only((SAMPLES / "hl7_phd_compound-numeric-blood-pressure.json").read_bytes())
    assert vitals.patient_id == "patientExample-1"
    assert vitals.measurements() == {"systolic_bp": 116, "diastolic_bp": 71, "mean_arterial_pressure": 86}
    assert vitals.ts == datetime(2018, 11, 11, 16, 38, 15, tzinfo=UTC)


def test_phd_temperature() -> None:
    vitals, _ = only((SAMPLES / "hl7_phd_temperature-observation.json").read_bytes())
    assert vitals.measurements() == {"temperature": 36.5}  # MDC 150364 + LOINC 8310-5, Cel
    assert vitals.ts == datetime(2025, 1, 9, 0, 7, 48, tzinfo=UTC)


@pytest.mark.parametrize("path", FHIR_SAMPLES, ids=lambda path: path.stem)
def test_every_sample_either_decodes_or_is_rejected_with_a_reason(path) -> None:
    try:
        decoded = decode_fhir(path.read_bytes())
    except InvalidMessage as error:
        assert http_status_for(error.kind) == 422
        outcome = json.loads(rejection_outcome(error))
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["severity"] == "error"
        assert outcome["issue"][0]["diagnostics"] == error.reason
    else:
        outcome = json.loads(success_outcome(decoded))
        assert outcome["issue"][0]["diagnostics"].startswith(f"published {len(decoded.vitals)} VitalSigns")


# --- statuses, units, subjects, times --------------------------------------------------------------


def test_a_preliminary_observation_is_skipped_with_a_reason_and_alone_is_rejected() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["status"] = "preliminary"
    error = rejected(encoded(resource))
    assert error.kind == "no_vital_signs" and "status preliminary" in error.reason


def test_in_a_bundle_a_preliminary_observation_is_skipped_and_the_final_one_published() -> None:
    final = document("fhir_r4_observation-example-satO2.json")
    preliminary = json.loads(with_time("fhir_r4_observation-example-heart-rate.json"))
    preliminary["status"] = "preliminary"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": final}, {"resource": preliminary}]}
    vitals, decoded = only(encoded(bundle))
    assert vitals.measurements() == {"spo2": 95}
    assert decoded.warnings() == [
        "entry[1] Observation/heart-rate: code 8867-4 has status preliminary; only final, "
        "amended, corrected values are used"
    ]
    outcome = json.loads(success_outcome(decoded))
    assert [issue["severity"] for issue in outcome["issue"]] == ["information", "warning"]


@pytest.mark.parametrize("status", ["amended", "corrected"])
def test_amended_and_corrected_values_are_used(status: str) -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["status"] = status
    vitals, _ = only(encoded(resource))
    assert vitals.spo2 == 95


def test_fahrenheit_is_converted_to_celsius() -> None:
    resource = json.loads(with_time("fhir_r4_observation-example-body-temperature.json"))
    resource["valueQuantity"] = {"value": 100.4, "unit": "°F", "system": "http://unitsofmeasure.org", "code": "[degF]"}
    vitals, _ = only(encoded(resource))
    assert vitals.temperature == pytest.approx(38.0)


def test_a_unit_that_does_not_fit_is_rejected() -> None:
    resource = json.loads(with_time("fhir_r4_observation-example-heart-rate.json"))
    resource["valueQuantity"]["code"] = "mm[Hg]"
    error = rejected(encoded(resource))
    assert error.kind == "unit" and "'mm[Hg]'" in error.reason and "/min" in error.reason


def test_a_value_outside_the_contract_bounds_is_rejected() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["valueQuantity"]["value"] = 150
    error = rejected(encoded(resource))
    assert error.kind == "out_of_bounds" and "spo2 150.0 outside 0–100 %" in error.reason


def test_a_subject_identifier_is_preferred_to_the_reference() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["subject"] = {"reference": "Patient/example", "identifier": {"value": "MRN-000123"}}
    vitals, _ = only(encoded(resource))
    assert vitals.patient_id == "MRN-000123"


@pytest.mark.parametrize(
    "subject, said",
    [
        (None, "has no subject"),
        ({"reference": "Device/monitor-7"}, "does not refer to a Patient"),
        ({"reference": "urn:uuid:0b1e5d2e-0000-4000-8000-000000000000"}, "is not an entry of this Bundle"),
        ({"identifier": {"value": "has spaces"}}, "is not 1-64 characters"),
    ],
)
def test_an_unusable_subject_is_rejected(subject, said: str) -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    if subject is None:
        del resource["subject"]
    else:
        resource["subject"] = subject
    error = rejected(encoded(resource))
    assert error.kind == "no_patient" and said in error.reason


def test_an_absolute_patient_url_with_history_gives_the_id() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/MRN-9/_history/3"}
    vitals, _ = only(encoded(resource))
    assert vitals.patient_id == "MRN-9"


def test_effective_period_uses_its_end() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    del resource["effectiveDateTime"]
    resource["effectivePeriod"] = {"start": "2026-11-23T17:55:00Z", "end": "2026-11-23T18:00:00Z"}
    vitals, _ = only(encoded(resource))
    assert vitals.ts == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_no_effective_time_is_rejected() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    del resource["effectiveDateTime"]
    error = rejected(encoded(resource))
    assert error.kind == "timestamp" and "no effective time" in error.reason


def test_a_time_without_an_offset_is_invalid_fhir() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["effectiveDateTime"] = "2014-12-05T09:30:10"
    error = rejected(encoded(resource))
    assert error.kind == "not_fhir" and "effectiveDateTime" in error.reason


def test_observations_of_one_patient_at_two_moments_are_two_vital_signs() -> None:
    heart = json.loads(with_time("fhir_r4_observation-example-heart-rate.json", "T10:30:00+02:00"))
    pressure = json.loads(with_time("fhir_r4_observation-example-bloodpressure.json", "T10:30:00+02:00"))
    breathing = json.loads(with_time("fhir_r4_observation-example-respiratory-rate.json", "T10:35:00+02:00"))
    pressure["effectiveDateTime"] = heart["effectiveDateTime"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": item, "request": {"method": "POST", "url": "Observation"}}
            for item in (heart, pressure, breathing)
        ],
    }
    first, second = decode_fhir(encoded(bundle)).vitals
    assert first.measurements() == {"heart_rate": 44, "systolic_bp": 107, "diastolic_bp": 60}
    assert second.measurements() == {"respiratory_rate": 26}
    assert second.ts == datetime(1999, 7, 2, 8, 35, tzinfo=UTC)


# --- what is not FHIR at all ----------------------------------------------------------------------


def test_a_bundle_where_only_observations_are_accepted_is_rejected() -> None:
    raw = (SAMPLES / "hl7_phd_bundle-example-1_pulseox_transaction.json").read_bytes()
    error = rejected(raw, accept=("Observation",))
    assert error.kind == "not_fhir" and "expected Observation" in error.reason
    assert http_status_for(error.kind) == 400


def test_an_invalid_resource_is_rejected_with_the_validators_account() -> None:
    resource = document("fhir_r4_observation-example-satO2.json")
    resource["valueQuantity"]["value"] = "ninety-five"
    error = rejected(encoded(resource))
    assert error.kind == "not_fhir" and "valueQuantity.value" in error.reason


@pytest.mark.parametrize(
    "raw, kind",
    [
        (b"", "not_json"),
        (b"{", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'{"resourceType": "Patient"}', "not_fhir"),
        (b'{"patient_id": "MRN-1"}', "not_fhir"),
    ],
)
def test_text_that_is_not_an_observation_or_bundle_is_rejected(raw: bytes, kind: str) -> None:
    error = rejected(raw)
    assert error.kind == kind and http_status_for(kind) == 400


# --- properties -------------------------------------------------------------------------------

SAMPLE_DOCUMENTS = [json.loads(path.read_bytes()) for path in FHIR_SAMPLES]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, prefix + (index,))
    return found


@st.composite
def mutated_documents(draw) -> bytes:
    """A real sample with a few of its values replaced by arbitrary JSON or removed."""
    resource = copy.deepcopy(draw(st.sampled_from(SAMPLE_DOCUMENTS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(resource)[1:]))
        parent = resource
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return encoded(resource)


def _only_the_documented_error(raw: bytes) -> None:
    try:
        decoded = decode_fhir(raw)
    except InvalidMessage as error:
        assert error.reason
        assert json.loads(rejection_outcome(error))["issue"][0]["severity"] == "error"
    else:
        assert decoded.vitals
        json.loads(success_outcome(decoded))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_invalid_message(raw: bytes) -> None:
    _only_the_documented_error(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES.map(lambda value: json.dumps(value).encode()))
def test_arbitrary_json_raises_nothing_but_invalid_message(raw: bytes) -> None:
    _only_the_documented_error(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_near_miss_resources_raise_nothing_but_invalid_message(raw: bytes) -> None:
    _only_the_documented_error(raw)
