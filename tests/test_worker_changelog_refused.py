"""A changelog write the broker refuses never lets a commit pass the records behind it
(issue 19): the patient counts as stored only once the broker has confirmed its record, so a
restarted worker reads its records again and stores them.

The broker refuses every state write here: the table's changelog topic takes at most 200
bytes a message (a patient's record is larger). Seen failing before the fix: the refusal was
logged, the patient counted as stored, and the stopping worker committed past its records —
a worker restarted on another machine had neither its state nor its records.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

from bench.progress import committed as committed_offsets
from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service
from tests.support.worker_metrics import wait_for

pytestmark = pytest.mark.kafka

PATIENT = "MRN-C1"
REFUSED = "did not reach the table's changelog"


def committed(bootstrap: str, group: str, topics: list[str]) -> dict[str, int]:
    """The group's committed offsets per input topic, summed over its partitions."""
    return {topic: committed_offsets(bootstrap, group, [topic]) for topic in topics}


def changelog_keys(bootstrap: str, topic: str, partitions: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return [message.key for message in consumer]
    finally:
        consumer.close()


def test_a_refused_state_write_holds_the_commit_back_and_a_restart_reads_the_records_again(
    worker_env, kafka, tmp_path: Path
) -> None:
    partitions = int(worker_env.get("CRSMON_PARTITIONS", "4"))
    changelog = f"{worker_env['CRSMON_APP_ID']}-patient-state-changelog"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics(
            [
                NewTopic(
                    changelog,
                    partitions,
                    1,
                    topic_configs={"cleanup.policy": "compact", "max.message.bytes": "200"},
                )
            ]
        )
    finally:
        admin.close()
    inputs = [worker_env["CRSMON_TOPIC_CLINICAL_EVENTS"], worker_env["CRSMON_TOPIC_VITALS"]]
    alerts_topic = worker_env["CRSMON_TOPIC_ALERTS"]
    therapy = {"patient_id": PATIENT, "ts": "2026-11-23T08:00:00Z", "type": "therapy", "therapy": "car-t"}
    fever = {"patient_id": PATIENT, "ts": "2026-11-23T10:00:00Z", "heart_rate": 104, "temperature": 38.6}

    first = Service(["worker"], worker_env, tmp_path / "first.log")
    try:
        first.wait_for_output("Ready", timeout=120)
        produce(kafka.bootstrap, inputs[0], [(PATIENT, therapy)])
        produce(kafka.bootstrap, inputs[1], [(PATIENT, fever)])
        [alert] = read_until(kafka.bootstrap, alerts_topic, lambda records: len(records) >= 1)
        # the episode's write, refused by the broker
        wait_for(lambda: REFUSED in first.output(), 60, "the refused state write to be logged")
        assert first.alive(), first.output()[-3000:]
    finally:
        first.stop()  # SIGTERM: Faust commits what the lane acknowledged
    assert "Traceback" not in first.output(), first.output()[-3000:]
    group = worker_env["CRSMON_APP_ID"]
    assert all(offset <= 0 for offset in committed(kafka.bootstrap, group, inputs).values()), (
        "the commit passed the records of a patient whose state the broker refused"
    )

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:  # the broker takes the patient's record again
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    changelog,
                    # AlterConfigs sets the whole set: the compaction policy is restated
                    configs={"cleanup.policy": "compact", "max.message.bytes": "1048588"},
                )
            ]
        )
    finally:
        admin.close()
    second_env = {**worker_env, "CRSMON_DATA_DIR": str(tmp_path / "second")}  # another machine
    second = Service(["worker"], second_env, tmp_path / "second.log")
    try:
        second.wait_for_output("Ready", timeout=120)
        wait_for(
            lambda: all(offset == 1 for offset in committed(kafka.bootstrap, group, inputs).values()),
            90,
            "the records read again, stored and committed",
        )
        assert second.alive(), second.output()[-3000:]
    finally:
        second.stop()
    assert PATIENT.encode() in changelog_keys(kafka.bootstrap, changelog, partitions)
    again = read_until(kafka.bootstrap, alerts_topic, lambda records: len(records) >= 2)
    assert {record["alert_id"] for record in again} == {alert["alert_id"]}, "the same alert, sent again"
