"""The worker's step per record (streams/record_step.py), driven directly: the order of its
parts, two defects of the worker shell it replaced (issue 13, defects a and c), and the timer's
slices of the patients due."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from streams.event_clock import EventClock
from streams.patient_states import PatientStates
from streams.record_step import RecordStep
from tests.support.steps import TOPICS, Store, alerts_of, record, take_all


class Wall:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_message_whose_key_is_not_its_patient_restores_and_resends_nothing() -> None:
    store = Store()
    first = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    take_all(
        first,
        store,
        [
            record({"patient_id": "P2", "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"}),
            record({"patient_id": "P2", "ts": "2026-11-21T08:00:00Z", "temperature": 39.0}),
        ],
    )
    assert b"P2" in store  # with its CRS alert, not confirmed yet: the worker dies here
    second = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    decision = second.take(record({"patient_id": "P1", "ts": "2026-11-21T08:01:00Z", "heart_rate": 80}, key="P2"))
    assert [p.topic for p in decision.publish] == [TOPICS.dead_letters]
    assert decision.alerts == [], "nothing of P2 is re-sent for a message that is not about P2"
    assert not second.engine.holds("P2") and decision.write is None
    resent = second.take(record({"patient_id": "P2", "ts": "2026-11-21T08:01:00Z", "heart_rate": 80}))
    assert [a["rule"] for a in alerts_of([resent])] == ["crs"], "P2's own next message re-sends it"


def test_a_revoked_partition_no_longer_holds_back_the_event_clock_of_the_others() -> None:
    wall = Wall()
    engine = Engine(EngineConfig(signal_loss_after_s=120))
    step = RecordStep(engine, TOPICS, Store(), checkpoint_interval_s=30, clock=EventClock(wall))
    now = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    take_all(
        step,
        Store(),
        [
            # Partition 1 is an hour behind (catching up a backlog).
            record({"patient_id": "LAGGING", "ts": stamp(now - timedelta(hours=1)), "heart_rate": 80}, partition=1),
            *[
                record(
                    {
                        "patient_id": "P0",
                        "ts": stamp(now - timedelta(seconds=s)),
                        "heart_rate": 80,
                        "spo2": 97,
                        "respiratory_rate": 15,
                    },
                    partition=0,
                    offset=i,
                )
                for i, s in enumerate((40, 30, 20, 10, 0))
            ],
        ],
    )
    step.assigned({0})  # a rebalance moves partition 1 to another worker
    wall.now += 300  # P0's monitor falls silent for five minutes
    fired = alerts_of([step.advance()])
    assert [(a["patient_id"], a["rule"], a["status"]) for a in fired] == [("P0", "signal_loss", "firing")]


def test_a_decision_lists_dead_letters_statuses_and_alerts_and_the_write_after_them() -> None:
    store = Store()
    step = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    store.carry_out(
        step.take(record({"patient_id": "P3", "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"}))
    )
    decision = step.take(record({"patient_id": "P3", "ts": "2026-11-21T08:00:00Z", "temperature": 39.0}))
    assert [p.topic for p in decision.publish] == [TOPICS.patient_status]
    [alert] = decision.alerts
    assert alert.topic == TOPICS.alerts and alert.key == b"P3" and alert.unconfirmed_of == "P3"
    assert json.loads(alert.value)["status"] == "firing"
    assert decision.write is not None and decision.write.cause == "episode" and decision.write.key == b"P3"
    assert step.take(record({"patient_id": "P3", "ts": "2026-11-21T08:00:05Z", "temperature": 38.9})).write is None


def test_a_patient_restored_at_a_rebalance_and_never_heard_of_leaves_with_its_partition() -> None:
    # The table's store holds the records of the partitions this worker owns (Faust's RocksDB
    # store: one database per assigned partition).
    owned: dict[int, Store] = {0: Store(), 1: Store()}
    first = RecordStep(Engine(), TOPICS, owned[1], checkpoint_interval_s=30)
    first.states = PatientStates(first.engine, owned[1], 30, wall=itertools.count(0.0, 60.0).__next__)  # live
    take_all(
        first,
        owned[1],
        [
            record(
                {"patient_id": "SILENT", "ts": f"2026-11-21T08:{n:02d}:00Z", "heart_rate": 80}, partition=1, offset=n
            )
            for n in range(2)
        ],
    )
    assert b"SILENT" in owned[1]
    table = Store()
    step = RecordStep(Engine(), TOPICS, table, checkpoint_interval_s=30)
    table.update(owned[1])
    step.assigned({1})
    assert step.engine.holds("SILENT"), "loaded eagerly: only a loaded patient can raise signal loss"
    table.clear()  # a rebalance moves partition 1 to another worker; this one keeps partition 0
    table.update(owned[0])
    step.assigned({0})
    assert not step.engine.holds("SILENT"), "its new owner alone may raise its alerts"


def test_the_timer_takes_the_patients_due_a_slice_at_a_time_with_the_same_alerts() -> None:
    """A worker's timer honours `tick_patients` patients a call and calls again while
    `more_due` says so (streams/app.py): the loop runs records in between."""
    now = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    silent = [
        record(
            {
                "patient_id": f"P{n}",
                "ts": stamp(now - timedelta(seconds=s)),
                "heart_rate": 80,
                "spo2": 97,
                "respiratory_rate": 15,
            },
            offset=n * 5 + i,
        )
        for n in range(7)
        for i, s in enumerate((40, 30, 20, 10, 0))
    ]
    fired: dict[str, list[list[tuple[str, str]]]] = {}
    for name, slice_size in (("at once", None), ("three a call", 3)):
        wall = Wall()
        step = RecordStep(
            Engine(EngineConfig(signal_loss_after_s=120)),
            TOPICS,
            Store(),
            checkpoint_interval_s=30,
            clock=EventClock(wall),
        )
        assert not step.more_due(), "no advance yet"
        take_all(step, Store(), silent)
        wall.now += 300  # every monitor falls silent at once
        slices = [alerts_of([step.advance(slice_size)])]
        while step.more_due():
            wall.now += 0.05  # the loop ran other work in between
            slices.append(alerts_of([step.advance(slice_size)]))
        fired[name] = [[(a["patient_id"], a["rule"]) for a in alerts] for alerts in slices]
    assert [len(alerts) for alerts in fired["three a call"]] == [3, 3, 1]
    assert sorted(sum(fired["three a call"], [])) == sorted(sum(fired["at once"], []))
    assert len(fired["at once"]) == 1 and len(fired["at once"][0]) == 7


def test_a_timer_slice_of_no_patients_is_refused_with_what_to_set(monkeypatch) -> None:
    from streams.settings import WorkerSettings

    monkeypatch.setenv("CRSMON_TICK_PATIENTS", "0")
    with pytest.raises(ValueError, match="CRSMON_TICK_PATIENTS=0 must be 1 or more"):
        WorkerSettings()
    monkeypatch.setenv("CRSMON_TICK_PATIENTS", "50")
    assert WorkerSettings().tick_patients == 50


def test_a_topic_created_again_starts_its_offsets_afresh_and_its_new_records_are_not_skipped() -> None:
    """A stored state took offsets up to 100 of `vitals`; the topic is deleted and created again
    (offsets from 0): records newer than the patient's clock are applied whatever their offset."""
    store = Store()
    first = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    take_all(
        first,
        store,
        [
            record(
                {"patient_id": "P9", "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"}, offset=50
            ),
            record({"patient_id": "P9", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}, offset=100),
        ],
    )
    second = RecordStep(Engine(), TOPICS, store, checkpoint_interval_s=30)
    again = second.take(record({"patient_id": "P9", "ts": "2026-11-21T08:00:00Z", "heart_rate": 80}, offset=100))
    assert again.alerts == [] and again.write is None, "the same record: redelivered, skipped"
    fever = second.take(record({"patient_id": "P9", "ts": "2026-11-21T09:00:00Z", "temperature": 39.0}, offset=3))
    assert [a["status"] for a in alerts_of([fever])] == ["firing"]
