"""Episodes, not alarm storms: persistence, updates either way, hysteresis, acks, discharge."""

import random
from datetime import timedelta

from monitor.config import EngineConfig
from monitor.discharges import DischargeMemory
from monitor.engine import Engine, alert_id_for
from tests.support.clinical import Bedside

#: The NEWS2 rule, where a hospital turns the deterioration warning off (its floor's own tests:
#: tests/test_news2_floor.py).
NEWS2_RULE = EngineConfig(deterioration_rule=False)


def stable_vitals(bed: Bedside, minute: float, **override):
    values = dict(heart_rate=78, systolic_bp=122, spo2=97, respiratory_rate=15, temperature=36.9)
    values.update(override)
    return bed.vitals(bed.at(minute), **values)


def test_news2_fires_only_after_its_criteria_persist():
    bed = Bedside(Engine(NEWS2_RULE))
    for minute in range(0, 4):
        stable_vitals(bed, minute, spo2=91)  # a single parameter scoring 3
    stable_vitals(bed, 4)
    for minute in range(5, 9):
        stable_vitals(bed, minute, spo2=91)
    assert bed.firing() == []  # interrupted at 4 min, then 3 min: never 5 min in a row
    stable_vitals(bed, 9, spo2=91)
    stable_vitals(bed, 10, spo2=91)
    assert [(a.rule, a.severity, a.observed_at) for a in bed.firing()] == [("news2", "medium", bed.at(10))]


def test_persistence_is_honoured_by_the_timer_for_a_patient_who_sends_nothing_more():
    bed = Bedside(Engine(NEWS2_RULE))
    stable_vitals(bed, 0)
    stable_vitals(bed, 60, systolic_bp=101, respiratory_rate=22, heart_rate=112)  # NEWS2 6
    bed.advance(bed.at(64))
    assert bed.firing() == []
    bed.advance(bed.at(66))
    assert [(a.rule, a.severity, a.observed_at) for a in bed.firing()] == [("news2", "high", bed.at(65))]


def test_a_temperature_wobbling_around_38_for_a_day_is_one_episode():
    rng = random.Random(7)
    bed = Bedside()
    bed.therapy(bed.at(0))
    febrile = 0
    for hour in range(1, 25):
        temperature = round(38.0 + rng.uniform(-0.4, 0.4), 1)
        febrile += temperature >= 38.0
        stable_vitals(bed, hour * 60, temperature=temperature)
    assert 6 < febrile < 20
    assert [a.status for a in bed.alerts] == ["firing"]
    assert len({a.episode_id for a in bed.alerts}) == 1


def test_an_episode_is_updated_when_severity_rises_and_again_when_it_falls():
    bed = Bedside()
    bed.therapy(bed.at(0))
    stable_vitals(bed, 600, temperature=38.4)
    stable_vitals(bed, 630, temperature=38.4, systolic_bp=108)
    stable_vitals(bed, 660, temperature=38.5, systolic_bp=88)  # grade 2: high once it persists
    assert [a.status for a in bed.alerts] == ["firing"]
    for minute in range(690, 781, 30):
        stable_vitals(bed, minute, temperature=38.3, systolic_bp=112)  # back to grade 1
    changes = [(a.status, a.severity, a.crs_grade, a.observed_at) for a in bed.alerts]
    assert changes == [
        ("firing", "medium", 1, bed.at(600)),
        ("updated", "high", 2, bed.at(665)),  # the 5-minute persistence, honoured by time alone
        ("updated", "medium", 1, bed.at(750)),  # grade 1 since 690: after the 60 min downgrade delay
    ]
    assert len({a.episode_id for a in bed.alerts}) == 1
    assert len({a.alert_id for a in bed.alerts}) == 3


def test_a_brief_lower_reading_does_not_downgrade():
    bed = Bedside()
    bed.therapy(bed.at(0))
    stable_vitals(bed, 600, temperature=38.4, systolic_bp=95)
    stable_vitals(bed, 615, temperature=38.4, systolic_bp=88)
    bed.advance(bed.at(621))
    for minute, systolic in ((630, 91), (645, 89), (660, 92), (675, 88), (690, 91)):
        stable_vitals(bed, minute, temperature=38.4, systolic_bp=systolic)
    assert [(a.status, a.severity) for a in bed.alerts] == [("firing", "medium"), ("updated", "high")]


def test_the_episode_resolves_after_the_criteria_are_absent_for_the_hysteresis():
    bed = Bedside(Engine(EngineConfig(crs_resolve_after_h=6)))
    bed.therapy(bed.at(0))
    stable_vitals(bed, 600, temperature=38.6)
    for hour in range(1, 5):
        stable_vitals(bed, 600 + hour * 60, temperature=37.2)
    assert [a.status for a in bed.alerts] == ["firing"]
    bed.advance(bed.at(660 + 6 * 60 - 1))
    assert [a.status for a in bed.alerts] == ["firing"]
    bed.advance(bed.at(660 + 6 * 60 + 1))
    assert [(a.status, a.observed_at) for a in bed.alerts] == [
        ("firing", bed.at(600)),
        ("resolved", bed.at(660 + 6 * 60)),
    ]
    stable_vitals(bed, 2000, temperature=38.9)  # a new fever after resolution: a new episode
    assert [a.status for a in bed.alerts] == ["firing", "resolved", "firing"]
    assert bed.alerts[2].episode_id != bed.alerts[0].episode_id


def test_the_same_events_resolve_at_the_same_moment_with_or_without_a_timer():
    def run(with_timer: bool):
        bed = Bedside()
        bed.therapy(bed.at(0))
        stable_vitals(bed, 600, temperature=38.6)
        stable_vitals(bed, 660, temperature=37.0)
        if with_timer:
            for hour in range(1, 30):
                bed.advance(bed.at(660 + hour * 37))
        stable_vitals(bed, 660 + 20 * 60, temperature=37.0)
        return [(a.status, a.observed_at, a.alert_id) for a in bed.alerts]

    assert run(True) == run(False)
    assert run(False)[-1][0] == "resolved"


def test_episode_and_alert_ids_follow_the_contract():
    bed = Bedside()
    bed.therapy(bed.at(0))
    stable_vitals(bed, 100, temperature=38.6)
    bed.vitals(bed.at(100.5), temperature=38.7)
    bed.discharge(bed.at(120))
    firing, resolved = bed.alerts
    assert firing.episode_id == "MRN-000123:crs:2026-11-23T09:40:00Z"
    assert firing.alert_id == alert_id_for(firing.episode_id, 1)
    assert resolved.alert_id == alert_id_for(firing.episode_id, 2)
    assert firing.emitted_at is None and resolved.emitted_at is None
    again = Bedside()
    again.therapy(again.at(0))
    stable_vitals(again, 100, temperature=38.6)
    assert again.alerts[0].alert_id == firing.alert_id  # reprocessing gives the same ids


def test_acknowledgements_are_recorded_and_cleared_by_a_change_of_severity():
    bed = Bedside()
    bed.therapy(bed.at(0))
    stable_vitals(bed, 600, temperature=38.4)
    episode_id = bed.alerts[0].episode_id
    assert bed.acknowledge(bed.at(603), episode_id, by="rn-4411").durable
    episode = bed.engine.episode(bed.patient_id, "crs")
    assert episode.acknowledged_by == "rn-4411"
    assert episode.acknowledged_at == bed.at(603).timestamp()
    assert not bed.acknowledge(bed.at(604), "MRN-000123:crs:2026-01-01T00:00:00Z").durable
    assert bed.engine.episode(bed.patient_id, "crs").acknowledged_by == "rn-4411"
    stable_vitals(bed, 610, temperature=38.4, systolic_bp=104)
    stable_vitals(bed, 615, temperature=38.4, systolic_bp=86)
    bed.advance(bed.at(620))
    assert bed.alerts[-1].severity == "high"
    assert bed.engine.episode(bed.patient_id, "crs").acknowledged_by is None
    assert [a.status for a in bed.alerts] == ["firing", "updated"]  # an ack resolves nothing


def test_discharge_resolves_every_open_episode():
    bed = Bedside()
    bed.therapy(bed.at(0))
    for second in range(0, 600, 10):
        bed.vitals(bed.at(0) + timedelta(seconds=second), heart_rate=80, spo2=97, temperature=38.2)
    bed.advance(bed.at(30))
    assert sorted(a.rule for a in bed.firing()) == ["crs", "signal_loss"]
    outputs = bed.discharge(bed.at(40))
    assert outputs.durable
    assert sorted((a.rule, a.status) for a in outputs.alerts) == [("crs", "resolved"), ("signal_loss", "resolved")]
    assert all(a.observed_at == bed.at(40) for a in outputs.alerts)
    assert bed.patient_id not in bed.engine.patients()
    assert DischargeMemory.is_record(bed.engine.snapshot(bed.patient_id)), "only the discharge is kept"


def test_in_the_risk_period_a_deterioration_before_the_fever_is_already_the_crs_episode():
    bed = Bedside(Engine(NEWS2_RULE))
    bed.therapy(bed.at(0))
    for minute in range(0, 20):
        stable_vitals(bed, minute, respiratory_rate=26)  # single parameter 3: medium after 5 min
    assert [(a.rule, a.status, a.severity, a.crs_grade) for a in bed.alerts] == [("crs", "firing", "medium", 0)]
    assert "respiratory rate 26/min scores 3" in bed.alerts[0].reasons
    for minute in range(20, 30):
        stable_vitals(bed, minute, respiratory_rate=26, temperature=38.5)
    assert [(a.rule, a.status, a.severity, a.crs_grade) for a in bed.alerts] == [
        ("crs", "firing", "medium", 0),
        ("crs", "updated", "medium", 1),
    ]  # one course, one page
    assert len({a.episode_id for a in bed.alerts}) == 1


def test_a_news2_episode_hands_over_to_the_crs_episode_when_a_risk_period_begins():
    bed = Bedside(Engine(NEWS2_RULE))
    for minute in range(0, 20):
        stable_vitals(bed, minute, respiratory_rate=26)
    assert [(a.rule, a.status) for a in bed.alerts] == [("news2", "firing")]
    bed.therapy(bed.at(20))
    for minute in range(20, 30):
        stable_vitals(bed, minute, respiratory_rate=26)
    assert [(a.rule, a.status) for a in bed.alerts] == [("news2", "firing"), ("crs", "firing"), ("news2", "resolved")]
    assert bed.alerts[2].reasons == [f"continued as {bed.alerts[1].episode_id}"]


def test_news2_severity_policy_outside_crs():
    for override, severity in (
        (dict(respiratory_rate=26), "medium"),
        (dict(respiratory_rate=22, heart_rate=112, systolic_bp=105), "high"),
        (dict(respiratory_rate=26, heart_rate=112, systolic_bp=95), "critical"),
    ):
        bed = Bedside(Engine(NEWS2_RULE))
        for minute in range(0, 6):
            stable_vitals(bed, minute, **override)
        assert [(a.rule, a.severity) for a in bed.firing()] == [("news2", severity)], override
