"""The patient-state table's writes: each one's changelog message reaches the producer from
the writer, in order, and never waits in Faust's own buffer, which a commit must see empty
before it commits (a backlog kept it from emptying: commits of 9-40 s and the batch lane
standing still behind them, issue 19 finding 6). The rest of the table's life (recovery after
a restart, a rebalance) is proven against a real worker in tests/test_worker_durability.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from streams.app import configured_app
from streams.faust_compat.batch_lane import table_partition
from streams.faust_compat.patient_table import patient_state_table
from streams.settings import WorkerSettings


def _changelog(bootstrap: str, topic: str, partition: int, count: int) -> list[tuple[bytes, bytes | None]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        found: list[tuple[bytes, bytes | None]] = []
        deadline = time.monotonic() + 30
        while len(found) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found.extend((record.key, record.value) for record in records)
        return found
    finally:
        consumer.close()


@pytest.mark.kafka
def test_a_state_write_reaches_the_producer_in_order_and_never_waits_in_faust_s_buffer(
    kafka, unique, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("CRSMON_STORE", "memory://")
    settings = WorkerSettings(broker=kafka.bootstrap, app_id=f"table-{unique}", partitions=2, data_dir=str(tmp_path))
    app = configured_app(settings)
    table = patient_state_table(app, "patient-state", settings.partitions)
    topic = table.changelog_topic.get_topic_name()
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        admin.close()

    async def write() -> int:
        await app.producer.start()
        try:
            with table_partition() as move_to:
                move_to(1)  # as while a record of partition 1 is taken
                table[b"MRN-1"] = b"first"
                table[b"MRN-1"] = b"second"
                table.pop(b"MRN-1")
                waiting_in_faust_s_buffer = app.producer.buffer.size
                await table.send_written()
            await app.producer.flush()
            return waiting_in_faust_s_buffer
        finally:
            await app.producer.stop()

    assert asyncio.run(write()) == 0
    assert _changelog(kafka.bootstrap, topic, 1, 3) == [(b"MRN-1", b"first"), (b"MRN-1", b"second"), (b"MRN-1", None)]


@pytest.mark.kafka
def test_the_worker_creates_its_changelog_compacted_in_small_segments(worker_env, kafka, tmp_path) -> None:
    """A fresh worker reads the whole changelog before it takes a record, and Kafka compacts
    only closed segments: with the broker's 1 GiB segments a day's writes stayed uncompacted
    (bench/restart.py: ≈ 77,000 messages for ≈ 3,000 patients, 18 s to take over)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    from streams.faust_compat.patient_table import CHANGELOG_CONFIG
    from tests.support.processes import Service

    changelog = f"{worker_env['CRSMON_APP_ID']}-patient-state-changelog"
    worker = Service(["worker"], worker_env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        try:
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, changelog)])
        finally:
            admin.close()
    finally:
        worker.stop()
    [configs] = [entries for by_name in described.values() for name, entries in by_name.items() if name == changelog]
    values = {key: data["value"] if isinstance(data, dict) else data for key, data in configs.items()}
    assert values.get("cleanup.policy") == "compact"
    assert {key: values.get(key) for key in CHANGELOG_CONFIG} == CHANGELOG_CONFIG
