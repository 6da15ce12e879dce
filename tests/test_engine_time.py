"""Time in the engine: every call ends within a fixed budget of steps, and when time was
advanced in between does not change what the same events give (hypothesis).

The first real ICU records (hourly, sparse, values missing for hours) hung the engine: a NEWS2
episode whose criteria came back exactly when its resolve hysteresis ended had a deadline that
no step could honour, and `advance_to` rescheduled it for ever. The records generated here are
of that kind — hourly and minute cadences, parameters that go missing for hours and come back,
values that cross the NEWS2 and CRS thresholds, late and duplicate rows, neurological
assessments (whose overdue moment and watch end are deadlines too) — with the timer run at
arbitrary moments, event times among them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import EngineConfig
from monitor.engine import _MAX_STEPS_PER_CALL, Engine, Outputs
from monitor.episodes import Episode, Level, Timing
from monitor.wire import encode, validate_input

START = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Values around the NEWS2 bands and the CRS criteria: each parameter scores 0, 2 or 3.
LEVELS = {
    "heart_rate": (72, 115, 135),
    "respiratory_rate": (16, 22, 27),
    "systolic_bp": (125, 96, 86),
    "mean_arterial_pressure": (85, 68, 58),
    "spo2": (97, 93, 90),
    "temperature": (37.0, 38.4, 39.4),
}


class CountingEngine(Engine):
    """The engine, counting the steps each public call takes."""

    steps = 0

    def _step(self, *args, **kwargs) -> None:
        self.steps += 1
        super()._step(*args, **kwargs)


@st.composite
def stays(draw) -> list[dict]:
    """One patient's records: a cadence, each parameter present with its own probability and
    missing for whole stretches, values moving between the levels, some rows late or repeated."""
    patient = draw(st.sampled_from(["p1", "p2"]))
    cadence = draw(st.sampled_from([3600, 3600, 60, 900]))
    presence = {name: draw(st.sampled_from([0.0, 0.3, 0.8, 1.0])) for name in LEVELS}
    count = draw(st.integers(min_value=1, max_value=40))
    rows, at = [], START + timedelta(seconds=draw(st.integers(0, 7200)))
    levels = {name: draw(st.integers(0, 2)) for name in LEVELS}
    for _ in range(count):
        at += timedelta(seconds=cadence * draw(st.sampled_from([1, 1, 1, 2, 5])))
        for name in LEVELS:
            if draw(st.integers(0, 9)) == 0:
                levels[name] = draw(st.integers(0, 2))
        row = {"patient_id": patient, "ts": at}
        for name, level in levels.items():
            if draw(st.floats(0, 1)) < presence[name]:
                row[name] = LEVELS[name][level]
        if len(row) == 2:
            row["heart_rate"] = LEVELS["heart_rate"][levels["heart_rate"]]
        if draw(st.integers(0, 4)) == 0:
            row["on_oxygen"] = draw(st.booleans())
        kind = draw(st.integers(0, 19))
        if kind == 0 and rows:
            rows.append(dict(rows[-1]))  # a duplicate
        elif kind == 1:
            rows.append({**row, "ts": at - timedelta(seconds=draw(st.integers(1, 900)))})  # late
        rows.append(row)
        if draw(st.integers(0, 5)) == 0:  # a neurological assessment: ICANS grades, overdue checks
            rows.append(
                {
                    "patient_id": patient,
                    "ts": at,
                    "type": "neuro",
                    "ice": draw(st.sampled_from([10, 10, 8, 5, 1])),
                    "arousal": draw(st.sampled_from(["alert", "alert", "voice", "unarousable"])),
                }
            )
    return rows


@st.composite
def wards(draw) -> tuple[list, list[datetime]]:
    """Events of one or two patients in time order (as a stable sort would give them), some
    patients in a CRS risk period, and moments for the timer: arbitrary, and event times."""
    events = [row for _ in range(draw(st.integers(1, 2))) for row in draw(stays())]
    for patient in ("p1", "p2"):
        if draw(st.booleans()):
            events.insert(0, {"patient_id": patient, "ts": START, "type": "therapy", "therapy": "car-t"})
    events.sort(key=lambda row: row["ts"])
    end = events[-1]["ts"]
    span = int((end - START).total_seconds()) + 1
    ticks = draw(
        st.lists(
            st.one_of(
                st.integers(0, span).map(lambda s: START + timedelta(seconds=s)),
                st.sampled_from([row["ts"] for row in events]),
            ),
            max_size=30,
        )
    )
    return [validate_input({**row, "ts": row["ts"].isoformat()}) for row in events], sorted(ticks)


def per_patient(outputs: Outputs) -> dict[str, list[bytes]]:
    seen: dict[str, list[bytes]] = {}
    for item in [*outputs.alerts]:
        seen.setdefault(item.patient_id, []).append(encode(item))
    return seen


def run(engine: Engine, events: list, ticks: list[datetime], patients: int | None = None) -> Outputs:
    """Each event, with the timer run at each tick that falls due before it, as a worker's
    timer would; then time runs to a day after the last event. `patients`: each tick honours
    that many patients a call, called again while any is due (the worker's slices)."""
    outputs = Outputs()
    pending = list(ticks)

    def tick(now: datetime) -> None:
        outputs.extend(engine.advance_to(now, patients))
        while patients is not None and engine.due_by(now):
            outputs.extend(engine.advance_to(now, patients))

    for event in events:
        while pending and pending[0] <= event.ts:
            tick(pending.pop(0))
        outputs.extend(engine.observe(event))
    tick(events[-1].ts + timedelta(days=1))
    return outputs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wards())
def test_every_call_ends_within_a_fixed_budget_of_steps(ward) -> None:
    events, ticks = ward
    engine = CountingEngine()
    pending = list(ticks)
    for event in events:
        while pending and pending[0] <= event.ts:
            engine.steps = 0
            engine.advance_to(pending.pop(0))
            assert engine.steps <= 2 * _MAX_STEPS_PER_CALL  # two patients at most
        engine.steps = 0
        engine.observe(event)
        assert engine.steps <= _MAX_STEPS_PER_CALL + 1
    engine.steps = 0
    engine.advance_to(events[-1].ts + timedelta(days=1))
    assert engine.steps <= 2 * _MAX_STEPS_PER_CALL
    assert not engine.stalls


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wards())
def test_the_same_events_give_the_same_alerts_whenever_time_was_advanced(ward) -> None:
    events, ticks = ward
    with_timer = run(Engine(), events, ticks)
    without = run(Engine(), events, [])
    assert per_patient(with_timer) == per_patient(without)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wards())
def test_time_advanced_one_patient_a_call_gives_the_same_alerts_as_all_at_once(ward) -> None:
    """The worker's timer takes slices of the patients due (CRSMON_TICK_PATIENTS); a patient
    left for the next call, or for its next event, fires at its own deadlines all the same."""
    events, ticks = ward
    at_once = run(Engine(), events, ticks)
    one_a_call = run(Engine(), events, ticks, patients=1)
    assert per_patient(one_a_call) == per_patient(at_once)


def test_a_call_takes_at_most_the_patients_asked_and_says_when_some_are_left() -> None:
    engine = Engine(EngineConfig(signal_loss_after_s=120))
    for seconds in range(0, 50, 10):  # five monitors fall silent at the same moment
        for number in range(5):
            engine.observe(
                validate_input(
                    {
                        "patient_id": f"p{number}",
                        "ts": (START + timedelta(seconds=seconds)).isoformat(),
                        "heart_rate": 80,
                        "spo2": 97,
                        "respiratory_rate": 15,
                    }
                )
            )
    later = START + timedelta(minutes=10)
    fired = []
    calls = 0
    while calls == 0 or engine.due_by(later):
        outputs = engine.advance_to(later, patients=2)
        assert len({alert.patient_id for alert in outputs.alerts}) <= 2
        fired += [(alert.patient_id, alert.rule) for alert in outputs.alerts]
        calls += 1
    assert calls == 3
    assert sorted(fired) == [(f"p{number}", "signal_loss") for number in range(5)]
    with pytest.raises(ValueError, match="at least one patient"):
        engine.advance_to(later, patients=0)


def test_closing_a_patient_gives_what_the_timer_would_and_forgets_it() -> None:
    events = [
        validate_input(
            {
                "patient_id": "p1",
                "ts": (START + timedelta(hours=h)).isoformat(),
                "heart_rate": 135,
                "respiratory_rate": 27,
                "spo2": 90,
            }
        )
        for h in range(3)
    ]
    end = START + timedelta(days=1)
    timed, closed = Engine(), Engine()
    for event in events:
        timed.observe(event)
        closed.observe(event)
    by_timer = timed.advance_to(end)
    by_close = closed.close("p1", end)
    assert [encode(a) for a in by_close.alerts] == [encode(a) for a in by_timer.alerts]
    last = {a.episode_id: a.status for a in by_close.alerts}
    assert by_close.alerts and set(last.values()) == {"resolved"}  # every episode ends
    assert list(closed.patients()) == []


def test_criteria_back_when_the_resolve_hysteresis_ends_leave_no_deadline_in_the_past() -> None:
    """The hang of issue 7, as the episode saw it: open, criteria absent at t0, back exactly at
    t0 + resolve. The step at that moment waits for the criteria to persist; the only deadline
    is the end of that persistence, never the resolve time already reached."""
    timing = Timing(persistence_s=300, downgrade_after_s=3600, resolve_after_s=4 * 3600)
    level = Level("high", None, lambda: ("NEWS2 7",))
    episode = Episode()
    t0 = 1_767_400_000.0
    assert episode.step(t0 - 3600, level._replace(at_once=True), timing, "p", "news2") is not None
    assert episode.step(t0, None, timing, "p", "news2") is None
    back = t0 + timing.resolve_after_s
    assert episode.step(back, level, timing, "p", "news2") is None
    assert episode.next_due(timing) == back + timing.persistence_s


def test_a_stuck_deadline_is_reported_counted_and_skipped(caplog) -> None:
    """Defence in depth: should a defect leave a deadline no step can honour, the engine says
    which at ERROR (no patient id, no values), counts it and goes on — it never loops."""

    class Broken(Episode):
        above_since = property(lambda self: 0.0, lambda self, value: None)  # a clock never reset

        def next_due(self, timing: Timing) -> float:
            return 0.0  # always due, whatever a step does

        def pending(self, timing: Timing) -> list[tuple[str, float]]:
            return [("planted", 0.0)]

    # The NEWS2 rule: with the deterioration warning on, its hourly deadline, blocked behind
    # the planted one, would be reported too (a second kind of stall, rightly).
    engine = Engine(EngineConfig(deterioration_rule=False))
    first = validate_input({"patient_id": "MRN-77", "ts": START.isoformat(), "heart_rate": 80})
    engine.observe(first)
    engine._patients["MRN-77"].episodes["news2"] = Broken()  # noqa: SLF001 (planting a defect)
    with caplog.at_level(logging.ERROR, logger="monitor.engine"):
        for hours in range(1, 4):
            later = START + timedelta(hours=hours)
            engine.advance_to(later)
            engine.observe(validate_input({"patient_id": "MRN-77", "ts": later.isoformat(), "heart_rate": 80}))
    assert engine.stalls["news2 planted"] >= 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # once per kind of stall; the count goes on
    assert "news2 planted" in errors[0] and "MRN-77" not in errors[0]


def test_the_worker_counts_engine_stalls_by_deadline_never_by_patient() -> None:
    """The worker's gauges timer carries Engine.stalls into crsmon_engine_stalls_total."""
    from streams import metrics

    def exported(deadline: str) -> float:
        value = metrics.REGISTRY.get_sample_value("crsmon_engine_stalls_total", {"deadline": deadline})
        return value or 0.0

    before = exported("news2 planted")
    stalls = metrics.EngineStalls()
    counts = {"news2 planted": 2}
    stalls.export(counts)
    stalls.export(counts)  # nothing new: nothing added
    counts["news2 planted"] = 5
    stalls.export(counts)
    assert exported("news2 planted") - before == 5
    assert b"MRN" not in metrics.exposition()
