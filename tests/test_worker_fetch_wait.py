"""The worker's Kafka consumer asks the broker to hold an empty fetch for the configured wait,
not Faust's hard-coded 1.5 s (streams/faust_compat/kafka_transport.py says why: vitals queued behind it).

The wait only matters inside aiokafka's Fetcher, which the consumer builds when it starts; the
override sets a private attribute, so this starts a real consumer against the broker to prove
the value gets there (an aiokafka upgrade that renames it fails here, not in production).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streams.app import Worker
from streams.settings import WorkerSettings

pytestmark = pytest.mark.kafka


def started_fetch_wait(settings: WorkerSettings) -> int:
    async def run() -> int:
        app = Worker(settings).app
        consumer = app.consumer._thread._create_worker_consumer(app.transport)  # noqa: SLF001
        await asyncio.wait_for(consumer.start(), timeout=30)
        try:
            return consumer._fetcher._fetch_max_wait_ms  # noqa: SLF001
        finally:
            await consumer.stop()

    return asyncio.run(run())


def test_the_started_consumer_fetches_with_the_configured_wait(kafka, unique: str, tmp_path: Path) -> None:
    settings = WorkerSettings(
        broker=kafka.bootstrap, app_id=f"fetch-wait-{unique}", data_dir=str(tmp_path), fetch_max_wait_ms=37
    )
    assert started_fetch_wait(settings) == 37


def test_the_default_wait_is_no_longer_than_aiokafkas_prefetch_backoff(tmp_path: Path) -> None:
    """Longer, and a stall behind idle partitions can repeat itself (the module's docstring)."""
    import inspect

    from aiokafka.consumer.fetcher import Fetcher

    backoff_s = inspect.signature(Fetcher).parameters["prefetch_backoff"].default
    assert WorkerSettings().fetch_max_wait_ms <= backoff_s * 1000
