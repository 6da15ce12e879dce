"""Time that passes without events, and what the worker shows its operators over HTTP."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.wire import format_timestamp
from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service

pytestmark = pytest.mark.kafka


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def quick_worker(worker_env: dict[str, str], tmp_path: Path):
    """A worker whose signal-loss silence is 6 s and whose timer ticks every second."""
    config = tmp_path / "clinical.json"
    config.write_text(json.dumps({"signal_loss_after_s": 6, "continuous_min_samples": 3}))
    env = {**worker_env, "CRSMON_CLINICAL_CONFIG": str(config), "CRSMON_TICK_INTERVAL_S": "1"}
    worker = Service(["worker"], env, tmp_path / "worker.log")
    worker.env = env
    try:
        worker.wait_for_output("Ready")
        yield worker
    finally:
        worker.stop()


def test_a_silent_monitor_raises_signal_loss_from_the_timer(quick_worker, kafka) -> None:
    env = quick_worker.env
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=10)
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_VITALS"],
        [
            (
                "MRN-0200",
                {
                    "patient_id": "MRN-0200",
                    "ts": format_timestamp(start + timedelta(seconds=2 * n)),
                    "heart_rate": 78,
                    "spo2": 97,
                    "respiratory_rate": 15,
                },
            )
            for n in range(6)
        ],
    )
    last_sample = start + timedelta(seconds=10)
    # Nothing more is sent: only the worker's timer can notice the silence.
    alerts = read_until(
        kafka.bootstrap, env["CRSMON_TOPIC_ALERTS"], lambda a: any(x["rule"] == "signal_loss" for x in a), timeout=60
    )
    loss = next(a for a in alerts if a["rule"] == "signal_loss")
    assert loss["status"] == "firing" and loss["severity"] == "low"
    assert loss["patient_id"] == "MRN-0200"
    observed = datetime.fromisoformat(loss["observed_at"].replace("Z", "+00:00"))
    assert last_sample + timedelta(seconds=6) <= observed <= last_sample + timedelta(seconds=30)


def test_the_timer_honours_every_patient_due_in_one_tick_a_slice_at_a_time(worker_env, tmp_path, kafka) -> None:
    """Patients due at the same moment (as at every hour, for the deterioration warning) are
    taken CRSMON_TICK_PATIENTS at a time with the loop free in between, and all in the same
    tick: one slice a tick would leave the last ones for ticks 20 s and 40 s later."""
    config = tmp_path / "clinical.json"
    config.write_text(json.dumps({"signal_loss_after_s": 6, "continuous_min_samples": 3}))
    env = {
        **worker_env,
        "CRSMON_CLINICAL_CONFIG": str(config),
        "CRSMON_TICK_INTERVAL_S": "20",
        "CRSMON_TICK_PATIENTS": "2",
    }
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready")
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=10)
        patients = [f"MRN-03{n:02d}" for n in range(6)]
        produce(
            kafka.bootstrap,
            env["CRSMON_TOPIC_VITALS"],
            [
                (
                    patient,
                    {
                        "patient_id": patient,
                        "ts": format_timestamp(start + timedelta(seconds=2 * n)),
                        "heart_rate": 78,
                        "spo2": 97,
                        "respiratory_rate": 15,
                    },
                )
                for n in range(6)
                for patient in patients
            ],
        )  # six monitors silent from the same moment

        def lost(alerts: list[dict]) -> list[dict]:
            return [a for a in alerts if a["rule"] == "signal_loss"]

        alerts = lost(read_until(kafka.bootstrap, env["CRSMON_TOPIC_ALERTS"], lambda a: len(lost(a)) >= 6, timeout=90))
    finally:
        worker.stop()
    assert sorted(a["patient_id"] for a in alerts) == patients
    emitted = [datetime.fromisoformat(a["emitted_at"].replace("Z", "+00:00")) for a in alerts]
    assert max(emitted) - min(emitted) < timedelta(seconds=10), "all in one tick (ticks are 20 s apart)"


def test_metrics_health_and_readiness(quick_worker, kafka) -> None:
    env = quick_worker.env
    port = int(env["CRSMON_WEB_PORT"])
    assert http_get(port, "/healthz")[0] == 200
    status, body = http_get(port, "/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_CLINICAL_EVENTS"],
        [("MRN-0300", {"patient_id": "MRN-0300", "ts": "2026-11-20T08:00:00Z", "type": "therapy", "therapy": "car-t"})],
    )
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_VITALS"],
        [
            ("MRN-0300", {"patient_id": "MRN-0300", "ts": "2026-11-21T08:00:00Z", "temperature": 38.9}),
            ("MRN-0301", b"not json"),
        ],
    )
    read_until(kafka.bootstrap, env["CRSMON_TOPIC_ALERTS"], lambda a: len(a) >= 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = http_get(port, "/metrics")[1]
        if "crsmon_patients_tracked 2.0" in body or "crsmon_patients_tracked 1.0" in body:
            break
        time.sleep(1)
    vitals_topic = env["CRSMON_TOPIC_VITALS"]
    assert re.search(rf'crsmon_messages_consumed_total{{topic="{vitals_topic}"}} 2\.0', body)
    assert re.search(rf'crsmon_messages_rejected_total{{reason="not_json",topic="{vitals_topic}"}} 1\.0', body)
    assert re.search(r'crsmon_alerts_emitted_total{rule="crs",severity="medium",status="firing"} 1\.0', body)
    assert 'crsmon_processing_latency_seconds_bucket{le="+Inf",output="alert"} 1.0' in body
    assert "crsmon_state_writes_total" in body and "crsmon_consumer_lag_messages" in body
    assert 'crsmon_open_episodes{rule="crs"} 1.0' in body
    assert "MRN-0300" not in body and "MRN-0301" not in body, "no patient identifier in any metric"
    # Only loopback: the web server is not reachable on other addresses of this host.
    listening = Path("/proc/net/tcp").read_text() + Path("/proc/net/tcp6").read_text()
    port_hex = f":{port:04X} "
    local = [line.split()[1] for line in listening.splitlines()[1:] if line.split()[1].endswith(port_hex.strip())]
    assert local and all(
        addr.startswith(("0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"))
        for addr in local
    ), local
    assert http_get(port, "/table/patient-state/")[0] == 404, "table contents are patient data: not served"
