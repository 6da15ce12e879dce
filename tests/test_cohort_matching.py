"""The cohort benchmark's matching rules (bench/cohort.py), on hand-made truths and alerts: the
figures it prints for the closing note are only as good as these rules."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from bench.cohort import PatientAlerts, evaluate, near_a_bout, run_cohort, split_by_patient
from monitor.engine import Engine
from monitor.wire import Alert
from simulator import GroundTruth, Simulation, SimulationSettings

T0 = datetime(2026, 11, 23, tzinfo=timezone.utc)
H = timedelta(hours=1)


def truth(
    patient_id: str,
    kind: str,
    start: datetime | None = None,
    end: datetime | None = None,
    onset: datetime | None = None,
    grade2: datetime | None = None,
) -> GroundTruth:
    return GroundTruth(
        patient_id=patient_id,
        kind=kind,
        course="test",
        ward="5-West",
        bed="1",
        monitored_from=T0,
        monitored_to=T0 + 48 * H,
        therapy_at=None,
        deterioration_start=start,
        deterioration_end=end,
        first_fever_at=onset,
        crs_onset_at=onset if kind == "crs" else None,
        grade2_at=grade2,
        grade2_criterion="hypotension" if grade2 else None,
        grade2_cycle_s=900 if grade2 else None,
        max_grade=2 if grade2 else 0,
        planned_grade=0,
        urgent_at=None,
    )


def alert(
    patient_id: str,
    at: datetime,
    status: str = "firing",
    severity: str = "medium",
    episode: str = "e1",
    rule: str = "crs",
) -> Alert:
    return Alert(
        alert_id=f"{episode}{at}{status}",
        episode_id=f"{patient_id}:{episode}",
        patient_id=patient_id,
        status=status,
        severity=severity,
        rule=rule,
        reasons=[],
        observed_at=at,
    )


def test_on_a_stable_patient_every_medium_or_higher_change_is_false_and_low_or_resolved_never_counts():
    p = PatientAlerts(
        truth("A", "stable"),
        [
            alert("A", T0 + H),
            alert("A", T0 + 2 * H, "updated", "high"),
            alert("A", T0 + 3 * H, "resolved"),
            alert("A", T0 + 4 * H, severity="low", episode="loss", rule="signal_loss"),
        ],
    )
    assert [a.status for a in p.false] == ["firing", "updated"] and not p.true


def test_changes_of_an_episode_that_fired_inside_the_window_stay_true_after_it():
    course = truth("B", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H)
    p = PatientAlerts(
        course,
        [
            alert("B", T0 + 9.5 * H),  # inside the hour of lead
            alert("B", T0 + 30 * H, "updated", "high"),  # after the tail, same episode
            alert("B", T0 + 40 * H, episode="e2"),  # a new episode long after: false
            alert("B", T0 + 5 * H, episode="e0"),  # before the lead: false
        ],
    )
    assert [a.observed_at for a in p.true] == [T0 + 9.5 * H, T0 + 30 * H]
    assert [a.episode_id for a in p.false] == ["B:e2", "B:e0"]
    assert p.firings() == 1 and p.firings("news2") == 0


def test_open_at_the_first_fever_needs_an_unresolved_medium_episode_of_this_course():
    course = truth("C", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H)
    fired_and_open = PatientAlerts(course, [alert("C", T0 + 11 * H)])
    resolved_before = PatientAlerts(course, [alert("C", T0 + 10 * H), alert("C", T0 + 10.5 * H, "resolved")])
    from_before_the_course = PatientAlerts(course, [alert("C", T0 + 2 * H)])
    only_low = PatientAlerts(course, [alert("C", T0 + 11 * H, severity="low", rule="signal_loss")])
    later = PatientAlerts(course, [alert("C", T0 + 11 * H + timedelta(seconds=1))])
    assert fired_and_open.open_at(course.crs_onset_at)
    assert not resolved_before.open_at(course.crs_onset_at)
    assert not from_before_the_course.open_at(course.crs_onset_at)
    assert not only_low.open_at(course.crs_onset_at)
    assert not later.open_at(course.crs_onset_at)


def test_figures_count_rates_shares_and_lags():
    stable = truth("S", "stable")
    course = truth("D", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H, grade2=T0 + 15 * H)
    alerts = [
        alert("S", T0 + H),
        alert("D", T0 + 11 * H),
        alert("D", T0 + 15 * H + timedelta(minutes=10), "updated", "high"),  # inside one 15-min cycle
    ]
    figures = evaluate(split_by_patient([stable, course], alerts))
    text = "\n".join(figures.lines)
    assert "false alerts (medium+): 1 = 0.500 per stable patient-day" in text
    assert "alerted at the first febrile reading: 1/1 = 100 %" in text
    assert "within one measurement cycle: 1/1 = 100 %" in text
    assert "median 10.0 min" in text
    assert "first medium+ alert: median 4.0 h" in text
    assert "never met grade 2 yet were escalated to high: n/a" in text
    assert not figures.misses


def test_a_mild_course_escalated_to_high_is_counted_as_the_cost_of_warning():
    mild = truth("F", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H)
    calm = truth("G", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H)
    figures = evaluate(
        split_by_patient(
            [mild, calm], [alert("F", T0 + 11 * H), alert("F", T0 + 13 * H, "updated", "high"), alert("G", T0 + 11 * H)]
        )
    )
    assert "never met grade 2 yet were escalated to high: 1/2 = 50 %" in "\n".join(figures.lines)


def test_a_late_escalation_is_a_miss_with_its_lag():
    course = truth("E", "crs", start=T0 + 10 * H, end=T0 + 20 * H, onset=T0 + 11 * H, grade2=T0 + 15 * H)
    figures = evaluate(
        split_by_patient([course], [alert("E", T0 + 11 * H), alert("E", T0 + 15.5 * H, "updated", "high")])
    )
    assert "within one measurement cycle: 0/1 = 0 %" in "\n".join(figures.lines)
    assert figures.misses == ["high 30 min after grade 2 (cycle 900 s): E (test, max grade 2)"]


class RecordingEngine(Engine):
    """The real engine, noting what the cohort runner asks of it and in which order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, datetime]] = []

    def advance_to(self, now):
        self.log.append(("tick", now))
        return super().advance_to(now)

    def observe(self, event):
        self.log.append(("event", event.ts))
        return super().observe(event)


def test_the_runner_feeds_events_in_order_with_a_tick_every_simulated_minute():
    simulation = Simulation(SimulationSettings(patients=3, days=0.25, seed=2))
    engine = RecordingEngine()
    run = run_cohort(simulation, engine)
    ticks = [at for kind, at in engine.log if kind == "tick"]
    events = [at for kind, at in engine.log if kind == "event"]
    assert events == sorted(events) and run.messages == len(events)
    assert {b - a for a, b in zip(ticks, ticks[1:])} == {timedelta(minutes=1)}
    assert ticks[0] == T0 + timedelta(minutes=1) and ticks[-1] == T0 + 6 * H
    last_event = None
    for kind, at in engine.log:  # a tick comes after every event before it, before any at or after it
        if kind == "event":
            last_event = at
        elif last_event is not None:
            assert last_event < at
    for (kind, at), (next_kind, next_at) in zip(engine.log, engine.log[1:]):
        if kind == "tick" and next_kind == "event":
            assert next_at >= at


def test_busy_stable_patients_are_counted_apart_with_the_alerts_near_their_bouts():
    bouts = ((T0 + 10 * H, T0 + 10.5 * H),)
    busy = dataclasses.replace(truth("W", "stable"), busy=True, bouts=bouts)
    calm = truth("Q", "stable")
    alerts = [
        alert("W", T0 + 10.2 * H),  # during the bout
        alert("W", T0 + 11 * H, episode="e2"),  # 30 min after its end: still the bout's
        alert("W", T0 + 11 * H + timedelta(seconds=1), episode="e3"),  # after that: not
        alert("Q", T0 + 10.2 * H),
    ]
    patients = split_by_patient([busy, calm], alerts)
    assert [near_a_bout(busy, a) for a in patients[0].false] == [True, True, False]
    text = "\n".join(evaluate(patients).lines)
    assert "busy patients (walks or physiotherapy): 1 ({'stable': 1}), 1 bouts" in text
    assert (
        "busy stable: 1 patients, 2.0 patient-days; false alerts (medium+): 3 = 1.500 per "
        "patient-day, 2 of them during a bout or within 30 min after it"
    ) in text
    assert (
        "other stable: 1 patients, 2.0 patient-days; false alerts (medium+): 1 = 0.500 per patient-day, 0 of them"
    ) in text
