"""Issue 19 finding 4: health tells the truth during a broker outage. While the broker is
away /readyz answers 503 and says why and since when, crsmon_broker_connected is 0, and the log
writes a line every few seconds with counts instead of aiokafka's ~100 retries a second."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from crsmon.local_kafka import LocalKafka, free_port
from tests.support.processes import Service
from tests.support.worker_metrics import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def gauge(port: int, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", get(port, "/metrics")[1], re.M)
    assert found, f"{name} is not on /metrics"
    return float(found.group(1))


@pytest.fixture
def own_broker(tmp_path: Path):
    """A broker of this test's own, on a fixed port so that it comes back where it was."""
    broker = LocalKafka(data_dir=tmp_path / "kafka", port=free_port())
    broker.start()
    yield broker
    broker.remove()


def test_readiness_gauge_and_log_tell_a_broker_outage_and_its_end(own_broker, worker_env, tmp_path) -> None:
    env = {**worker_env, "CRSMON_BROKER": own_broker.bootstrap}
    port = int(env["CRSMON_WEB_PORT"])
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        wait_for(lambda: get(port, "/readyz")[0] == 200, 60, "the worker ready")
        assert gauge(port, "crsmon_broker_connected") == 1
        before = len(worker.output().splitlines())

        own_broker.stop()
        stopped = time.monotonic()
        status, body = wait_for(
            lambda: (reply := get(port, "/readyz"))[0] == 503 and reply,
            90,
            "/readyz to answer 503 with the broker stopped",
        )
        flipped_after = time.monotonic() - stopped
        answer = json.loads(body)
        assert answer["status"] == "broker-unreachable"
        assert own_broker.bootstrap in answer["reason"] and "Check that the broker runs" in answer["reason"]
        assert "last answer: 20" in answer["reason"]  # since when, as a time
        assert gauge(port, "crsmon_broker_connected") == 0
        assert gauge(port, "crsmon_broker_last_answer_age_seconds") >= 10

        # Three outage reports (one every 5 s once unreachable), then count the log's lines.
        wait_for(lambda: worker.output().count("unreachable for") >= 3, 90, "three outage reports")
        outage = time.monotonic() - stopped
        lines = worker.output().splitlines()[before:]
        report = [line for line in lines if "unreachable for" in line][-1]
        counts = re.search(r"unreachable for (\d+) s .*; (\d+) Kafka client errors since", report)
        assert counts, report
        assert int(counts.group(1)) >= 10 and int(counts.group(2)) > 0
        print(
            f"/readyz 503 after {flipped_after:.1f} s; {len(lines)} log lines in {outage:.0f} s of outage; "
            f"last report: {report[report.index('Kafka broker') :][:120]}"
        )
        # Before: aiokafka's retries wrote about 100 lines a second (2,455 in 25 s here).
        assert len(lines) <= 40 + outage, "\n".join(lines[:60])

        own_broker.start()
        wait_for(lambda: get(port, "/readyz")[0] == 200, 180, "/readyz ready again after the broker's restart")
        assert gauge(port, "crsmon_broker_connected") == 1
        wait_for(lambda: "answers again" in worker.output(), 30, "the log to say the broker is back")
    finally:
        worker.stop()
