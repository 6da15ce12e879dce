"""A patient's neurological part (monitor/neuro.py) and its place in the patient's bytes.

Why: the ICANS rule reads three facts of it — the assessment in force, when it was made, and the
patient's own best ICE since therapy — and NEWS2 reads its consciousness; each must survive a
restore, and a patient never assessed must keep the bytes it had before the part existed.
"""

from __future__ import annotations

from monitor.neuro import NeuroAssessment, NeuroState
from monitor.patient_state import Patient
from monitor.window import Window, WindowLimits

LIMITS = WindowLimits(minutes=60, lateness_s=60, raw_rows_max=10)
HOUR = 3600.0
THERAPY = 1000 * HOUR


def assessed(hours: float, ice: int | None, arousal: str | None = "alert", **others) -> NeuroAssessment:
    return NeuroAssessment(
        THERAPY + hours * HOUR, ice, arousal, others.get("seizure"), others.get("motor"), others.get("cerebral_edema")
    )


def test_a_newer_assessment_replaces_the_older_and_a_late_one_only_counts_towards_the_best():
    state = NeuroState.first(assessed(8, 8), THERAPY)
    assert state.add(assessed(20, 5, "voice"), THERAPY)
    assert (state.grade.grade, state.current.ice, state.assessed_at) == (2, 5, THERAPY + 20 * HOUR)
    # charted late: ICE 10 at hour 4 is the patient's best, but not the assessment in force
    assert not state.add(assessed(4, 10), THERAPY)
    assert state.current.ice == 5
    assert state.best_since(THERAPY) == (10, THERAPY + 4 * HOUR)


def test_the_best_counts_from_the_latest_therapy_and_keeps_the_first_time_it_was_reached():
    state = NeuroState.first(assessed(-48, 10), THERAPY)  # before the therapy: not counted
    assert state.best_since(THERAPY) is None
    state.add(assessed(2, 9), THERAPY)
    state.add(assessed(10, 9), THERAPY)
    assert state.best_since(THERAPY) == (9, THERAPY + 2 * HOUR)
    later_therapy = THERAPY + 30 * HOUR
    assert state.best_since(later_therapy) is None  # a second therapy starts a new best
    state.add(assessed(40, 7), later_therapy)
    assert state.best_since(later_therapy) == (7, THERAPY + 40 * HOUR)


def test_an_assessment_as_acvpu():
    # arousal decides V, P and U whatever the ICE
    for arousal, acvpu in (("voice", "V"), ("touch", "P"), ("vigorous", "P"), ("unarousable", "U")):
        assert NeuroState.first(assessed(1, None, arousal), THERAPY).acvpu(THERAPY) == acvpu
    # ICE below a best of 10: new confusion
    state = NeuroState.first(assessed(1, 10), THERAPY)
    assert state.acvpu(THERAPY) == "A"
    state.add(assessed(9, 9), THERAPY)
    assert state.acvpu(THERAPY) == "C"
    # a first ICE below 10 is new confusion until known otherwise (RCP 2017)
    assert NeuroState.first(assessed(1, 8), THERAPY).acvpu(THERAPY) == "C"
    # the same ICE again, in a patient who never scored better since therapy: not new
    steady = NeuroState.first(assessed(1, 8), THERAPY)
    steady.add(assessed(9, 8), THERAPY)
    assert steady.acvpu(THERAPY) == "A"
    steady.add(assessed(17, 7), THERAPY)  # worse than its own best: worsening confusion
    assert steady.acvpu(THERAPY) == "C"
    # nothing said of consciousness: no reading
    assert NeuroState.first(assessed(1, None, None, seizure="resolved"), THERAPY).acvpu(THERAPY) is None


def test_the_part_is_in_the_bytes_only_for_a_patient_assessed():
    never = Patient("p1", Window(LIMITS))
    plain = never.to_bytes()
    assert Patient.from_bytes(plain, LIMITS).neuro is None
    assessed_patient = Patient("p1", Window(LIMITS))
    assessed_patient.neuro = NeuroState.first(assessed(3, 6, "voice", seizure="resolved"), THERAPY)
    assessed_patient.neuro.add(assessed(1, 10), THERAPY)
    data = assessed_patient.to_bytes()
    assert data != plain
    restored = Patient.from_bytes(data, LIMITS).neuro
    assert restored is not None
    assert restored.as_list() == assessed_patient.neuro.as_list()
    assert restored.grade == assessed_patient.neuro.grade
    assert Patient.from_bytes(data, LIMITS).to_bytes() == data
