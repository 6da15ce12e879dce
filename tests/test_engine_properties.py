"""Properties of the engine over arbitrary contract-valid input (hypothesis).

- Any sequence of valid events, in any order, with the timer running in between, never
  raises, and every output is a valid wire message equal to its validated twin.
- State stays bounded however long a patient streams and however its events arrive.
- Snapshot and restore in the middle of a stream change nothing: the rest of the stream gives
  the same outputs as an uninterrupted run.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.assessment import assess
from monitor.config import EngineConfig
from monitor.engine import Engine, Outputs
from monitor.parameters import HEART_RATE, RESPIRATORY_RATE, SPO2, SYSTOLIC, TEMPERATURE
from monitor.scores.news2 import news2
from monitor.wire import (
    Acknowledgement,
    Alert,
    PatientStatus,
    VitalSigns,
    encode,
    validate_input,
)
from monitor.wire.vitals import HARD_BOUNDS

START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
PATIENTS = ("MRN-1", "MRN-2", "MRN-3")

moments = st.integers(min_value=0, max_value=3 * 86_400 * 1000).map(lambda ms: START + timedelta(milliseconds=ms))


def measurement(name: str) -> st.SearchStrategy:
    low, high, _ = HARD_BOUNDS[name]
    return st.one_of(
        st.just(low),  # 0, a gap, where the contract allows it
        st.integers(min_value=int(low), max_value=int(high)),
        st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False),
    )


@st.composite
def vital_signs(draw) -> VitalSigns:
    names = draw(st.sets(st.sampled_from(list(HARD_BOUNDS)), min_size=1))
    document = {
        "patient_id": draw(st.sampled_from(PATIENTS)),
        "ts": draw(moments).isoformat(),
        **{n: draw(measurement(n)) for n in names},
    }
    if draw(st.booleans()):
        document["on_oxygen"] = draw(st.booleans())
    if draw(st.booleans()):
        document["consciousness"] = draw(st.sampled_from("ACVPU"))
    if draw(st.booleans()):
        document["ward"], document["bed"] = "5-West", draw(st.sampled_from(["1", "2"]))
    return validate_input(document)


@st.composite
def clinical_events(draw):
    kind = draw(st.sampled_from(["therapy", "oxygen", "vasopressor", "medication", "spo2_target", "discharge"]))
    document = {"patient_id": draw(st.sampled_from(PATIENTS)), "ts": draw(moments).isoformat(), "type": kind}
    if kind == "therapy":
        document["therapy"] = draw(st.sampled_from(["car-t", "bispecific", "other-immunotherapy", "infection"]))
    elif kind == "oxygen":
        document["device"] = draw(
            st.sampled_from(
                [
                    "room_air",
                    "blow_by",
                    "nasal_cannula",
                    "high_flow_nasal_cannula",
                    "face_mask",
                    "non_rebreather",
                    "venturi",
                    "cpap",
                    "bipap",
                    "ventilator",
                ]
            )
        )
        if draw(st.booleans()):
            document["flow_l_min"] = draw(st.floats(min_value=0, max_value=80))
    elif kind == "vasopressor":
        document["count"] = draw(st.integers(min_value=0, max_value=10))
        document["vasopressin"] = draw(st.booleans())
    elif kind == "medication":
        document["drug"] = draw(st.sampled_from(["tocilizumab", "siltuximab", "corticosteroid", "antipyretic"]))
    elif kind == "spo2_target":
        document["scale"] = draw(st.sampled_from([1, 2]))
    return validate_input(document)


@st.composite
def acknowledgements(draw) -> Acknowledgement:
    patient = draw(st.sampled_from(PATIENTS))
    rule = draw(st.sampled_from(["crs", "news2", "signal_loss"]))
    return Acknowledgement(
        episode_id=f"{patient}:{rule}:{draw(moments).isoformat()}", patient_id=patient, ts=draw(moments), by="rn-1"
    )


class Tick:
    """The timer: `advance_to` this moment."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __repr__(self) -> str:
        return f"Tick({self.at.isoformat()})"


steps = st.lists(
    st.one_of(
        vital_signs(),
        vital_signs(),
        vital_signs(),
        clinical_events(),
        acknowledgements(),
        moments.map(Tick),
    ),
    max_size=60,
)


def therapy_first(events: list) -> list:
    """Most interesting behaviour needs a risk period: start one for every patient first."""
    return [
        validate_input({"patient_id": p, "ts": START.isoformat(), "type": "therapy", "therapy": "car-t"})
        for p in PATIENTS
    ] + events


def apply(engine: Engine, step) -> Outputs:
    if isinstance(step, Tick):
        return engine.advance_to(step.at)
    return engine.observe(step)


def wire(outputs: Outputs) -> list[bytes]:
    return [encode(item) for item in [*outputs.statuses, *outputs.alerts]]


def acknowledge_what_fired(engine: Engine, outputs: Outputs) -> None:
    """Acknowledge real episodes too, so acks that match are exercised, not only strangers."""
    for alert in outputs.alerts:
        if alert.status == "firing" and len(alert.episode_id) % 2:
            engine.observe(
                Acknowledgement(
                    episode_id=alert.episode_id, patient_id=alert.patient_id, ts=alert.observed_at, by="rn-2"
                )
            )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.booleans())
def test_any_sequence_of_valid_events_never_raises_and_outputs_are_valid(events, therapy):
    engine = Engine()
    for step in therapy_first(events) if therapy else events:
        outputs = apply(engine, step)
        acknowledge_what_fired(engine, outputs)
        for status in outputs.statuses:
            assert PatientStatus.model_validate_json(encode(status)) == status
        for alert in outputs.alerts:
            assert alert.emitted_at is None
            assert Alert.model_validate_json(encode(alert)) == alert
            assert alert.episode_id.startswith(f"{alert.patient_id}:{alert.rule}:")
        if outputs.alerts:
            assert outputs.durable
    for patient in list(engine.patients()):
        assert len(engine.snapshot(patient)) < 65_536


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(min_value=0, max_value=60))
def test_snapshot_and_restore_mid_stream_change_nothing(events, cut):
    events = therapy_first(events)
    cut = min(cut, len(events))
    uninterrupted = Engine()
    for step in events[:cut]:
        apply(uninterrupted, step)
    expected = [wire(apply(uninterrupted, step)) for step in events[cut:]]

    first = Engine()
    for step in events[:cut]:
        apply(first, step)
    restarted = Engine()
    for patient in PATIENTS:  # tracked, or remembered as discharged: the worker's table has both
        if (state := first.snapshot(patient)) is not None:
            restarted.restore(patient, state)
    assert [wire(apply(restarted, step)) for step in events[cut:]] == expected
    for patient in uninterrupted.patients():
        assert restarted.snapshot(patient) == uninterrupted.snapshot(patient)


@settings(max_examples=100, deadline=None)
@given(st.lists(vital_signs(), min_size=1, max_size=30))
def test_the_engines_news2_is_the_charts(events):
    engine = Engine()
    for event in events:
        engine.observe(event)
    for patient_id in engine.patients():
        patient = engine._patients[patient_id]  # the engine's own view, to compare its sums  # noqa: SLF001
        a = assess(patient, patient.clock, engine.config)
        v = patient.value
        reference = news2(
            respiratory_rate=v[RESPIRATORY_RATE],
            spo2=v[SPO2],
            on_oxygen=a.on_oxygen,
            systolic_bp=v[SYSTOLIC],
            heart_rate=v[HEART_RATE],
            consciousness=patient.consciousness,
            temperature=v[TEMPERATURE],
            scale=patient.scale,
        )
        assert (a.news2_score, a.news2_band, a.news2_complete, a.news2_components) == tuple(reference)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cadence_ms=st.integers(min_value=100, max_value=120_000),
    late_share=st.floats(min_value=0, max_value=0.5),
    duplicate_share=st.floats(min_value=0, max_value=0.3),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_state_stays_bounded_however_a_patient_streams(cadence_ms, late_share, duplicate_share, seed):
    import random

    rng = random.Random(seed)
    engine = Engine(EngineConfig())
    sent: list[VitalSigns] = []
    at = START
    for _ in range(6000):
        at += timedelta(milliseconds=rng.randint(1, 2 * cadence_ms))
        roll = rng.random()
        if sent and roll < duplicate_share:
            event = rng.choice(sent[-20:])
        else:
            when = at - timedelta(seconds=rng.uniform(0, 900)) if roll < late_share else at
            event = validate_input(
                {
                    "patient_id": "MRN-9",
                    "ts": when.isoformat(),
                    "heart_rate": rng.choice([0, rng.uniform(30, 200)]),
                    "spo2": rng.uniform(70, 100),
                    "respiratory_rate": rng.uniform(5, 40),
                    **({"systolic_bp": rng.uniform(60, 200)} if rng.random() < 0.1 else {}),
                    **({"temperature": rng.uniform(35, 41)} if rng.random() < 0.02 else {}),
                }
            )
            sent.append(event)
        engine.observe(event)
        if rng.random() < 0.01:
            engine.advance_to(at)
    patient = engine._patients["MRN-9"]  # noqa: SLF001
    assert len(patient.window.times) <= engine.config.raw_rows_max + 1
    assert patient.window.size() < 48_000
    assert len(engine.snapshot("MRN-9")) < 65_536
    assert len(engine._timer) <= 4 * len(engine._patients) + 64  # noqa: SLF001


def test_a_discharge_survives_snapshot_and_restore_before_a_late_reading():
    """Found by the property above: a patient discharged just before the cut is in the engine
    only as its discharge memory, which a restart must restore too."""
    at = START.isoformat()
    events = therapy_first(
        [
            validate_input({"patient_id": "MRN-1", "ts": at, "type": "discharge"}),
            validate_input({"patient_id": "MRN-1", "ts": at, "heart_rate": 0.0}),
        ]
    )
    cut = len(PATIENTS) + 1
    first = Engine()
    for step in events[:cut]:
        apply(first, step)
    restarted = Engine()
    for patient in PATIENTS:
        if (state := first.snapshot(patient)) is not None:
            restarted.restore(patient, state)
    assert wire(apply(restarted, events[cut])) == wire(apply(first, events[cut])) == []
