"""The `aki` rule (monitor/rules/aki.py) through the engine, on events decoded from the wire.

A creatinine course of a week: baseline, a rise that is stage 1, twice the baseline (stage 2),
three times (stage 3), and recovery. What each alert must say follows from KDIGO's stages
(tests/test_kidney.py works them out) and the rule's policy: stage 1 medium, 2 and 3 high, no
persistence (a lab result is one verified measurement), downgrade after 24 h and resolve after
48 h of a lower stage (monitor/config.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from monitor.config import EngineConfig
from monitor.engine import Engine, Outputs
from monitor.wire import decode_input

T0 = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)
PATIENT = "MRN-000123"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def stamp(hours: float) -> str:
    return at(hours).isoformat().replace("+00:00", "Z")


def creatinine(hours: float, value: float, unit: str = "mg/dL"):
    return decode_input(
        orjson.dumps(
            {
                "patient_id": PATIENT,
                "ts": stamp(hours),
                "type": "lab",
                "test": "creatinine",
                "value": value,
                "unit": unit,
            }
        )
    )


def vitals(hours: float):
    return decode_input(
        orjson.dumps(
            {
                "patient_id": PATIENT,
                "ts": stamp(hours),
                "heart_rate": 78,
                "systolic_bp": 124,
                "temperature": 36.8,
                "spo2": 97,
                "respiratory_rate": 14,
            }
        )
    )


def aki_alerts(outputs: Outputs) -> list[tuple[str, str, tuple[str, ...], datetime]]:
    return [
        (alert.status, alert.severity, tuple(alert.reasons), alert.observed_at)
        for alert in outputs.alerts
        if alert.rule == "aki"
    ]


def feed(engine: Engine, *events) -> Outputs:
    outputs = Outputs()
    for event in events:
        outputs.extend(engine.observe(event))
    return outputs


def test_stage_1_fires_medium_at_once_and_stage_2_updates_it_to_high():
    engine = Engine()
    assert aki_alerts(feed(engine, creatinine(0, 1.0))) == []  # a first value: no stage
    fired = engine.observe(creatinine(24, 1.4))
    assert aki_alerts(fired) == [
        ("firing", "medium", ("creatinine 1.4 mg/dL, up 0.4 from 1.0 within 48 h: KDIGO stage 1",), at(24))
    ]
    (alert,) = fired.alerts
    assert alert.episode_id == f"{PATIENT}:aki:{stamp(24)}"
    assert alert.crs_grade is None and alert.news2_score is not None  # clinical, not CRS-graded
    assert fired.durable  # an episode opened: the worker must store the patient now
    updated = engine.observe(creatinine(48, 2.1))
    assert aki_alerts(updated) == [
        ("updated", "high", ("creatinine 2.1 mg/dL, 2.1 × baseline 1.0 (lowest of 7 days): KDIGO stage 2",), at(48))
    ]
    assert updated.alerts[0].episode_id == alert.episode_id


def test_stage_3_is_an_update_at_the_same_high_severity_naming_stage_3():
    engine = Engine()
    feed(engine, creatinine(0, 1.0), creatinine(24, 2.0))  # stage 2: firing high
    outputs = engine.observe(creatinine(48, 3.2))
    assert aki_alerts(outputs) == [
        ("updated", "high", ("creatinine 3.2 mg/dL, 3.2 × baseline 1.0 (lowest of 7 days): KDIGO stage 3",), at(48))
    ]
    critical = Engine(EngineConfig(aki_stage_3_severity="critical"))  # a hospital's own policy
    feed(critical, creatinine(0, 1.0), creatinine(24, 2.0))
    assert aki_alerts(critical.observe(creatinine(48, 3.2)))[0][:2] == ("updated", "critical")


def test_recovery_resolves_the_episode_48_hours_after_the_stage_falls_to_0():
    engine = Engine()
    feed(engine, creatinine(0, 1.0), creatinine(24, 1.4), creatinine(48, 2.1))
    # day 4: 1.1 is 1.1 × the lowest of 7 days and below everything in the 48 h before: stage 0
    assert aki_alerts(engine.observe(creatinine(96, 1.1))) == []  # nothing yet: the resolve delay
    assert aki_alerts(engine.advance_to(at(96 + 47))) == []
    resolved = engine.advance_to(at(96 + 48))
    assert aki_alerts(resolved) == [("resolved", "high", ("criteria absent for the resolve period",), at(144))]
    assert engine.episode(PATIENT, "aki").open is False


def test_a_lower_stage_downgrades_after_24_hours_and_a_relapse_keeps_the_episode():
    engine = Engine()
    feed(engine, creatinine(0, 1.0), creatinine(24, 2.1))  # stage 2: high
    # 1.6 at 48 h: 1.6 × baseline, stage 1; held 24 h before the episode goes down to medium
    assert aki_alerts(engine.observe(creatinine(48, 1.6))) == []
    downgraded = engine.advance_to(at(72))
    assert [(status, severity) for status, severity, _, _ in aki_alerts(downgraded)] == [("updated", "medium")]
    # stage 0 at 96 h, then stage 1 again at 120 h, within the 48-h resolve delay: same episode
    feed(engine, creatinine(96, 1.1))
    relapse = engine.observe(creatinine(120, 1.5))  # 1.5 × the lowest of 7 days
    assert aki_alerts(relapse) == []  # the open episode is already medium: nothing to page
    assert engine.episode(PATIENT, "aki").open
    assert aki_alerts(engine.advance_to(at(96 + 48))) == []  # the absence was cancelled


def test_vital_signs_between_results_change_nothing_of_the_episode():
    engine = Engine()
    feed(engine, creatinine(0, 1.0), creatinine(24, 1.4))
    steps = feed(engine, *(vitals(24 + minutes / 60) for minutes in range(1, 120, 5)))
    assert aki_alerts(steps) == []
    status = steps.statuses[-1]
    assert (status.kidney.aki_stage, status.kidney.creatinine) == (1, 1.4)


def test_a_snapshot_and_restore_mid_episode_gives_the_same_alerts():
    course = [
        creatinine(0, 1.0),
        creatinine(24, 1.4),
        creatinine(48, 2.1),
        vitals(50),
        creatinine(72, 168, "µmol/L"),
        creatinine(96, 1.1),
        vitals(100),
    ]
    uninterrupted = Engine()
    before = feed(uninterrupted, *course[:3])
    after = feed(uninterrupted, *course[3:])
    after.extend(uninterrupted.advance_to(at(150)))

    first = Engine()
    feed(first, *course[:3])
    restored = Engine()
    restored.restore(PATIENT, first.snapshot(PATIENT))
    assert restored.snapshot(PATIENT) == first.snapshot(PATIENT)
    again = feed(restored, *course[3:])
    again.extend(restored.advance_to(at(150)))
    assert again.alerts == after.alerts
    assert [(status, severity) for status, severity, _, _ in aki_alerts(before)] == [
        ("firing", "medium"),
        ("updated", "high"),
    ]
    # 168 µmol/L (1.9 mg/dL, stage 1) at 72 h, stage 0 at 96 h: downgraded to medium 24 h after
    # the stage-1 result, resolved 48 h after the stage-0 one
    assert [(status, severity, observed) for status, severity, _, observed in aki_alerts(after)] == [
        ("updated", "medium", at(96)),
        ("resolved", "medium", at(144)),
    ]


def test_the_rule_switched_off_opens_nothing_but_the_status_keeps_the_stage():
    engine = Engine(EngineConfig(aki_rule=False))
    outputs = feed(engine, creatinine(0, 1.0), creatinine(24, 2.1))
    assert outputs.alerts == []
    assert outputs.statuses[-1].kidney.aki_stage == 2


def test_discharge_resolves_an_open_aki_episode():
    engine = Engine()
    feed(engine, creatinine(0, 1.0), creatinine(24, 1.4))
    discharge = decode_input(orjson.dumps({"patient_id": PATIENT, "ts": stamp(30), "type": "discharge"}))
    assert [(status, reasons) for status, _, reasons, _ in aki_alerts(engine.observe(discharge))] == [
        ("resolved", ("patient discharged",))
    ]


def test_validate_counts_aki_alerts_as_a_clinical_rule():
    # validation/outcomes.py takes its rules from the registry: aki's firing and escalation
    # are counted by rule and severity, and make its own detector; an organ rule (not
    # ward-level) leaves the headline detectors to the vital-sign rules
    from validation.outcomes import flags_of_alerts, rule_detector

    engine = Engine()
    outputs = feed(engine, creatinine(0, 1.0), creatinine(24, 1.4), creatinine(48, 2.1))
    flags, by_rule = flags_of_alerts(outputs.alerts, T0.timestamp(), 72, ("aki",))
    assert by_rule == {("aki", "medium"): 1, ("aki", "high"): 1}
    # from 24 h (the stage-1 result): first_at in hours after T0
    assert flags[rule_detector("aki")].first_at == 24
    assert flags["crsmon ≥ medium"].first_at is None and not flags["crsmon ≥ high"].hours.any()


def test_a_late_creatinine_restages_the_latest_reading_at_the_patients_clock():
    # 1.2 on day 1 and 1.9 on day 3: 1.58 × the lowest of 7 days, stage 1. A day-2 result of
    # 0.9, reported after the day-3 one, lowers that reading's baseline: 2.1 ×, stage 2. The
    # engine cannot go back in time: the update is observed at the patient's clock (day 3).
    engine = Engine()
    feed(engine, creatinine(24, 1.2), creatinine(72, 1.9))
    assert engine.episode(PATIENT, "aki").severity == "medium"
    outputs = engine.observe(creatinine(48, 0.9))
    assert aki_alerts(outputs) == [
        ("updated", "high", ("creatinine 1.9 mg/dL, 2.1 × baseline 0.9 (lowest of 7 days): KDIGO stage 2",), at(72))
    ]
    assert outputs.statuses[-1].kidney.model_dump() == {"aki_stage": 2, "creatinine": 1.9, "baseline": 0.9}
