"""Plain kafka-python producers and readers for tests: the client a hospital's own code would use."""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterable

from kafka import KafkaConsumer, KafkaProducer


def produce(
    bootstrap: str, topic: str, messages: Iterable[tuple[str | None, bytes | dict]], **client_options: Any
) -> None:
    """Send (key, value) pairs in order and wait until the broker has them all.

    `client_options` are TLS/SASL keyword arguments, e.g. from kafka_client_options_from_env().
    """
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, **client_options)
    try:
        for key, value in messages:
            payload = value if isinstance(value, bytes) else json.dumps(value).encode()
            producer.send(topic, key=key.encode() if key else None, value=payload)
        producer.flush(timeout=30)
    finally:
        producer.close()


def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 60.0,
    quiet_for: float = 0.0,
    **client_options: Any,
) -> list[dict[str, Any]]:
    """Read a topic from the beginning until `done(records)` holds; fail loudly on timeout.

    With `quiet_for`, go on reading until no record arrived for that long, so that a caller
    asserting on exactly what came sees a duplicate arriving after what it waited for.
    Each record is the decoded JSON value plus `_key`, `_partition` and `_offset`.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
        **client_options,
    )
    consumer.subscribe([topic])
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            seen = len(records)
            for message in consumer:
                record = json.loads(message.value)
                record.update(
                    _key=message.key.decode() if message.key else None,
                    _partition=message.partition,
                    _offset=message.offset,
                )
                records.append(record)
            if len(records) > seen:
                last_new = time.monotonic()
            if done(records) and time.monotonic() - last_new >= quiet_for:
                return records
    finally:
        consumer.close()
    summary = "\n".join(repr(record)[:300] for record in records[-8:])
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting on {topic}; got {len(records)} records, the last:\n{summary}"
    )
