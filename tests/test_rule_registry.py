"""The rule registry (monitor/rules/registry.py): every place that lists rules reads it.

Why these tests: before the registry a rule was listed by hand in seven places, and one
missed (validation's list of clinical rules) silently dropped the rule out of the figures.
"""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.assessment import assess
from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.episodes import Change, Timing
from monitor.patient_state import Patient
from monitor.reports import alert_of
from monitor.rules import CLINICAL_RULES, REGISTRY, RULES, TECHNICAL_RULES, in_step_order
from monitor.window import Window, WindowLimits
from validation import outcomes


def test_registration_order_is_the_snapshot_order():
    # A patient's episodes follow the registry, and their order is in the snapshot's bytes:
    # a new rule goes at the end (docs/rules.md).
    assert RULES == ("crs", "news2", "signal_loss", "deterioration", "aki", "icans", "neuro_overdue")
    patient = Patient("p1", Window(WindowLimits(minutes=60, lateness_s=60, raw_rows_max=10)))
    assert tuple(patient.episodes) == RULES


def test_a_later_rule_writes_its_episode_only_once_it_is_not_idle_and_restores_in_registry_order():
    # Why: adding a rule must leave the bytes of every patient it never concerned as they were
    # (tests/test_window.py reads a format 3 snapshot back to the same bytes).
    from monitor.patient_state import Patient as Stored

    limits = WindowLimits(minutes=60, lateness_s=60, raw_rows_max=10)
    patient = Stored("p1", Window(limits))
    before = patient.to_bytes()
    patient.episodes["neuro_overdue"].above_since = 5.0  # pending: no longer idle
    after = patient.to_bytes()
    assert after != before
    restored = Stored.from_bytes(after, limits)
    assert tuple(restored.episodes) == RULES
    assert restored.episodes["neuro_overdue"].above_since == 5.0
    assert restored.episodes["icans"].as_list() == patient.episodes["icans"].as_list()
    assert restored.to_bytes() == after


def test_step_order_puts_crs_first_and_one_ward_rule_on():
    names = [rule.name for rule in in_step_order(EngineConfig())]
    assert names == ["crs", "deterioration", "aki", "icans", "signal_loss", "neuro_overdue"]
    names = [rule.name for rule in in_step_order(EngineConfig(deterioration_rule=False))]
    assert names == ["crs", "news2", "aki", "icans", "signal_loss", "neuro_overdue"]
    names = [rule.name for rule in in_step_order(EngineConfig(aki_rule=False, icans_rule=False))]
    assert names == ["crs", "deterioration", "signal_loss"]


def test_validation_counts_the_registered_clinical_rules():
    assert outcomes.CLINICAL_RULES == CLINICAL_RULES == {"crs", "news2", "deterioration", "aki", "icans"}
    assert TECHNICAL_RULES == {"signal_loss", "neuro_overdue"}
    assert CLINICAL_RULES | TECHNICAL_RULES == set(RULES)


def test_each_rule_times_its_episodes_as_it_declares():
    config = EngineConfig(crs_persistence_s=11, news2_persistence_s=22)
    engine = Engine(config)
    timing = engine._timing  # noqa: SLF001 - what the engine times each episode by
    for rule in REGISTRY:
        assert timing(rule.name, 2) == rule.timing(config)
    # a CRS episode that never had a grade is a ward deterioration, timed as NEWS2
    assert timing("crs", 0) == timing("news2", 0)
    assert timing("crs", 0).persistence_s == 22
    assert timing("crs", 1) == Timing(11, config.crs_downgrade_after_min * 60, config.crs_resolve_after_h * 3600)


def test_alerts_carry_the_news2_score_and_grade_as_the_rule_declares():
    at = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    patient = Patient("p1", Window(WindowLimits(minutes=60, lateness_s=60, raw_rows_max=10)))
    a = assess(patient, at.timestamp(), EngineConfig())
    change = Change("p1:x", 1, "firing", "medium", 2, ("why",), at.timestamp())
    for rule in REGISTRY:
        alert = alert_of(patient, rule.name, change, a, at)
        assert (alert.news2_score is not None) == rule.clinical, rule.name
        assert (alert.crs_grade is not None) == rule.graded, rule.name
