"""The wire contract as code: each shape of CONTRACT round-trips, and bad input fails one way."""

import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.wire import (
    Acknowledgement,
    Alert,
    DeadLetter,
    InvalidMessage,
    OxygenEvent,
    PatientStatus,
    TherapyEvent,
    VasopressorEvent,
    VitalSigns,
    decode_acknowledgement,
    decode_as,
    decode_input,
    encode,
)

# The contract's own examples, verbatim.
VITALS = {
    "patient_id": "MRN-000123",
    "ts": "2026-11-23T18:00:00Z",
    "ward": "5-West",
    "bed": "12",
    "source": "gw-1",
    "heart_rate": 92,
    "systolic_bp": 118,
    "diastolic_bp": 72,
    "mean_arterial_pressure": 87,
    "temperature": 37.4,
    "spo2": 97,
    "respiratory_rate": 16,
    "on_oxygen": False,
    "consciousness": "A",
}
EVENTS = [
    {"patient_id": "MRN-000123", "ts": "2026-11-23T08:00:00Z", "type": "therapy", "therapy": "car-t"},
    {
        "patient_id": "MRN-000123",
        "ts": "2026-11-23T09:00:00Z",
        "type": "oxygen",
        "device": "nasal_cannula",
        "flow_l_min": 4,
    },
    {"patient_id": "MRN-000123", "ts": "2026-11-23T09:00:00Z", "type": "vasopressor", "count": 1, "vasopressin": False},
    {"patient_id": "MRN-000123", "ts": "2026-11-23T09:00:00Z", "type": "medication", "drug": "tocilizumab"},
    {"patient_id": "MRN-000123", "ts": "2026-11-23T09:00:00Z", "type": "spo2_target", "scale": 2},
    {"patient_id": "MRN-000123", "ts": "2026-11-23T09:00:00Z", "type": "discharge"},
]
STATUS = {
    "record": "status",
    "patient_id": "MRN-000123",
    "ward": "5-West",
    "bed": "12",
    "ts": "2026-11-23T18:00:00Z",
    "news2": {
        "score": 6,
        "band": "medium",
        "complete": True,
        "components": {
            "respiratory_rate": 2,
            "spo2": 1,
            "air_or_oxygen": 0,
            "systolic_bp": 1,
            "heart_rate": 1,
            "consciousness": 0,
            "temperature": 1,
        },
    },
    "shock_index": 0.92,
    "crs": {"grade": 2, "fever": True, "hypotension": True, "hypoxia": False, "risk_period": True},
    "latest": {"heart_rate": 112, "systolic_bp": 88, "temperature": 38.9, "spo2": 95},
}
ALERT = {
    "record": "alert",
    "alert_id": "6f1c",
    "episode_id": "MRN-000123:crs:2026-11-23T17:42:00Z",
    "patient_id": "MRN-000123",
    "ward": "5-West",
    "bed": "12",
    "status": "firing",
    "severity": "high",
    "rule": "crs",
    "crs_grade": 2,
    "news2_score": 6,
    "reasons": ["temperature 38.9 °C >= 38.0", "systolic BP 88 mmHg < 90 for 10 min"],
    "observed_at": "2026-11-23T18:00:00Z",
    "emitted_at": "2026-11-23T18:00:00.183Z",
}
ACK = {
    "record": "ack",
    "episode_id": "MRN-000123:crs:2026-11-23T17:42:00Z",
    "patient_id": "MRN-000123",
    "ts": "2026-11-23T18:03:10Z",
    "by": "rn-4411",
    "source": "dashboard",
}
DEAD_LETTER = {
    "record": "dead_letter",
    "topic": "vitals",
    "partition": 3,
    "offset": 1812,
    "reason": "temperature 134.0 outside 20–45 °C",
    "payload": "{}",
    "received_at": "2026-11-23T18:00:00.101Z",
}


def _same_json(model, original: dict) -> None:
    """The model's wire form says what the original said (numbers compare as numbers)."""
    assert {k: v for k, v in json.loads(encode(model)).items() if k in original} == original


def test_vital_signs_round_trip() -> None:
    vitals = decode_input(json.dumps(VITALS).encode())
    assert isinstance(vitals, VitalSigns)
    assert vitals.ts == datetime(2026, 11, 23, 18, tzinfo=timezone.utc)
    _same_json(vitals, VITALS)
    assert decode_input(encode(vitals)) == vitals


@pytest.mark.parametrize("event", EVENTS, ids=[e["type"] for e in EVENTS])
def test_clinical_events_round_trip(event: dict) -> None:
    decoded = decode_input(json.dumps(event))
    assert decoded.type == event["type"]
    _same_json(decoded, event)
    assert decode_input(encode(decoded)) == decoded


@pytest.mark.parametrize(
    "model,example",
    [
        (PatientStatus, STATUS),
        (Alert, ALERT),
        (Acknowledgement, ACK),
        (DeadLetter, DEAD_LETTER),
    ],
    ids=["status", "alert", "ack", "dead_letter"],
)
def test_output_shapes_round_trip(model, example: dict) -> None:
    decoded = decode_as(model, json.dumps(example))
    _same_json(decoded, example)
    assert decode_as(model, encode(decoded)) == decoded


def test_offsets_are_normalised_to_utc() -> None:
    vitals = decode_input(b'{"patient_id":"P","ts":"2026-11-23T19:30:00+01:30","spo2":97}')
    assert encode(vitals).count(b'"ts":"2026-11-23T18:00:00Z"') == 1


def test_a_time_is_written_the_same_whatever_zone_it_was_first_written_from() -> None:
    """format_timestamp is cached (a status repeats its lab results' times): equal instants
    in other zones, and times apart by a millisecond, each get their own right text."""
    from datetime import timedelta

    from monitor.wire import format_timestamp

    plus_one = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 11, 23, 19, 0, 0, 250_000, tzinfo=plus_one)) == "2026-11-23T18:00:00.250Z"
    assert (
        format_timestamp(datetime(2026, 11, 23, 18, 0, 0, 250_000, tzinfo=timezone.utc)) == "2026-11-23T18:00:00.250Z"
    )
    assert (
        format_timestamp(datetime(2026, 11, 23, 18, 0, 0, 251_000, tzinfo=timezone.utc)) == "2026-11-23T18:00:00.251Z"
    )
    assert format_timestamp(datetime(2026, 11, 23, 18, 0, tzinfo=plus_one)) == "2026-11-23T17:00:00Z"


@pytest.mark.parametrize(
    "payload,reason",
    [
        ({**VITALS, "temperature": 134}, "temperature 134.0 outside 20–45 °C"),
        ({**VITALS, "heart_rate": 351}, "heart_rate 351.0 outside 0–350 /min"),
        ({**VITALS, "spo2": -1}, "spo2 -1.0 outside 0–100 %"),
        ({**VITALS, "systolic_bp": 301}, "systolic_bp 301.0 outside 0–300 mmHg"),
        ({**VITALS, "respiratory_rate": 121}, "respiratory_rate 121.0 outside 0–120 /min"),
        ({**VITALS, "ts": "2026-11-23T18:00:00"}, "timestamp '2026-11-23T18:00:00' is not RFC 3339 with an offset"),
        ({**VITALS, "ts": 1795370400}, "timestamp 1795370400 must be an RFC 3339 string"),
        ({**VITALS, "ts": "2026-02-30T18:00:00Z"}, "is not a real date and time"),
        ({**VITALS, "heart_rate": "92"}, "heart_rate '92'"),
        ({**VITALS, "heart_rate": True}, "heart_rate True"),
        ({**VITALS, "patient_id": "MRN 1"}, "patient_id 'MRN 1'"),
        ({**VITALS, "patient_id": "x" * 65}, "patient_id"),
        ({**VITALS, "consciousness": "Z"}, "consciousness 'Z'"),
        ({"patient_id": "P", "ts": "2026-11-23T18:00:00Z"}, "no measurement"),
        ({"ts": "2026-11-23T18:00:00Z", "spo2": 97}, "patient_id is required"),
        ({**EVENTS[1], "device": "tent"}, "device 'tent'"),
        ({**EVENTS[0], "type": "surgery"}, "type 'surgery' is not one of"),
        ({**EVENTS[2], "count": -1}, "count -1"),
        ({**EVENTS[4], "scale": 3}, "scale 3"),
    ],
)
def test_invalid_input_names_field_value_and_rule(payload: dict, reason: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        decode_input(json.dumps(payload))
    assert reason in raised.value.reason


def test_bounds_are_inclusive_and_zero_is_accepted() -> None:
    """A 0 is what monitors send for a probe off: valid input, a gap for the engine to see."""
    edges = {"heart_rate": 350, "systolic_bp": 0, "temperature": 20, "spo2": 100, "respiratory_rate": 120}
    vitals = decode_input(json.dumps({"patient_id": "P", "ts": "2026-11-23T18:00:00Z", **edges}))
    assert vitals.measurements() == {name: float(value) for name, value in edges.items()}
    assert decode_input(b'{"patient_id":"P","ts":"2026-11-23T18:00:00Z","spo2":0}').spo2 == 0


def test_unknown_fields_are_ignored() -> None:
    vitals = decode_input(json.dumps({**VITALS, "pleth_quality": "good"}))
    assert vitals.heart_rate == 92


def test_typed_events_parse_to_their_classes() -> None:
    assert isinstance(decode_input(json.dumps(EVENTS[0])), TherapyEvent)
    assert isinstance(decode_input(json.dumps(EVENTS[1])), OxygenEvent)
    assert isinstance(decode_input(json.dumps(EVENTS[2])), VasopressorEvent)


def test_acknowledgement_decoder() -> None:
    assert decode_acknowledgement(json.dumps(ACK)).by == "rn-4411"
    with pytest.raises(InvalidMessage, match="by is required"):
        decode_acknowledgement(json.dumps({k: v for k, v in ACK.items() if k != "by"}))


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_invalid_message(raw: bytes) -> None:
    try:
        decode_input(raw)
    except InvalidMessage as error:
        assert error.reason and error.kind
    try:
        decode_acknowledgement(raw)
    except InvalidMessage:
        pass


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
_near_valid = st.fixed_dictionaries(
    {},
    optional={
        "patient_id": st.one_of(st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True), _json_values),
        "ts": st.one_of(st.just("2026-11-23T18:00:00Z"), st.text(max_size=30), _json_values),
        "type": st.one_of(
            st.sampled_from(["therapy", "oxygen", "vasopressor", "medication", "spo2_target", "discharge"]),
            _json_values,
        ),
        **{
            name: st.one_of(st.floats(-1000, 1000), st.integers(), _json_values)
            for name in ("heart_rate", "temperature", "spo2", "systolic_bp", "count", "scale", "flow_l_min")
        },
        "device": st.one_of(st.sampled_from(["nasal_cannula", "cpap"]), _json_values),
        "therapy": st.one_of(st.just("car-t"), _json_values),
    },
)


@settings(max_examples=800)
@given(_near_valid)
def test_json_objects_near_the_contract_raise_only_invalid_message(document: dict) -> None:
    """Structured input reaches the validators (random bytes rarely do)."""
    try:
        decoded = decode_input(json.dumps(document))
    except InvalidMessage as error:
        assert error.reason
    else:
        assert decode_input(encode(decoded)) == decoded


def test_one_builder_makes_every_dead_letter() -> None:
    """The worker, ingest and the dispatcher dead-letter through monitor/wire/dead_letters.py:
    copies of the builder drift apart (issue 13, defect d)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    builders = []
    for room in ("monitor", "streams", "alerting", "kafka_client", "crsmon"):
        for path in sorted((root / room).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "DeadLetter":
                    builders.append(str(path.relative_to(root)))
    assert builders == ["monitor/wire/dead_letters.py"]


def test_a_dead_letter_keeps_undecodable_bytes_and_extra_fields() -> None:
    import json

    from monitor.wire import dead_letter

    letter = json.loads(dead_letter("vitals", 3, 1812, "not JSON", b"\xff{", extra={"attempts": 2}))
    assert letter["record"] == "dead_letter" and letter["payload"] == "\\xff{"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("vitals", 3, 1812)
    assert letter["attempts"] == 2 and letter["received_at"].endswith("Z")


def test_a_lab_entrys_optional_parts_pass_through_a_reader_and_an_entry_without_them_is_unchanged() -> None:
    """The dashboard reads statuses and sends them on to browsers: the parts the worker adds to a
    lab entry (a CTCAE grade, a fold change, a note) must reach the page, and a plain entry must
    serialise exactly as the contract shows it."""
    status = {
        "record": "status",
        "patient_id": "MRN-1",
        "ts": "2026-11-23T18:00:00Z",
        "news2": {"score": 0, "band": "low", "complete": True, "components": {}},
        "crs": {"grade": 0, "fever": False, "hypotension": False, "hypoxia": False, "risk_period": True},
        "latest": {},
        "labs": {
            "platelets": {
                "value": 40.0,
                "unit": "10^9/L",
                "at": "2026-11-23T17:00:00Z",
                "grade": 3,
                "note": "repeat sample",
            },
            "crp": {"value": 12.0, "unit": "mg/L", "at": "2026-11-23T17:00:00Z"},
        },
    }
    read = PatientStatus.model_validate_json(json.dumps(status))
    labs = json.loads(encode(read))["labs"]
    assert labs["platelets"] == status["labs"]["platelets"]
    assert labs["crp"] == status["labs"]["crp"]  # no nulls for parts it never had
