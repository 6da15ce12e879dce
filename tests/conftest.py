"""Shared fixtures: the real Kafka broker, started once per test session on loopback."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from crsmon.local_kafka import LocalKafka, free_port
from tests.support.dashboard import SIZES, started_dashboard

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "samples"


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    """One broker for the whole session; tests isolate themselves by unique topic names."""
    broker = LocalKafka()
    broker.start()
    try:
        yield broker
    finally:
        broker.remove()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names and consumer groups, so tests never share state."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def worker_env(kafka: LocalKafka, unique: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a `crsmon worker` subprocess with its own topics, group and data dir."""
    return worker_environment(kafka.bootstrap, unique, tmp_path)


def worker_environment(bootstrap: str, unique: str, tmp_path: Path) -> dict[str, str]:
    """The `worker_env` for any broker address (tests that start brokers of their own)."""
    env = dict(os.environ)
    env.update(
        {
            "CRSMON_BROKER": bootstrap,
            "CRSMON_APP_ID": f"crsmon-test-{unique}",
            "CRSMON_DATA_DIR": str(tmp_path / "worker"),
            "CRSMON_WEB_PORT": str(free_port()),
            "CRSMON_TOPIC_VITALS": f"vitals-{unique}",
            "CRSMON_TOPIC_CLINICAL_EVENTS": f"clinical-events-{unique}",
            "CRSMON_TOPIC_PATIENT_STATUS": f"patient-status-{unique}",
            "CRSMON_TOPIC_ALERTS": f"alerts-{unique}",
            "CRSMON_TOPIC_ALERT_ACKS": f"alert-acks-{unique}",
            "CRSMON_TOPIC_DEAD_LETTERS": f"dead-letters-{unique}",
        }
    )
    return env


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A headless Chromium shared by one module's tests (the dashboard's)."""
    from tests.support.dashboard import chromium

    with chromium() as opened:
        yield opened


@pytest.fixture
def dashboard(env: dict[str, str], tmp_path: Path) -> Iterator:
    """`crsmon dashboard` on the topics of the module's `env` fixture, started, not yet live: a
    test that must see what it produced first calls `wait_until_live()` after producing; a
    module whose tests produce while the page is open overrides this with a live one."""
    with started_dashboard(env, tmp_path / "dashboard.log") as started:
        yield started


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    """Each clinician-facing Chromium test at a desk and on a phone (SIZES)."""
    return request.param
