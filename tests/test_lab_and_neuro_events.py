"""`type: lab` and `type: neuro` ClinicalEvents, as ../shared/CONTRACT.md specifies them, and the
patient's lab history the engine keeps from them (monitor/labs.py)."""

from __future__ import annotations

import math
import zlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor import patient_state
from monitor.catalogue import CATALOGUE, LAB_TESTS
from monitor.engine import Engine
from monitor.labs import LabHistory
from monitor.wire import InvalidMessage, LabEvent, NeuroEvent, decode_input, encode
from tests.test_catalogue import CONTRACT_LAB_TESTS

TS = "2026-11-25T06:10:00Z"


def lab(test: str, value, unit, **more) -> dict:
    message = {"patient_id": "MRN-1", "ts": TS, "type": "lab", "test": test, "value": value}
    if unit is not None:
        message["unit"] = unit
    return {**message, **more}


def decode(message: dict):
    return decode_input(orjson.dumps(message))


# -- lab results on the wire -------------------------------------------------------------------
@pytest.mark.parametrize(
    "test, value, unit, canonical",
    [
        # the contract's conversions, one per accepted non-canonical unit
        ("creatinine", 1.9, "mg/dL", 1.9),
        ("creatinine", 168.0, "umol/L", round(168.0 / 88.4, 4)),
        ("creatinine", 353.6, "µmol/L", 4.0),  # KDIGO's 4.0 mg/dL
        ("creatinine", 26.5, "μmol/L", round(26.5 / 88.4, 4)),  # Greek mu, as people type it
        ("bilirubin", 34.2, "umol/L", 2.0),
        ("platelets", 42, "10*9/L", 42.0),
        ("platelets", 42, "10*3/uL", 42.0),
        ("platelets", 42, "K/uL", 42.0),
        ("crp", 12.0, "mg/dL", 120.0),
        ("ferritin", 850, "ug/L", 850.0),
        ("il6", 120, "ng/L", 120.0),
        ("alt", 80, "IU/L", 80.0),
        ("lactate", 36.04, "mg/dL", 4.0),
        ("fibrinogen", 1.5, "g/L", 150.0),
    ],
)
def test_a_lab_result_arrives_in_its_tests_canonical_unit(test, value, unit, canonical):
    event = decode(lab(test, value, unit))
    assert isinstance(event, LabEvent)
    assert event.value == pytest.approx(canonical, abs=1e-9)
    assert event.unit == CATALOGUE[test].unit
    assert event.received_unit == unit


def test_every_test_the_contract_lists_is_accepted_in_its_canonical_unit():
    contract = CONTRACT_LAB_TESTS  # the contract's list, as a client reads it (tests/test_catalogue.py)
    assert set(LAB_TESTS) == set(contract)
    for test in contract:
        entry = CATALOGUE[test]
        low, high = entry.bounds
        assert decode(lab(test, (low + high) / 2, entry.unit)).value == (low + high) / 2


@pytest.mark.parametrize(
    "message, words",
    [
        (lab("creatinine", 1.9, "g/L"), ["unit 'g/L' is not accepted for creatinine", "umol/L", "mg/dL"]),
        (lab("creatinine", 1.9, None), ["unit is required for creatinine", "mg/dL"]),
        (lab("creatinine", 190, "mg/dL"), ["outside the plausible bounds", "0–40 mg/dL"]),
        (lab("creatinine", -1, "mg/dL"), ["outside the plausible bounds"]),
        (lab("sodium", 140, "mmol/L"), ["test 'sodium'", "creatinine"]),
        (lab("crp", "12", "mg/L"), ["value '12'", "valid number"]),
        (lab("crp", True, "mg/L"), ["value True"]),
    ],
)
def test_a_bad_lab_result_is_refused_with_what_is_accepted(message, words):
    with pytest.raises(InvalidMessage) as refused:
        decode(message)
    for word in words:
        assert word in str(refused.value)


def test_a_lab_result_reads_back_from_its_own_wire_form_unchanged():
    event = decode(lab("creatinine", 168, "µmol/L"))
    again = decode_input(encode(event, drop_none=True))
    assert again == event
    assert again.received_unit == "µmol/L"  # not the canonical unit it was re-read in


def test_a_nan_or_infinite_value_is_refused():
    for raw in (b'{"patient_id":"A","ts":"2026-11-25T06:10:00Z","type":"lab","test":"crp","value":NaN,"unit":"mg/L"}',):
        with pytest.raises(InvalidMessage):
            decode_input(raw)
    with pytest.raises(InvalidMessage):
        decode(lab("crp", 1e309, "mg/L"))  # orjson writes inf as null: a missing number


# -- neurological assessments on the wire ------------------------------------------------------
ITEMS = {"orientation": 2, "naming": 3, "commands": 1, "writing": 0, "attention": 0}


def neuro(**fields) -> dict:
    return {"patient_id": "MRN-1", "ts": TS, "type": "neuro", **fields}


def test_an_assessment_by_its_items_gets_their_total():
    event = decode(neuro(ice_items=ITEMS, arousal="alert", seizure="none", motor="none", cerebral_edema="none"))
    assert isinstance(event, NeuroEvent)
    assert event.ice == 6


def test_an_assessment_by_its_total_alone_and_one_that_could_not_be_scored():
    assert decode(neuro(ice=6, arousal="voice", by="rn-4411")).ice == 6
    unassessable = decode(neuro(arousal="unarousable"))
    assert unassessable.ice is None and unassessable.arousal == "unarousable"


@pytest.mark.parametrize(
    "message, words",
    [
        (neuro(ice=9, ice_items=ITEMS), ["ice 9 disagrees with its items, which add up to 6"]),
        (neuro(ice=11), ["ice 11"]),
        (neuro(ice=-1), ["ice -1"]),
        (neuro(ice_items={**ITEMS, "orientation": 5}), ["orientation 5"]),
        (neuro(ice_items={**ITEMS, "spelling": 1}), ["spelling"]),
        (neuro(arousal="sleepy"), ["arousal 'sleepy'", "'spontaneous'"]),
        (neuro(seizure="yes"), ["seizure 'yes'"]),
        (neuro(cerebral_edema="mild"), ["cerebral_edema 'mild'"]),
    ],
)
def test_a_bad_assessment_is_refused_with_a_reason(message, words):
    with pytest.raises(InvalidMessage) as refused:
        decode(message)
    for word in words:
        assert word in str(refused.value)


@given(
    st.fixed_dictionaries(
        {
            "orientation": st.integers(0, 4),
            "naming": st.integers(0, 3),
            "commands": st.integers(0, 1),
            "writing": st.integers(0, 1),
            "attention": st.integers(0, 1),
        }
    )
)
def test_items_and_total_always_agree_and_read_back(items):
    event = decode(neuro(ice_items=items))
    assert 0 <= event.ice <= 10 and event.ice == sum(items.values())
    assert decode_input(encode(event, drop_none=True)) == event


# -- the lab history ---------------------------------------------------------------------------
DAY = 86400.0


def test_history_keeps_results_in_time_order_and_takes_a_late_one_in_its_place():
    history = LabHistory()
    for at, value in ((0.0, 1.0), (2 * DAY, 1.4), (DAY, 1.2)):
        assert history.add("creatinine", value, at, keep_s=14 * DAY, most=64)
    assert [r.value for r in history.between("creatinine", 0, 3 * DAY)] == [1.0, 1.2, 1.4]
    assert history.latest("creatinine").value == 1.4
    assert history.latest("creatinine", at=1.5 * DAY).value == 1.2
    assert history.latest("creatinine", at=-1) is None
    assert history.lowest("creatinine", 0.5 * DAY, 3 * DAY).value == 1.2


def test_a_corrected_report_replaces_the_result_of_the_same_moment():
    history = LabHistory()
    history.add("crp", 50.0, 10.0, keep_s=DAY, most=8)
    history.add("crp", 45.0, 10.0, keep_s=DAY, most=8)
    assert [r.value for r in history.between("crp", 0, 20)] == [45.0]
    assert history.revision == 2  # still a change a status must show


def test_history_is_bounded_in_time_and_in_count():
    history = LabHistory()
    for hour in range(0, 24 * 20, 6):  # 20 days, every 6 h
        history.add("platelets", 100.0 + hour, hour * 3600.0, keep_s=14 * DAY, most=1000)
    times = [r.at for r in history.between("platelets", -math.inf, math.inf)]
    assert times[-1] - times[0] <= 14 * DAY and len(times) == 14 * 4 + 1
    assert not history.add("platelets", 1.0, 0.0, keep_s=14 * DAY, most=1000)  # too old to keep
    for i in range(100):
        history.add("wbc", 5.0, float(i), keep_s=14 * DAY, most=16)
    assert len(history.between("wbc", -math.inf, math.inf)) == 16


def test_history_reads_back_from_its_list_form():
    history = LabHistory()
    history.add("creatinine", 1.1, 100.0, keep_s=DAY, most=8)
    history.add("crp", 20.0, 50.0, keep_s=DAY, most=8)
    again = LabHistory.from_list(orjson.loads(orjson.dumps(history.as_list())))
    assert again.as_list() == history.as_list()
    assert again.newest_at == 100.0 and again.revision == 2


def _inflated(snapshot: bytes) -> bytes:
    inflate = zlib.decompressobj(zdict=patient_state._DICTIONARY)  # noqa: SLF001
    return inflate.decompress(snapshot[1:])


# -- through the engine ------------------------------------------------------------------------
VITALS = {
    "patient_id": "MRN-1",
    "ts": "2026-11-25T06:00:00Z",
    "heart_rate": 80,
    "systolic_bp": 120,
    "temperature": 37.0,
    "spo2": 97,
    "respiratory_rate": 16,
}


def test_the_status_carries_the_latest_of_each_test_and_a_new_result_sends_one():
    engine = Engine()
    engine.observe(decode(VITALS))
    outputs = engine.observe(decode(lab("creatinine", 168, "umol/L")))
    assert len(outputs.statuses) == 1, "a new lab result is a change a dashboard must see"
    status = outputs.statuses[0]
    assert status.labs["creatinine"].value == round(168 / 88.4, 4)
    assert status.labs["creatinine"].unit == "mg/dL"
    outputs = engine.observe(decode({**lab("creatinine", 1.2, "mg/dL"), "ts": "2026-11-25T07:00:00Z"}))
    assert outputs.statuses[0].labs["creatinine"].value == 1.2


def test_labs_survive_a_snapshot_and_a_patient_without_labs_keeps_its_bytes():
    engine = Engine()
    engine.observe(decode(VITALS))
    without = engine.snapshot("MRN-1")
    assert b'"labs"' not in _inflated(without), "old snapshots' bytes stay as they were"
    restored = Engine()
    restored.restore("MRN-1", without)
    assert restored.snapshot("MRN-1") == without
    engine.observe(decode(lab("crp", 12, "mg/dL")))
    data = engine.snapshot("MRN-1")
    restored = Engine()
    restored.restore("MRN-1", data)
    assert restored.snapshot("MRN-1") == data
    later = restored.observe(decode({**VITALS, "ts": "2026-11-25T07:00:00Z"}))
    assert later.statuses[0].labs["crp"].value == 120.0
