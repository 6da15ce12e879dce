"""Lab context through the engine, from wire messages: the status carries CTCAE grades, trends
and m-EASIX; a CRS alert names a grade-3 platelet count; a patient without labs (or with none
graded ≥ 2) gets exactly the alerts it got before; the tocilizumab time survives a restore."""

import zlib

import orjson

from monitor.engine import Engine
from monitor.patient_state import Patient
from monitor.window import Window, WindowLimits
from monitor.wire import decode_input, encode

DAY0 = "2026-11-23"


def message(**fields):
    return decode_input(orjson.dumps(fields))


def lab(patient: str, ts: str, test: str, value: float, unit: str):
    return message(patient_id=patient, ts=ts, type="lab", test=test, value=value, unit=unit)


def course(patient: str, labs: list) -> list:
    """Labs around a CAR-T infusion at 08:00, then a fever at 20:00: ASTCT grade 1 opens the CRS
    episode at once."""
    return [
        *labs,
        message(patient_id=patient, ts=f"{DAY0}T08:00:00Z", type="therapy", therapy="car-t"),
        message(
            patient_id=patient,
            ts=f"{DAY0}T20:00:00Z",
            heart_rate=104,
            systolic_bp=118,
            temperature=38.6,
            spo2=97,
            respiratory_rate=18,
        ),
    ]


def run(events: list) -> tuple[list, list, Engine]:
    engine = Engine()
    statuses, alerts = [], []
    for event in sorted(events, key=lambda e: e.ts):
        outputs = engine.observe(event)
        statuses += outputs.statuses
        alerts += outputs.alerts
    return statuses, alerts, engine


def labs_of(patient: str, panel: list) -> list:
    return [lab(patient, f"{DAY0}T{time}:00Z", test, value, unit) for test, value, unit, time in panel]


PANEL = [  # the morning of the infusion (06:00), and CRP again at 19:00
    ("platelets", 42, "10*9/L", "06:00"),
    ("bilirubin", 34.2, "umol/L", "06:00"),
    ("alt", 100, "U/L", "06:00"),
    ("ldh", 480, "U/L", "06:00"),
    ("crp", 1.2, "mg/dL", "06:00"),
    ("crp", 96, "mg/L", "19:00"),
    ("ferritin", 900, "ng/mL", "06:00"),
]


def test_status_carries_grades_trends_and_risk_and_the_crs_alert_names_grade_3_platelets():
    statuses, alerts, _ = run(course("P1", labs_of("P1", PANEL)))
    labs = statuses[-1].labs
    assert labs["platelets"].grade == 3  # 42 < 50
    assert labs["bilirubin"].grade == 2  # 34.2 µmol/L = 2.0 mg/dL: > 1.5 – 3 × ULN 1.0
    assert labs["alt"].grade == 1  # 100 U/L = 2.5 × ULN 40
    assert labs["crp"].grade is None and labs["crp"].fold_change == 8.0  # 12 mg/L at 06:00 → 96
    assert labs["crp"].doubling_h == round(13 / 3, 1)  # three doublings in 13 h
    assert labs["ferritin"].fold_change is None  # nothing after the start yet
    # m-EASIX from the 06:00 panel: 480 × (12 mg/L = 1.2 mg/dL) / 42
    assert statuses[-1].risk.m_easix == round(480 * 1.2 / 42, 2)
    assert statuses[-1].risk.at.isoformat() == f"{DAY0}T06:00:00+00:00"

    [fired] = alerts
    assert (fired.rule, fired.status, fired.crs_grade) == ("crs", "firing", 1)
    assert fired.reasons[-2:] == ["platelets 42 ×10⁹/L, CTCAE grade 3", "bilirubin 2.0 mg/dL, CTCAE grade 2"]
    assert not any("ALT" in reason for reason in fired.reasons)  # grade 1 is not named

    wire = orjson.loads(encode(statuses[-1]))
    # parts that do not apply are left out, as an entry from before them
    assert wire["labs"]["platelets"] == {"value": 42.0, "unit": "10^9/L", "at": f"{DAY0}T06:00:00Z", "grade": 3}
    assert wire["labs"]["crp"] == {
        "value": 96.0,
        "unit": "mg/L",
        "at": f"{DAY0}T19:00:00Z",
        "fold_change": 8.0,
        "doubling_h": 4.3,
    }
    assert wire["labs"]["ldh"] == {"value": 480.0, "unit": "U/L", "at": f"{DAY0}T06:00:00Z"}
    assert wire["risk"] == {"m_easix": 13.71, "at": f"{DAY0}T06:00:00Z"}


def test_alerts_without_labs_or_without_grade_2_are_unchanged_with_it_appended_otherwise():
    _, bare, _ = run(course("P2", []))
    _, mild, _ = run(course("P2", labs_of("P2", [("platelets", 120, "10*9/L", "06:00")])))
    _, low, _ = run(course("P2", labs_of("P2", [("platelets", 42, "10*9/L", "06:00")])))
    assert [encode(a.stamped(a.observed_at)) for a in mild] == [encode(a.stamped(a.observed_at)) for a in bare]
    [without], [with_platelets] = bare, low
    assert with_platelets.reasons == [*without.reasons, "platelets 42 ×10⁹/L, CTCAE grade 3"]
    assert with_platelets.alert_id == without.alert_id  # the same episode and change


def test_a_later_result_replaces_the_one_in_force():
    panel = [("platelets", 42, "10*9/L", "06:00"), ("platelets", 160, "10*9/L", "19:00")]
    statuses, [fired], _ = run(course("P3", labs_of("P3", panel)))
    assert statuses[-1].labs["platelets"].grade == 0
    assert not any("platelets" in reason for reason in fired.reasons)


def test_il6_after_tocilizumab_is_noted_and_the_dose_survives_a_restore():
    events = course("P4", labs_of("P4", [("il6", 15, "pg/mL", "06:00")]))
    events += [
        message(patient_id="P4", ts=f"{DAY0}T21:00:00Z", type="medication", drug="tocilizumab"),
        lab("P4", f"{DAY0}T23:00:00Z", "il6", 2400, "pg/mL"),
    ]
    statuses, _, engine = run(events)
    il6 = statuses[-1].labs["il6"]
    assert (il6.note, il6.fold_change) == ("expected after tocilizumab", 160.0)

    data = engine.snapshot("P4")
    header = _header(data)
    assert header["tocilizumab_at"] == engine._patients["P4"].tocilizumab_at  # noqa: SLF001
    restored = Engine()
    restored.restore("P4", data)
    assert restored.snapshot("P4") == data


def test_a_patient_without_tocilizumab_has_no_such_key_in_its_bytes():
    _, _, engine = run(course("P5", labs_of("P5", PANEL)))
    assert "tocilizumab_at" not in _header(engine.snapshot("P5"))
    patient = Patient.from_bytes(engine.snapshot("P5"), WindowLimits(minutes=1440, lateness_s=300, raw_rows_max=512))
    assert patient.tocilizumab_at is None and isinstance(patient.window, Window)


def _header(data: bytes) -> dict:
    """The JSON header of a format-3 snapshot (monitor/patient_state.py)."""
    from monitor.patient_state import _DICTIONARY  # noqa: PLC2701 - the format's own dictionary

    body = zlib.decompressobj(zdict=_DICTIONARY).decompress(data[1:])
    length = int.from_bytes(body[:4], "little")
    return orjson.loads(body[4 : 4 + length])
