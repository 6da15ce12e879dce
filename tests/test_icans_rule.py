"""The `icans` and `neuro_overdue` rules through the engine, with events decoded from the wire.

Why through the engine: what matters is what a ward sees — the alerts and statuses a course of
charted assessments gives, the overdue alert that comes by the timer when nothing is charted,
and the same alerts after a restart mid-episode. Expected severities follow the policy of
issue 21 (grade 1 medium, 2 high, 3–4 critical; an ICE fall of 2 from the patient's best at
least medium) and the grades the consensus table gives.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from monitor.config import EngineConfig
from monitor.engine import Engine, Outputs
from monitor.wire import decode_input

P = "MRN-21"
THERAPY = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Day `day` after the therapy (day 0 is the therapy's day), at hour:minute UTC."""
    return THERAPY.replace(hour=0) + timedelta(days=day, hours=hour, minutes=minute)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def therapy() -> dict:
    return {"patient_id": P, "ts": stamp(THERAPY), "type": "therapy", "therapy": "car-t"}


def neuro(moment: datetime, ice: int | None, arousal: str | None = "alert", **others) -> dict:
    event = {"patient_id": P, "ts": stamp(moment), "type": "neuro", "arousal": arousal, "by": "rn-1"}
    if ice is not None:
        event["ice"] = ice
    return {**event, **others}


def vitals(moment: datetime, consciousness: str = "A") -> dict:
    return {
        "patient_id": P,
        "ts": stamp(moment),
        "heart_rate": 80,
        "systolic_bp": 125,
        "respiratory_rate": 16,
        "spo2": 98,
        "temperature": 36.8,
        "consciousness": consciousness,
    }


def feed(engine: Engine, document: dict) -> Outputs:
    return engine.observe(decode_input(orjson.dumps(document)))


def changes(outputs: Outputs, rule: str | None = None) -> list[tuple]:
    return [
        (alert.rule, alert.status, alert.severity, tuple(alert.reasons))
        for alert in outputs.alerts
        if rule is None or alert.rule == rule
    ]


def test_a_course_opens_on_an_ice_fall_escalates_with_the_grade_and_resolves_after_grade_0_held():
    engine = Engine()
    feed(engine, therapy())
    assert changes(feed(engine, neuro(at(1, 8), 10))) == []
    opened = feed(engine, neuro(at(1, 16), 8))
    assert changes(opened) == [("icans", "firing", "medium", ("ICE 8 (was 10 at 08:00): grade 1",))]
    assert opened.statuses[-1].icans.grade == 1 and opened.statuses[-1].icans.ice == 8
    assert changes(feed(engine, neuro(at(1, 20), 5))) == [
        ("icans", "updated", "high", ("ICE 5 (was 10 at 08:00): grade 2",))
    ]
    assert changes(feed(engine, neuro(at(1, 23), 5, "touch"))) == [
        ("icans", "updated", "critical", ("awakens only to touch: grade 3", "ICE 5 (was 10 at 08:00): grade 2"))
    ]
    back = feed(engine, neuro(at(2, 7), 10))  # steroids work: grade 0
    assert changes(back, "icans") == []
    assert back.statuses[-1].icans.grade == 0
    resolve_h = EngineConfig().icans_resolve_after_h
    just_before = engine.advance_to(at(2, 7) + timedelta(hours=resolve_h, seconds=-1))
    assert changes(just_before, "icans") == []
    due = engine.advance_to(at(2, 7) + timedelta(hours=resolve_h))
    assert [(rule, status) for rule, status, *_ in changes(due, "icans")] == [("icans", "resolved")]


def test_an_ice_fall_of_2_from_the_patients_best_opens_medium_even_where_grade_1_is_lower():
    # A hospital that pages grade 1 as `low` still gets `medium` for the fall from the best.
    config = EngineConfig(icans_grade_1_severity="low")
    engine = Engine(config)
    feed(engine, therapy())
    feed(engine, neuro(at(1, 8), 10))
    assert [c[:3] for c in changes(feed(engine, neuro(at(1, 16), 9)))] == [("icans", "firing", "low")]
    fell = changes(feed(engine, neuro(at(1, 22), 8)))
    assert fell == [("icans", "updated", "medium", ("ICE 8 (was 10 at 08:00): grade 1",))]


def test_no_icans_alert_outside_the_watch_though_the_status_carries_the_grade():
    engine = Engine()  # no therapy: nothing to watch
    out = feed(engine, neuro(at(1, 8), 4, "voice"))
    assert changes(out) == []
    assert (out.statuses[-1].icans.grade, out.statuses[-1].icans.ice) == (2, 4)
    late = Engine()
    feed(late, therapy())
    watch = EngineConfig().icans_watch_days
    assert changes(feed(late, neuro(THERAPY + timedelta(days=watch, hours=1), 4))) == []


def test_the_rules_are_off_with_their_switch():
    engine = Engine(EngineConfig(icans_rule=False))
    feed(engine, therapy())
    feed(engine, neuro(at(1, 8), 10))
    assert changes(feed(engine, neuro(at(1, 16), 2, "touch"))) == []
    assert changes(engine.advance_to(at(3, 0))) == []


def test_an_overdue_assessment_fires_by_the_timer_and_resolves_with_the_next_assessment():
    engine = Engine()
    feed(engine, therapy())
    feed(engine, neuro(at(1, 8), 10))
    interval = EngineConfig().neuro_overdue_after_h
    assert changes(engine.advance_to(at(1, 8) + timedelta(hours=interval, seconds=-1))) == []
    overdue = engine.advance_to(at(1, 8) + timedelta(hours=interval))
    assert changes(overdue) == [
        ("neuro_overdue", "firing", "low", ("no neurological assessment for 12 h (due every 12 h)",))
    ]
    assert overdue.alerts[0].news2_score is None  # technical: the watch is impaired, not the patient
    assert overdue.statuses[-1].icans.overdue is True
    back = feed(engine, neuro(at(1, 21), 10))
    assert [c[:2] for c in changes(back)] == [("neuro_overdue", "resolved")]
    assert back.statuses[-1].icans.overdue is None


def test_no_overdue_alert_for_a_patient_never_assessed_nor_after_the_watch():
    engine = Engine()
    feed(engine, therapy())
    assert changes(engine.advance_to(at(5, 0))) == []  # a ward that does not chart ICE here
    watched = Engine()
    feed(watched, therapy())
    watch = EngineConfig().icans_watch_days
    last = THERAPY + timedelta(days=watch, hours=-2)
    feed(watched, neuro(last, 10))
    assert changes(watched.advance_to(last + timedelta(days=2))) == []


def test_a_restore_mid_episode_gives_the_same_alerts():
    course = [therapy(), neuro(at(1, 8), 10), neuro(at(1, 16), 8), vitals(at(1, 17)), neuro(at(1, 20), 5, "voice")]
    rest = [
        neuro(at(2, 2), 3, "touch", seizure="resolved"),
        vitals(at(2, 3)),
        neuro(at(2, 10), 9),
        neuro(at(2, 20), 10),
    ]
    uninterrupted, first = Engine(), Engine()
    for document in course:
        feed(uninterrupted, document)
        feed(first, document)
    restored = Engine()
    restored.restore(P, first.snapshot(P))
    expected = [changes(feed(uninterrupted, document)) for document in rest]
    got = [changes(feed(restored, document)) for document in rest]
    assert got == expected
    end = at(4, 0)
    assert changes(restored.advance_to(end)) == changes(uninterrupted.advance_to(end))
    rules = [c[:3] for step in expected for c in step]
    assert ("icans", "updated", "critical") in rules and ("icans", "updated", "medium") in rules


def test_an_assessment_is_a_news2_consciousness_reading_when_newer_than_the_latest_acvpu():
    engine = Engine()
    feed(engine, therapy())
    feed(engine, vitals(at(1, 7)))
    feed(engine, neuro(at(1, 8), 10))
    confused = feed(engine, neuro(at(1, 9), 8))  # ICE below a best of 10: new confusion, 3 points
    assert confused.statuses[-1].news2.components["consciousness"] == 3
    assert feed(engine, vitals(at(1, 10))).statuses[-1].news2.components["consciousness"] == 0  # A, newer
    # an assessment charted late, older than the latest ACVPU, does not override it
    assert feed(engine, neuro(at(1, 9, 30), 4, "voice")).statuses[-1].news2.components["consciousness"] == 0
    voice = feed(engine, neuro(at(1, 11), 6, "voice"))
    assert voice.statuses[-1].news2.components["consciousness"] == 3
