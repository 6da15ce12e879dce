"""Every private name of Faust, aiokafka and pydantic that crsmon relies on exists, and means
what crsmon takes it to mean, on the pinned versions (streams/faust_compat/ lists each).

Run this first after bumping a pin in pyproject.toml.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust.types import TP
from kafka.admin import KafkaAdminClient, NewTopic
from pydantic import BaseModel

from streams import metrics
from streams.app import configured_app
from streams.faust_compat import internals
from streams.faust_compat.fetch_positions import FetchView
from streams.lost_records import LostRecordsWatchdog
from streams.settings import WorkerSettings
from tests.support.kafka_io import produce

REPO = Path(__file__).resolve().parent.parent


def test_every_listed_name_exists_on_its_class_or_module() -> None:
    assert internals.missing_on_classes() == []


def test_every_listed_name_of_faust_s_consumer_exists_on_the_worker_s_consumer(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CRSMON_STORE", "memory://")
    monkeypatch.setenv("CRSMON_DATA_DIR", str(tmp_path))
    consumer = configured_app(WorkerSettings()).consumer
    assert internals.missing_on(consumer, "faust.transport.consumer.Consumer") == []
    assert hasattr(consumer._thread, "_ensure_consumer")  # noqa: SLF001


def test_pydantic_slots_that_trusted_models_set_are_settable_descriptors() -> None:
    for internal in internals.PYDANTIC:
        descriptor = BaseModel.__dict__.get(internal.name)
        assert descriptor is not None and hasattr(descriptor, "__set__"), internal.name


def test_every_listed_name_is_used_where_it_says() -> None:
    for internal in internals.EVERY:
        module = internal.used_in.split(",")[0].split(".")[0].strip()
        path = REPO / module if module.endswith(".py") else REPO / "streams" / "faust_compat" / f"{module}.py"
        if "/" in internal.used_in:
            path = REPO / internal.used_in.split(",")[0].strip()
        assert internal.name in path.read_text(), f"{internal.name} is listed for {path} but not used there"


def test_pyproject_pins_exactly_the_installed_versions_of_what_is_fenced() -> None:
    pins = {}
    for requirement in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, _, pinned = requirement.partition("==")
        if pinned:
            pins[name] = pinned
    assert set(pins) >= {"faust-streaming", "mode-streaming", "aiokafka", "pydantic"}
    assert {name: version(name) for name in pins} == pins
    locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "requirements.lock").read_text(), re.M))
    assert {name: locked[name] for name in pins} == pins, "requirements.lock agrees with the pins"


@pytest.mark.kafka
def test_aiokafka_s_fetch_state_is_where_the_lost_records_watchdog_reads_it(kafka, unique) -> None:
    topic = f"compat-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    produce(kafka.bootstrap, topic, [("P1", b"{}"), ("P1", b"{}"), ("P1", b"{}")])

    async def inspect() -> tuple[list[str], int | None, int, bool]:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, enable_auto_commit=False)
        missing = internals.missing_on(consumer, "aiokafka.AIOKafkaConsumer")
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.start()
        try:
            await consumer.seek_to_beginning(tp)
            taken = await consumer.getmany(tp, timeout_ms=10_000, max_records=1)
            assert sum(len(records) for records in taken.values()) == 1
            fetcher = consumer._fetcher  # noqa: SLF001
            missing += internals.missing_on(fetcher, "aiokafka.consumer.fetcher.Fetcher")
            view = FetchView(fetcher, fetcher._subscriptions.subscription.assignment)  # noqa: SLF001
            await asyncio.sleep(0.5)  # let aiokafka prefetch the other two
            return missing, view.position(TP(topic, 0)), await consumer.position(tp), view.holds_records(TP(topic, 0))
        finally:
            await consumer.stop()

    missing, position, public_position, holds = asyncio.run(inspect())
    assert missing == []
    assert position == public_position == 1, "the fetcher's position is the consumer's next offset"
    assert holds, "prefetched records not yet handed out are seen"


def test_the_lost_records_watchdog_says_once_when_it_cannot_inspect_the_consumer(monkeypatch, tmp_path, caplog) -> None:
    monkeypatch.setenv("CRSMON_STORE", "memory://")
    monkeypatch.setenv("CRSMON_DATA_DIR", str(tmp_path))
    app = configured_app(WorkerSettings())
    watchdog = LostRecordsWatchdog(app, {"vitals"}, lambda: True)
    # The consumer was never started: its aiokafka consumer is not there, as after an upgrade
    # that moved it.
    before = metrics.LOST_RECORDS_UNCHECKED._value.get()  # noqa: SLF001
    with caplog.at_level(logging.ERROR, logger="streams.lost_records"):
        asyncio.run(watchdog.check())
        asyncio.run(watchdog.check())
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "cannot inspect aiokafka's consumer" in errors[0].getMessage()
    assert metrics.LOST_RECORDS_UNCHECKED._value.get() == before + 2  # noqa: SLF001
