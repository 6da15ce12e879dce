"""The lab reasons an alert ends with (monitor/organs/reasons.py), for the deterioration rule as
for CRS: CTCAE grade ≥ 2 in force at the step's moment, worst first; nothing without labs."""

import orjson
import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.episodes import Level
from monitor.labs import LabHistory
from monitor.organs.reasons import lab_reasons, with_lab_context
from monitor.patient_state import Patient
from monitor.window import Window, WindowLimits
from monitor.wire import decode_input

CONFIG = EngineConfig()
LIMITS = WindowLimits(minutes=1440, lateness_s=300, raw_rows_max=512)


def labs(*results: tuple[str, float, float]) -> LabHistory:
    history = LabHistory()
    for test, value, at in results:
        history.add(test, value, at, 14 * 86400, 64)
    return history


def test_worst_first_and_only_from_grade_2_as_of_the_moment():
    history = labs(("ast", 250, 100.0), ("platelets", 20, 100.0), ("bilirubin", 1.2, 100.0), ("platelets", 60, 200.0))
    assert lab_reasons(history, 150.0, CONFIG) == ("platelets 20 ×10⁹/L, CTCAE grade 4", "AST 250 U/L, CTCAE grade 3")
    assert lab_reasons(history, 250.0, CONFIG) == ("AST 250 U/L, CTCAE grade 3", "platelets 60 ×10⁹/L, CTCAE grade 2")
    assert lab_reasons(history, 50.0, CONFIG) == ()  # nothing had come yet


def test_the_same_level_without_labs_and_appended_with_them():
    level = Level("high", None, lambda: ("NEWS2 8",), at_once=True)
    patient = Patient("P", Window(LIMITS), clock=150.0)
    assert with_lab_context(level, patient, CONFIG) is level
    assert with_lab_context(None, patient, CONFIG) is None
    patient.labs = labs(("platelets", 20, 100.0))
    with_labs = with_lab_context(level, patient, CONFIG)
    assert with_labs.explain() == ("NEWS2 8", "platelets 20 ×10⁹/L, CTCAE grade 4")
    assert with_labs._replace(explain=level.explain) == level  # severity, grade, at_once kept


def test_a_deterioration_alert_names_the_graded_lab():
    def run(with_labs: bool) -> list:
        engine = Engine()
        events = (
            [
                {
                    "patient_id": "D1",
                    "ts": "2026-11-23T06:00:00Z",
                    "type": "lab",
                    "test": "platelets",
                    "value": 30,
                    "unit": "10*9/L",
                }
            ]
            if with_labs
            else []
        )
        for minute in (0, 10):  # NEWS2 ≥ 7 on a repeat observation: the high floor, at once
            events.append(
                {
                    "patient_id": "D1",
                    "ts": f"2026-11-23T10:{minute:02d}:00Z",
                    "heart_rate": 124,
                    "systolic_bp": 96,
                    "temperature": 38.4,
                    "spo2": 91,
                    "respiratory_rate": 26,
                }
            )
        alerts = []
        for document in events:
            alerts += engine.observe(decode_input(orjson.dumps(document))).alerts
        return alerts

    without, with_platelets = run(False), run(True)
    assert [alert.rule for alert in without] == ["deterioration"]
    assert with_platelets[0].reasons == [*without[0].reasons, "platelets 30 ×10⁹/L, CTCAE grade 3"]


def _alerts_of(engine: Engine, documents: list[dict]) -> list:
    alerts = []
    for document in documents:
        alerts += engine.observe(decode_input(orjson.dumps({"patient_id": "L1", **document}))).alerts
    return alerts


_PLATELETS_30 = {"ts": "2026-11-23T05:00:00Z", "type": "lab", "test": "platelets", "value": 30, "unit": "10*9/L"}
_NEWS2_7_TWICE = [
    {
        "ts": f"2026-11-23T10:{minute:02d}:00Z",
        "heart_rate": 124,
        "systolic_bp": 96,
        "temperature": 36.8,
        "spo2": 91,
        "respiratory_rate": 26,
    }
    for minute in (0, 10)
]
_CREATININE_DOUBLED = [
    {"ts": stamp, "type": "lab", "test": "creatinine", "value": value, "unit": "mg/dL"}
    for stamp, value in (("2026-11-22T06:00:00Z", 0.9), ("2026-11-23T06:00:00Z", 1.9))
]
_ICE_FALLS_TO_5 = [
    {"ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"},
    {"ts": "2026-11-23T08:00:00Z", "type": "neuro", "ice": 10, "by": "rn-1"},
    {"ts": "2026-11-23T16:00:00Z", "type": "neuro", "ice": 5, "by": "rn-1"},
]


@pytest.mark.parametrize(
    ("rule", "config", "course"),
    [
        ("news2", EngineConfig(deterioration_rule=False), _NEWS2_7_TWICE),
        ("aki", CONFIG, _CREATININE_DOUBLED),
        ("icans", CONFIG, _ICE_FALLS_TO_5),
    ],
)
def test_news2_aki_and_icans_alerts_name_the_graded_lab_too(rule: str, config: EngineConfig, course: list) -> None:
    """The page that fired is the one read: an AKI or a confusion with platelets of 30 is a
    different visit (no line, no lumbar puncture, a bleed to rule out) as much as a CRS is."""
    without = [alert for alert in _alerts_of(Engine(config), course) if alert.rule == rule]
    with_platelets = [alert for alert in _alerts_of(Engine(config), [_PLATELETS_30, *course]) if alert.rule == rule]
    assert without and len(with_platelets) == len(without)
    assert "CTCAE" not in " ".join(without[0].reasons)
    assert with_platelets[0].reasons == [*without[0].reasons, "platelets 30 ×10⁹/L, CTCAE grade 3"]
