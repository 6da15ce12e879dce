"""The hourly evaluation alone (`Engine._hourly_alone`): where a catch-up moment is due only
for the deterioration warning's hourly score and the rest of the step could change nothing,
the engine scores the hour and skips the rest. Each test runs the same events through an
engine that takes the full step at every moment and asks for the same alerts, the same
statuses and the same state — at the moments where the rest of the step does matter: the
evaluation opens a level, the NEWS2 floor's release falls due, the step before published a
change (hypothesis, over the records of tests/test_engine_time.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from monitor.engine import Engine, Outputs
from monitor.patient_state import Patient
from monitor.wire import encode
from tests.support.clinical import Bedside
from tests.test_engine_time import run, wards

STABLE = dict(heart_rate=78, systolic_bp=122, spo2=97, respiratory_rate=15, temperature=36.9)
NEWS2_6 = dict(STABLE, respiratory_rate=22, heart_rate=112, systolic_bp=100)  # 2 + 2 + 2
NEWS2_5 = dict(NEWS2_6, systolic_bp=105)  # 2 + 2 + 1
FEVER = dict(STABLE, temperature=39.4, heart_rate=96)  # a warning score above medium, NEWS2 3


class FullSteps(Engine):
    """The engine as it was before the shortcut: a full step at every moment."""

    def _hourly_alone(self, patient: Patient, at: float) -> bool:
        return False


class Counting(Engine):
    """The engine, counting the moments it scored the hour alone."""

    alone = 0

    def _hourly_alone(self, patient: Patient, at: float) -> bool:
        taken = super()._hourly_alone(patient, at)
        self.alone += taken
        return taken


def outputs_of(outputs: Outputs) -> list[bytes]:
    return [encode(item) for item in [*outputs.alerts, *outputs.statuses]]


def both(events) -> tuple[Bedside, Bedside]:
    """The same events (`events(bed)` sends them) through the engine and the full steps."""
    fast, full = Bedside(Counting()), Bedside(FullSteps())
    for bed in (fast, full):
        events(bed)
    return fast, full


def assert_same(fast: Bedside, full: Bedside) -> None:
    assert [encode(a) for a in fast.alerts] == [encode(a) for a in full.alerts]
    assert [encode(s) for s in fast.statuses] == [encode(s) for s in full.statuses]
    assert fast.engine.snapshot(fast.patient_id) == full.engine.snapshot(full.patient_id)


def test_an_hour_whose_evaluation_opens_a_level_is_a_full_step() -> None:
    def events(bed: Bedside) -> None:
        for hour in range(6):
            bed.vitals(bed.at(60 * hour), **FEVER)
        bed.advance(bed.at(60 * 6 + 30))

    fast, full = both(events)
    assert_same(fast, full)
    firing = [a for a in fast.alerts if a.rule == "deterioration"]
    # the second evaluation in a row opens it, at the hour plus its minute of grace
    assert [(a.status, a.observed_at) for a in firing][:1] == [("firing", fast.at(60 + 1))]
    assert isinstance(fast.engine, Counting) and fast.engine.alone > 0  # the others were alone


def test_a_floor_release_due_at_an_hourly_evaluation_is_a_full_step() -> None:
    """NEWS2 6 confirmed at the second set, 5 at the third and no set in the hour after: the
    release hour ends with no set to see it, and the next step is the hourly evaluation,
    where the episode resolves."""

    def events(bed: Bedside) -> None:
        bed.vitals(bed.at(0), **NEWS2_6)
        bed.vitals(bed.at(60), **NEWS2_6)
        bed.vitals(bed.at(120), **NEWS2_5)
        bed.vitals(bed.at(240), **NEWS2_5)

    fast, full = both(events)
    assert_same(fast, full)
    pages = [(a.status, a.severity, a.observed_at) for a in fast.alerts if a.rule == "deterioration"]
    assert pages == [("firing", "medium", fast.at(60)), ("resolved", "medium", fast.at(181))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wards())
def test_the_hourly_evaluation_alone_gives_what_the_full_step_gives(ward) -> None:
    events, ticks = ward
    fast, full = Engine(), FullSteps()
    assert outputs_of(run(fast, events, ticks)) == outputs_of(run(full, events, ticks))
    for patient_id in ("p1", "p2"):
        assert fast.snapshot(patient_id) == full.snapshot(patient_id)


def test_a_patient_restored_takes_a_full_step_first() -> None:
    """The shortcut reads the NEWS2 of the patient's latest full step, which the bytes do not
    hold: a restored patient has none, and its first hour is a full step."""
    first = Bedside()
    for hour in range(3):
        first.vitals(first.at(60 * hour), **NEWS2_6)
    restored = Counting()
    restored.restore(first.patient_id, first.engine.snapshot(first.patient_id))
    bed = Bedside(restored)
    bed.advance(bed.at(120 + 30))
    assert restored.alone == 0
    bed.vitals(bed.at(180), **NEWS2_6)
    bed.advance(bed.at(210))
    assert restored.alone == 1
