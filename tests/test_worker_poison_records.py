"""No record can stop the worker (issue 19, finding 1): the largest message Kafka accepts, of
any bytes, on each input topic; and a dead letter the broker refuses to take.

Seen failing before the fix: the 999,936-byte value became a 3.55 MB dead letter, the producer
raised MessageSizeTooLargeError out of the fetcher, and the worker exited 1 — and again at
every restart, on the same record.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service
from tests.support.worker_metrics import metric

pytestmark = pytest.mark.kafka

#: Kafka's default limit is 1,048,588 bytes a record batch; this value and its key and headers
#: fit in it, as the issue's did.
LARGEST = 999_936


def fever_course(patient: str) -> tuple[list, list]:
    events = [(patient, {"patient_id": patient, "ts": "2026-11-23T08:00:00Z", "type": "therapy", "therapy": "car-t"})]
    vitals = [(patient, {"patient_id": patient, "ts": "2026-11-23T10:00:00Z", "heart_rate": 104, "temperature": 38.6})]
    return events, vitals


def not_utf8(size: int) -> bytes:
    """`size` bytes that are neither JSON nor UTF-8, each escaping to four characters."""
    block = bytes(range(0x80, 0x100))
    return (block * (size // len(block) + 1))[:size]


def test_the_largest_message_of_any_bytes_on_each_input_topic_is_a_capped_dead_letter(
    worker_env, kafka, tmp_path: Path
) -> None:
    inputs = ("vitals", "clinical_events", "alert_acks")
    topics = {name: worker_env[f"CRSMON_TOPIC_{name.upper()}"] for name in (*inputs, "alerts", "dead_letters")}
    worker = Service(["worker"], worker_env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        poison = not_utf8(LARGEST)
        for name in inputs:
            produce(kafka.bootstrap, topics[name], [("MRN-P1", poison)], max_request_size=2_000_000)
        events, vitals = fever_course("MRN-P2")
        produce(kafka.bootstrap, topics["clinical_events"], events)
        produce(kafka.bootstrap, topics["vitals"], vitals)
        alerts = read_until(kafka.bootstrap, topics["alerts"], lambda records: len(records) >= 1)
        dead = read_until(kafka.bootstrap, topics["dead_letters"], lambda records: len(records) >= 3)
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()
    assert alerts[0]["patient_id"] == "MRN-P2" and alerts[0]["status"] == "firing"
    assert {d["topic"] for d in dead} == {topics[name] for name in inputs}
    for letter in dead:
        assert letter["payload_bytes"] == LARGEST and letter["payload_truncated"] is True
        assert letter["payload_sha256"] == hashlib.sha256(poison).hexdigest()
        assert len(letter["payload"]) < 300_000 and letter["payload"].startswith("\\x80\\x81")


def test_a_dead_letter_the_broker_refuses_is_counted_and_the_worker_goes_on(worker_env, kafka, tmp_path: Path) -> None:
    """The dead-letter topic takes at most 200 bytes a message: every dead letter is refused by
    the broker itself, after the producer sent it."""
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics(
            [NewTopic(worker_env["CRSMON_TOPIC_DEAD_LETTERS"], 1, 1, topic_configs={"max.message.bytes": "200"})]
        )
    finally:
        admin.close()
    topics = {name: worker_env[f"CRSMON_TOPIC_{name.upper()}"] for name in ("vitals", "clinical_events", "alerts")}
    port = int(worker_env["CRSMON_WEB_PORT"])
    worker = Service(["worker"], worker_env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        produce(kafka.bootstrap, topics["vitals"], [("MRN-R1", b"{not json" + b"x" * 500)])
        events, vitals = fever_course("MRN-R2")
        produce(kafka.bootstrap, topics["clinical_events"], events)
        produce(kafka.bootstrap, topics["vitals"], vitals)
        alerts = read_until(kafka.bootstrap, topics["alerts"], lambda records: len(records) >= 1)
        deadline = time.monotonic() + 60
        while metric(port, "crsmon_publish_failures_total") < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        failures = metric(port, "crsmon_publish_failures_total")
        assert worker.alive(), worker.output()[-3000:]
    finally:
        worker.stop()
    assert alerts[0]["patient_id"] == "MRN-R2"
    assert failures >= 1
    assert "could not publish a" in worker.output() and "processing goes on" in worker.output()


def test_a_dead_letter_is_capped_whatever_its_payload() -> None:
    import json

    from monitor.wire import dead_letter
    from monitor.wire.dead_letters import PAYLOAD_KEPT

    small = json.loads(dead_letter("vitals", 0, 1, "not JSON", b"\xff{"))
    assert small["payload"] == "\\xff{" and small["payload_bytes"] == 2 and not small["payload_truncated"]
    big = os.urandom(PAYLOAD_KEPT * 3)
    letter = json.loads(dead_letter("vitals", 0, 2, "not JSON", big))
    assert letter["payload_bytes"] == len(big) and letter["payload_truncated"] is True
    assert letter["payload_sha256"] == hashlib.sha256(big).hexdigest()
    assert len(letter["payload"].encode()) <= 4 * PAYLOAD_KEPT
