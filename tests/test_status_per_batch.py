"""The worker publishes, of the statuses a patient's lab results cause within one fetched batch,
the last (streams/record_step.py): a status is the patient's state, and the later one includes
what the earlier said. What it must not fall behind comes after it: the patient's alerts, its
stored state, the timer. And the worker still tells replay's story: every status it publishes
is one `crsmon replay --status` prints, in replay's order, and each patient's last of a batch is
replay's last for that patient up to the batch's last record; the alerts are replay's."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

from bench.load import LAB_PANEL
from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.replay import replay
from monitor.wire import decode_input, encode
from streams import metrics
from streams.event_clock import EventClock
from streams.patient_states import PatientStates
from streams.record_step import Decision, RecordStep
from tests.support.steps import TOPICS, Store, record, take_batch

START = datetime(2026, 11, 21, 8, 5, tzinfo=timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def panel(patient: str, at: datetime, scale: float = 1.0) -> list[dict]:
    """The eight-test panel a laboratory system sends as eight results in a row."""
    return [
        {
            "patient_id": patient,
            "ts": stamp(at),
            "type": "lab",
            "test": test,
            "value": round(typical * scale, 2),
            "unit": unit,
        }
        for test, (typical, unit) in LAB_PANEL.items()
    ]


def vitals(patient: str, at: datetime, temperature: float = 37.0) -> dict:
    return {
        "patient_id": patient,
        "ts": stamp(at),
        "heart_rate": 84,
        "systolic_bp": 121,
        "spo2": 97,
        "respiratory_rate": 16,
        "temperature": temperature,
    }


def statuses(decisions: list[Decision]) -> list[dict]:
    return [json.loads(p.value) for d in decisions for p in d.publish if p.topic == TOPICS.patient_status]


def coalesced() -> float:
    return metrics.REGISTRY.get_sample_value("crsmon_patient_status_coalesced_total") or 0.0


def test_a_panel_in_one_batch_is_answered_by_one_status_carrying_every_result_at_the_batchs_end() -> None:
    store = Store()
    step = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=3600)
    take_batch(step, store, [record(vitals("P1", START))])
    before = coalesced()
    decisions = take_batch(step, store, [record(document) for document in panel("P1", START + timedelta(minutes=1))])
    assert all(not d.publish for d in decisions[:-1]), "nothing published while the batch is taken"
    [status] = statuses(decisions[-1:])
    assert sorted(status["labs"]) == sorted(LAB_PANEL)
    assert coalesced() - before == len(LAB_PANEL) - 1, "the seven not published are counted"
    assert statuses([step.release_held()]) == [], "released once"


def test_a_held_status_goes_out_before_its_patients_alert() -> None:
    store = Store()
    step = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=3600)
    therapy = {"patient_id": "P2", "ts": stamp(START - timedelta(days=1)), "type": "therapy", "therapy": "car-t"}
    take_batch(step, store, [record(therapy), record(vitals("P2", START, temperature=38.9))])
    lab_at = START + timedelta(minutes=1)
    discharge = {"patient_id": "P2", "ts": stamp(lab_at), "type": "discharge"}
    *_, discharged, end = take_batch(step, store, [*(record(d) for d in panel("P2", lab_at)), record(discharge)])
    [status] = statuses([discharged])
    assert sorted(status["labs"]) == sorted(LAB_PANEL), "published with the alert, which the worker sends after it"
    assert [json.loads(a.value)["status"] for a in discharged.alerts] == ["resolved"]
    assert statuses([end]) == []


def test_a_held_status_goes_out_with_a_state_write_of_its_patient() -> None:
    wall = [1000.0]
    store = Store()
    step = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    step.states = PatientStates(step.engine, store, 30, wall=lambda: wall[0])  # live: both clocks run
    take_batch(step, store, [record(vitals("P3", START))])
    wall[0] += 300
    first, *_ = take_batch(step, store, [record(d) for d in panel("P3", START + timedelta(minutes=5))])
    assert first.write is not None and first.write.key == b"P3", "its checkpoint falls due on the first result"
    [status] = statuses([first])
    assert list(status["labs"]) == ["creatinine"], "a stored state is never ahead of the statuses published"


def test_the_timer_publishes_the_held_statuses_before_what_it_decides() -> None:
    class Wall:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    wall = Wall()
    store = Store()
    engine = Engine(EngineConfig(signal_loss_after_s=120))
    step = RecordStep(engine, TOPICS, store, checkpoint_interval_s=3600, clock=EventClock(wall))
    for second in range(0, 50, 10):
        store.carry_out(step.take(record(vitals("P4", START + timedelta(seconds=second)))))
    for document in panel("P4", START + timedelta(seconds=40)):
        store.carry_out(step.take(record(document)))  # the timer runs between two records of a batch
    wall.now += 300
    timed = step.advance()
    held, of_the_timer = statuses([timed])
    assert held["ts"] == stamp(START + timedelta(seconds=40)) and sorted(held["labs"]) == sorted(LAB_PANEL)
    assert of_the_timer["ts"] > held["ts"], "the signal loss's status comes after the panel's"
    assert [json.loads(a.value)["rule"] for a in timed.alerts] == ["signal_loss"]
    assert statuses([step.release_held()]) == []


def ward_feed() -> list[dict]:
    """Three patients over 30 minutes: vitals every 30 s, panels among them (two patients'
    interleaved), a corrected result, a fever that alerts, an ICANS assessment."""
    feed: list[dict] = [
        {"patient_id": p, "ts": stamp(START - timedelta(days=1)), "type": "therapy", "therapy": "car-t"}
        for p in ("W1", "W2")
    ]
    for tick in range(60):
        at = START + timedelta(seconds=30 * tick)
        for p in ("W1", "W2", "W3"):
            feed.append(vitals(p, at, temperature=38.8 if p == "W1" and tick >= 30 else 37.0))
        if tick in (3, 30):
            w1, w2 = panel("W1", at, scale=1.0 + tick / 10), panel("W2", at, scale=2.5)
            feed += [result for pair in zip(w1, w2) for result in pair]
            feed += panel("W3", at)[:3]
        if tick == 31:
            feed.append(panel("W2", START + timedelta(seconds=30 * 30), scale=3.0)[0])  # a corrected result
        if tick == 40:
            feed.append({"patient_id": "W2", "ts": stamp(at), "type": "neuro", "ice": 7, "arousal": "voice"})
    return feed


def test_the_worker_tells_replays_story() -> None:
    feed = ward_feed()
    out, err = io.BytesIO(), io.StringIO()
    replay([json.dumps(d) for d in feed], Engine(), out, err, with_status=True)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    replayed = [line for line in lines if line["record"] == "status"]
    # The statuses of each input record, as replay prints them (its order is the records').
    engine = Engine()
    per_record = [[json.loads(encode(s)) for s in engine.observe(decode_input(json.dumps(d))).statuses] for d in feed]
    assert [s for outputs in per_record for s in outputs] == replayed

    store = Store()
    step = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    records = [record(d) for d in feed]
    published: list[dict] = []
    alerts: list[dict] = []
    at, sizes = 0, iter([5, 17, 1, 40, 9, 64, 3, 200] * 10)
    while at < len(records):
        end = at + next(sizes)
        decisions = take_batch(step, store, records[at:end])
        batch_statuses = statuses(decisions)
        for patient in {s["patient_id"] for s in batch_statuses}:
            last = [s for s in batch_statuses if s["patient_id"] == patient][-1]
            assert last == [s for outputs in per_record[:end] for s in outputs if s["patient_id"] == patient][-1]
        published += batch_statuses
        alerts += [json.loads(a.value) for d in decisions for a in d.alerts]
        at = end

    def without_emitted_at(items: list[dict]) -> list[dict]:
        return [{k: v for k, v in item.items() if k != "emitted_at"} for item in items]

    assert without_emitted_at(alerts) == without_emitted_at([line for line in lines if line["record"] == "alert"])
    assert any(a["rule"] == "crs" for a in alerts), "the fever alerted"
    for patient in ("W1", "W2", "W3"):
        ours = [s for s in published if s["patient_id"] == patient]
        theirs = [s for s in replayed if s["patient_id"] == patient]
        remaining = iter(theirs)
        assert all(any(s == t for t in remaining) for s in ours), f"{patient}: replay's statuses, in replay's order"
        assert ours[-1] == theirs[-1]
    assert len(published) < len(replayed), "statuses were coalesced"
    neuro = [s for s in replayed if s["patient_id"] == "W2" and s.get("icans")]
    assert neuro[0] in published, "an assessment is answered by a status of its own"
