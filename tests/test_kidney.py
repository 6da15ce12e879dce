"""The KDIGO 2012 creatinine stage (monitor/kidney.py) and the status's `kidney` part.

Each case is a short creatinine course whose stage follows from the guideline's words
(CLINICAL.md, "Labs"): the expected stage is worked out in the comment, not read off the code.
Values reach the history as the wire delivers them (decode_input: canonical mg/dL).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.kidney import describe_stage, kdigo_stage
from monitor.labs import LabHistory
from monitor.wire import LabEvent, decode_input

CONFIG = EngineConfig()
T0 = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)
PATIENT = "MRN-000123"


def lab(hours: float, value: float, unit: str = "mg/dL") -> LabEvent:
    """A creatinine result `hours` after T0, decoded from the wire as a producer sends it."""
    event = decode_input(
        orjson.dumps(
            {
                "patient_id": PATIENT,
                "ts": (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
                "type": "lab",
                "test": "creatinine",
                "value": value,
                "unit": unit,
            }
        )
    )
    assert isinstance(event, LabEvent)
    return event


def history(*results: tuple[float, float] | LabEvent) -> LabHistory:
    """A lab history holding (hours after T0, mg/dL) results or decoded events, in the order given."""
    labs = LabHistory()
    for result in results:
        event = result if isinstance(result, LabEvent) else lab(*result)
        assert labs.add(
            event.test, event.value, event.ts.timestamp(), CONFIG.lab_history_days * 86400, CONFIG.lab_history_max
        )
    return labs


def stage(*results) -> int | None:
    found = kdigo_stage(history(*results), CONFIG)
    return None if found is None else found.stage


# -- no stage without something to compare with ----------------------------------------------


def test_a_first_creatinine_has_no_stage_not_stage_0():
    assert stage((0, 4.5)) is None  # however high: one value says nothing about a change
    assert kdigo_stage(None, CONFIG) is None
    assert kdigo_stage(LabHistory(), CONFIG) is None


def test_an_earlier_value_outside_the_7_days_is_no_baseline():
    # 8 days apart: nothing in the 7 days before the reading
    assert stage((0, 1.0), (8 * 24, 2.5)) is None
    assert stage((0, 1.0), (7 * 24, 2.5)) == 2  # exactly 7 days before is within them


# -- stage 1 -----------------------------------------------------------------------------


def test_a_rise_of_0_3_within_48_h_is_stage_1_though_under_1_5_times():
    found = kdigo_stage(history((0, 1.0), (24, 1.3)), CONFIG)
    assert found is not None and (found.stage, found.by) == (1, "rise")  # 1.3 × baseline: not by ratio
    assert describe_stage(found, CONFIG) == "creatinine 1.3 mg/dL, up 0.3 from 1.0 within 48 h: KDIGO stage 1"
    assert stage((0, 1.0), (24, 1.29)) == 0  # 0.29: under the rise, 1.29 ×: under the ratio
    assert stage((0, 1.0), (48, 1.3)) == 1  # 48 h before is within 48 h
    assert stage((0, 1.0), (49, 1.3)) == 0  # 49 h: outside, and 1.3 × is no stage by ratio
    # 1.2 − 0.9 is 0.29999999999999993 in binary: as the laboratory wrote it, a 0.3 rise
    assert stage((0, 0.9), (24, 1.2)) == 1


def test_the_48_h_rule_compares_with_the_lowest_of_the_48_h_not_the_latest():
    # 1.0 at 0 h, 1.25 at 20 h, 1.3 at 40 h: the rise over the previous result is 0.05, over
    # the lowest of the 48 h before it 0.3
    assert stage((0, 1.0), (20, 1.25), (40, 1.3)) == 1


def test_1_5_times_baseline_over_5_days_is_stage_1_by_the_ratio():
    # a slow rise: never 0.3 within 48 h (1.25 → 1.5 is 0.25), 1.5 × the lowest of 7 days
    found = kdigo_stage(history((0, 1.0), (48, 1.1), (96, 1.25), (120, 1.5)), CONFIG)
    assert found is not None and (found.stage, found.by, found.baseline) == (1, "ratio", 1.0)
    assert describe_stage(found, CONFIG) == (
        "creatinine 1.5 mg/dL, 1.5 × baseline 1.0 (lowest of 7 days): KDIGO stage 1"
    )


# -- stages 2 and 3 by the ratio -------------------------------------------------------------


def test_twice_the_baseline_is_stage_2_and_the_reason_names_the_numbers():
    found = kdigo_stage(history((0, 1.05), (72, 2.1)), CONFIG)
    assert found is not None and found.stage == 2
    assert describe_stage(found, CONFIG) == (
        "creatinine 2.1 mg/dL, 2.0 × baseline 1.05 (lowest of 7 days): KDIGO stage 2"
    )


def test_just_under_twice_reads_1_9_times_and_stage_1():
    found = kdigo_stage(history((0, 1.0), (72, 1.99)), CONFIG)
    assert found is not None and found.stage == 1
    assert "1.9 × baseline 1.0" in describe_stage(found, CONFIG)  # never "2.0 ×" at stage 1


def test_three_times_the_baseline_is_stage_3():
    # 2.4 / 0.8 is 2.9999999999999996 in binary: three times, as written
    assert stage((0, 0.8), (72, 2.4)) == 3
    assert stage((0, 0.8), (72, 2.3)) == 2  # 2.875 ×


# -- ≥ 4.0 mg/dL: stage 3 only with AKI present -----------------------------------------------


def test_4_0_or_more_without_an_acute_rise_is_no_aki():
    # chronic kidney disease at a stable level: 3.9 → 4.1 is a rise of 0.2 and 1.05 ×
    assert stage((0, 3.9), (24, 4.1)) == 0


def test_4_0_or_more_with_aki_present_is_stage_3():
    # 3.9 → 4.3 within 48 h: a rise of 0.4 is AKI (stage 1), and ≥ 4.0 makes it stage 3
    found = kdigo_stage(history((0, 3.9), (24, 4.3)), CONFIG)
    assert found is not None and (found.stage, found.by, found.absolute) == (3, "rise", True)
    assert describe_stage(found, CONFIG) == (
        "creatinine 4.3 mg/dL, up 0.4 from 3.9 within 48 h, ≥ 4.0 mg/dL with AKI present: KDIGO stage 3"
    )
    # 2.5 → 4.0 over 4 days: 1.6 × baseline is AKI, and 4.0 is ≥ 4.0
    assert stage((0, 2.5), (96, 4.0)) == 3
    # 2.7 → 3.99: 1.48 ×, and no result in the 48 h before: no AKI, and under 4.0 anyway
    assert stage((0, 2.7), (96, 3.99)) == 0


# -- the stage follows the latest reading --------------------------------------------------


def test_a_falling_value_after_a_peak_gives_the_latest_readings_stage():
    course = [(0, 1.0), (48, 2.1)]
    assert stage(*course) == 2
    course.append((96, 1.6))  # 1.6 × the lowest of 7 days (1.0): still AKI, stage 1
    assert stage(*course) == 1
    course.append((144, 1.2))  # 1.2 ×, and lower than everything in the 48 h before
    assert stage(*course) == 0


def test_a_result_in_micromoles_is_staged_in_mg_dl():
    # 168 µmol/L ÷ 88.4 = 1.9005 mg/dL: 1.90 × a baseline of 1.0 (stage 1), 2.11 × one of 0.9
    micromoles = lab(72, 168, "µmol/L")
    assert micromoles.value == pytest.approx(1.9005)
    found = kdigo_stage(history((0, 1.0), micromoles), CONFIG)
    assert found is not None and found.stage == 1
    assert describe_stage(found, CONFIG).startswith("creatinine 1.9 mg/dL, 1.9 × baseline 1.0")
    assert stage((0, 0.9), micromoles) == 2


def test_a_late_result_counts_where_it_belongs_in_time():
    # 1.2 on day 1, 2.0 on day 3: 1.67 ×, stage 1. A result of 0.9 from day 2, reported late,
    # lowers the baseline of the day-3 reading to 0.9: 2.22 ×, stage 2 — still day 3's stage.
    labs = history((24, 1.2), (72, 2.0))
    assert kdigo_stage(labs, CONFIG).stage == 1
    late = lab(48, 0.9)
    labs.add(late.test, late.value, late.ts.timestamp(), CONFIG.lab_history_days * 86400, CONFIG.lab_history_max)
    found = kdigo_stage(labs, CONFIG)
    assert (found.stage, found.creatinine, found.baseline) == (2, 2.0, 0.9)
    # a late HIGH result is not the latest: the day-3 reading keeps its stage against 0.9
    high = lab(60, 3.5)
    labs.add(high.test, high.value, high.ts.timestamp(), CONFIG.lab_history_days * 86400, CONFIG.lab_history_max)
    assert (kdigo_stage(labs, CONFIG).stage, kdigo_stage(labs, CONFIG).creatinine) == (2, 2.0)


def test_the_thresholds_are_the_configurations():
    # a hospital that stages from 1.4 × and a 0.5 rise: 1.0 → 1.45 is stage 1 only there
    local = EngineConfig(aki_stage_1_ratio=1.4, aki_rise_mg_dl=0.5)
    assert kdigo_stage(history((0, 1.0), (24, 1.45)), local).stage == 1
    assert stage((0, 1.0), (24, 1.45)) == 1  # by the 0.3 rise under the defaults
    assert kdigo_stage(history((0, 1.0), (72, 1.45)), local).stage == 1
    assert stage((0, 1.0), (72, 1.45)) == 0  # no result within 48 h, 1.45 × < 1.5


# -- through the engine: the status's kidney part, and a restart ------------------------------


def _statuses(engine: Engine, *events: LabEvent) -> list:
    return [status for event in events for status in engine.observe(event).statuses]


def test_the_status_carries_the_stage_once_known_and_a_new_one_when_it_changes():
    engine = Engine()
    (first,) = _statuses(engine, lab(0, 1.0))
    assert first.kidney is None and first.labs["creatinine"].value == 1.0  # no stage yet
    (second,) = _statuses(engine, lab(24, 1.4))
    assert (second.kidney.aki_stage, second.kidney.creatinine, second.kidney.baseline) == (1, 1.4, 1.0)
    (third,) = _statuses(engine, lab(48, 2.2))
    assert (third.kidney.aki_stage, third.kidney.creatinine, third.kidney.baseline) == (2, 2.2, 1.0)
    assert third.kidney.model_dump() == {"aki_stage": 2, "creatinine": 2.2, "baseline": 1.0}


def test_a_restored_patient_has_the_stage_it_had():
    engine = Engine()
    _statuses(engine, lab(0, 1.0), lab(24, 1.6))  # 1.6 × and a 0.6 rise: stage 1
    before = engine.snapshot(PATIENT)
    restored = Engine()
    restored.restore(PATIENT, before)
    assert restored.snapshot(PATIENT) == before  # the stage is derived: nothing of it in the bytes
    # a CRP result does not restage the kidney (only creatinine does): its status shows the
    # stage the restore derived from the stored history
    crp = decode_input(
        orjson.dumps(
            {
                "patient_id": PATIENT,
                "ts": "2026-11-21T08:00:00Z",
                "type": "lab",
                "test": "crp",
                "value": 12.0,
                "unit": "mg/L",
            }
        )
    )
    (again,) = restored.observe(crp).statuses
    (original,) = engine.observe(crp).statuses
    assert (again.kidney.aki_stage, again.kidney.creatinine, again.kidney.baseline) == (1, 1.6, 1.0)
    assert again == original
