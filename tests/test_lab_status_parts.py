"""A status's `labs` and `risk` are rebuilt only for the tests whose results changed
(monitor/reports.py, monitor/labs.py `changes`): whatever the order of results, late ones,
corrections, therapies and tocilizumab in between, every status carries exactly what reading
the whole history afresh gives."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.catalogue import CATALOGUE
from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.patient_state import Patient
from monitor.reports import labs_of, risk_of
from monitor.window import WindowLimits
from monitor.wire import validate_input

START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
PATIENT = "MRN-1"
#: Tests with each kind of context: inflammation trends (crp, ferritin, il6, with tocilizumab's
#: note), CTCAE grades (platelets, alt), m-EASIX's three (ldh, crp, platelets), creatinine.
TESTS = {
    "crp": (1.0, 300.0, "mg/L"),
    "ferritin": (50.0, 40_000.0, "ng/mL"),
    "il6": (1.0, 5_000.0, "pg/mL"),
    "platelets": (5.0, 400.0, "10^9/L"),
    "alt": (5.0, 900.0, "U/L"),
    "ldh": (100.0, 2_000.0, "U/L"),
    "creatinine": (0.4, 6.0, "mg/dL"),
}
# Whole hours over four days: results fall at the same moment as others (corrections) too.
moments = st.integers(min_value=0, max_value=96).map(lambda hours: START + timedelta(hours=hours))


@st.composite
def lab_results(draw) -> dict:
    test = draw(st.sampled_from(sorted(TESTS)))
    low, high, unit = TESTS[test]
    value = draw(st.floats(min_value=low, max_value=high, allow_nan=False).map(lambda v: round(v, 2)))
    return {"type": "lab", "test": test, "value": value, "unit": unit, "ts": draw(moments)}


@st.composite
def context_events(draw) -> dict:
    if draw(st.booleans()):
        return {"type": "therapy", "therapy": "car-t", "ts": draw(moments)}
    return {"type": "medication", "drug": "tocilizumab", "ts": draw(moments)}


events = st.lists(st.one_of(lab_results(), lab_results(), lab_results(), context_events()), min_size=1, max_size=40)


def read_afresh(engine: Engine, config: EngineConfig) -> Patient:
    """The patient as a restore gives it: its history, therapy and tocilizumab, nothing cached."""
    snapshot = engine.snapshot(PATIENT)
    assert snapshot is not None
    return Patient.from_bytes(snapshot, WindowLimits(minutes=int(config.window_hours * 60)))


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
@example(  # m-EASIX's three results, then the therapy they are read against, then another
    [
        {"type": "lab", "test": "ldh", "value": 480.0, "unit": "U/L", "ts": at(0)},
        {"type": "lab", "test": "crp", "value": 12.0, "unit": "mg/L", "ts": at(0)},
        {"type": "lab", "test": "platelets", "value": 90.0, "unit": "10^9/L", "ts": at(0)},
        {"type": "therapy", "therapy": "car-t", "ts": at(2)},
        {"type": "lab", "test": "crp", "value": 30.0, "unit": "mg/L", "ts": at(20)},
        {"type": "therapy", "therapy": "car-t", "ts": at(90)},
        {"type": "medication", "drug": "tocilizumab", "ts": at(91)},
        {"type": "lab", "test": "il6", "value": 900.0, "unit": "pg/mL", "ts": at(92)},
    ]
)
def test_every_status_carries_what_the_whole_history_read_afresh_gives(documents: list[dict]) -> None:
    config = EngineConfig()
    engine = Engine(config)
    checked = 0
    for document in documents:
        event = validate_input({**document, "patient_id": PATIENT, "ts": document["ts"].isoformat()})
        for status in engine.observe(event).statuses:
            afresh = read_afresh(engine, config)
            assert status.labs == (labs_of(afresh, config) if afresh.labs is not None else None)
            shown = list(status.labs or {})
            assert shown == [entry.name for entry in CATALOGUE.in_display_order("lab") if entry.name in shown]
            assert status.risk == (risk_of(afresh, config) if afresh.labs is not None else None)
            checked += 1
    assert checked or not any(d["type"] == "lab" for d in documents), "a lab result is answered by a status"
