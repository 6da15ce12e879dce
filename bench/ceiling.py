"""The ceiling: a plain aiokafka consumer that reads the input and decodes each message's JSON.

Nothing Faust does (streams, acks, commits on a timer, the agent's supervisor) and nothing the
worker does beyond parsing: this is what Python and the broker on this machine can deliver.
It reads without a consumer group (every partition), from the earliest offset.
"""

from __future__ import annotations

import time

import orjson
from aiokafka import AIOKafkaConsumer

from bench.progress import BenchmarkError, Progress


async def plain_consumer(bootstrap: str, topics: list[str], total: int, max_seconds: float) -> Progress:
    """Read and decode until `total` messages, or `max_seconds` after the first one."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    progress = Progress(total)
    try:
        consumer.subscribe(topics)  # without a group: every partition, from the earliest offset
        count, began, deadline = 0, None, time.monotonic() + 60.0
        while count < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20000)
            if batches:
                progress.add(count, cpu=time.process_time())  # decoding a batch is part of the time
            for records in batches.values():
                for record in records:
                    orjson.loads(record.value)
                count += len(records)
            now = time.monotonic()
            progress.add(count, now, time.process_time())
            if count and began is None:
                began = now
            if began is not None and now - began > max_seconds:
                break
            if began is None and now > deadline:
                raise BenchmarkError(f"the plain consumer read nothing from {topics} in 60 s")
    finally:
        await consumer.stop()
    return progress
