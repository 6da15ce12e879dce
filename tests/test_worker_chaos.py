"""Chaos (issue 19, outcome 7): a real broker, real workers, 151 real ICU stays produced as a
ward's feed (tests/data/physionet2019), bad input mixed in, a SIGKILL, a SIGTERM and a broker
restart at random points (seeded, printed) — and the alerts equal `crsmon replay`'s on the same
good records.

Marked `chaos` as well as `kafka`: it takes a few minutes. Alerts are compared up to each
patient's last record: after it, what the worker's timer derives depends on how long the test
lets wall time run, which replay has no notion of.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from crsmon.local_kafka import LocalKafka, free_port
from monitor.engine import Engine
from monitor.replay import replay
from monitor.wire import encode
from tests.conftest import worker_environment
from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service
from tests.support.worker_metrics import consumed, wait_for
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]

DATA = Path(__file__).parent / "data" / "physionet2019"


def ward_feed() -> list[tuple[str, bytes, str]]:
    """Every stay's hourly sets as (patient, message, ts), sorted by time as a live feed is."""
    problems = Problems()
    feed = []
    for path in stay_files(DATA):
        stay = read_stay(path, ColumnMap(), problems)
        assert stay is not None
        feed.extend((event.patient_id, encode(event, drop_none=True), event.ts.isoformat()) for event in stay.events)
    feed.sort(key=lambda item: (item[2], item[0]))
    return feed


BAD = [
    ("BAD-1", bytes(range(0x80, 0x100)) * 3906),  # ~1 MB, not UTF-8
    ("BAD-2", b"{not json"),
    ("BAD-3", b'{"patient_id":"BAD-3","ts":"2026-11-21T08:00:00Z","temperature":134}'),
    ("BAD-4", b'{"patient_id":"BAD-4","ts":"2099-01-01T00:00:00Z","heart_rate":80}'),
    ("SOMEONE-ELSE", b'{"patient_id":"BAD-5","ts":"2026-11-21T08:00:00Z","heart_rate":80}'),
]


def committed(bootstrap: str, group: str, topic: str) -> int:
    """The consumer group's committed offsets on `topic`, summed over its partitions."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    except Exception:  # noqa: BLE001 - the broker restarting: not yet
        return 0
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    except Exception:  # noqa: BLE001 - likewise
        return 0
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def comparable(alerts: list[dict], last_ts: dict[str, str]) -> set[str]:
    """Each distinct change once, without its publication time, up to its patient's last record."""
    changes = set()
    for alert in alerts:
        if alert["observed_at"] > last_ts[alert["patient_id"]]:
            continue
        body = {k: v for k, v in alert.items() if k not in ("emitted_at", "_key", "_partition", "_offset")}
        changes.add(json.dumps(body, sort_keys=True))
    return changes


def test_kills_a_term_and_a_broker_restart_page_as_replay_does(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    print(f"chaos seed {seed}")
    rng = random.Random(seed)
    feed = ward_feed()
    last_ts = {}
    for patient, message, _ts in feed:
        last_ts[patient] = json.loads(message)["ts"]
    messages: list[tuple[str, bytes]] = [(patient, message) for patient, message, _ in feed]
    for bad in BAD:
        messages.insert(rng.randrange(len(messages)), bad)

    out, err = io.BytesIO(), io.StringIO()
    replay([message for _, message, _ in feed], Engine(statuses=False), out, err)
    expected = comparable([json.loads(line) for line in out.getvalue().splitlines()], last_ts)
    assert len(expected) >= 20, "a feed that pages little proves little"

    broker = LocalKafka(data_dir=tmp_path / "kafka", port=free_port())
    broker.start()
    env = worker_environment(broker.bootstrap, f"chaos{seed}", tmp_path)
    topics = {name: env[f"CRSMON_TOPIC_{name.upper()}"] for name in ("vitals", "alerts", "dead_letters")}
    port = int(env["CRSMON_WEB_PORT"])
    total = len(messages)
    workers: list[Service] = []
    try:

        def start(name: str) -> Service:
            service = Service(["worker"], env, tmp_path / f"{name}.log")
            workers.append(service)
            service.wait_for_output("Ready", timeout=180)
            return service

        first = start("first")
        produce(broker.bootstrap, topics["vitals"], messages, max_request_size=2_000_000)
        at = rng.uniform(0.15, 0.45) * total
        wait_for(lambda: consumed(port) >= at, 300, "the first kill point")
        first.kill()
        second = start("second")
        at = rng.uniform(0.1, 0.3) * total
        wait_for(lambda: consumed(port) >= at, 300, "the SIGTERM point")
        second.stop()
        third = start("third")
        at = rng.uniform(0.05, 0.2) * total
        wait_for(lambda: consumed(port) >= at, 300, "the broker restart")
        broker.stop()
        broker.start()
        wait_for(
            lambda: committed(broker.bootstrap, env["CRSMON_APP_ID"], topics["vitals"]) >= total,
            600,
            "every record committed: processed, and its effect stored",
        )
        alerts = read_until(broker.bootstrap, topics["alerts"], lambda records: len(records) > 0, quiet_for=5)
        dead = read_until(broker.bootstrap, topics["dead_letters"], lambda records: len(records) >= len(BAD))
        assert third.alive()
    finally:
        for service in workers:
            service.stop()
        broker.remove()
    got = comparable(alerts, {**last_ts})
    assert not expected - got, f"seed {seed}: missing {sorted(expected - got)[:3]}"
    assert not got - expected, f"seed {seed}: new {sorted(got - expected)[:3]}"
    assert {d["_key"] for d in dead} >= {key for key, _ in BAD}
