"""A worker that reads a backlog and then goes idle: the lost-records watchdog
(streams/lost_records.py) must stay quiet. Issue 19 finding 5: at the end of every backlog it
logged ERROR "fetched but never reached the worker", sought back without any rebalance, and
counted thousands in crsmon_records_lost_in_flight_total, the metric operators alert on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.kafka_io import produce
from tests.support.processes import Service
from tests.support.worker_metrics import metric, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

PATIENTS = 100
SETS_EACH = 40


def test_a_backlog_read_to_its_end_raises_no_lost_records_alarm(kafka, worker_env, tmp_path: Path) -> None:
    # The watchdog's clock scaled down (a check every 0.25 s, quiet after 0.5 s), so that a
    # fetched batch of a few thousand records outlasts it as 10,000-record batches outlast the
    # 4 s default in a hospital's backlog.
    env = {**worker_env, "CRSMON_LOST_RECORDS_CHECK_S": "0.25", "CRSMON_LOST_RECORDS_STALL_S": "0.5"}
    port = int(env["CRSMON_WEB_PORT"])
    patients = [f"MRN-{n:04d}" for n in range(PATIENTS)]
    backlog = [
        (
            p,
            {
                "patient_id": p,
                "ts": f"2026-11-21T{6 + m // 60:02d}:{m % 60:02d}:00Z",
                "heart_rate": 80 + m % 7,
                "temperature": 37.0,
                "spo2": 97,
            },
        )
        for m in range(SETS_EACH)
        for p in patients
    ]
    # Produced before the worker starts: it meets a backlog, reads it to the end, then idles.
    produce(kafka.bootstrap, env["CRSMON_TOPIC_VITALS"], backlog)
    worker = Service(["worker"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output("Ready", timeout=120)
        wait_for(
            lambda: metric(port, "crsmon_messages_consumed_total") >= len(backlog),
            180,
            f"the {len(backlog)} records of the backlog taken",
        )
        # Idle now: ten more checks give the watchdog every chance to (wrongly) fire.
        checks = metric(port, "crsmon_lost_records_checks_total")
        wait_for(
            lambda: metric(port, "crsmon_lost_records_checks_total") >= checks + 10,
            120,
            "ten checks of the idle worker by the lost-records watchdog",
        )
        lost = metric(port, "crsmon_records_lost_in_flight_total")
        assert worker.alive()
    finally:
        worker.stop()
    log = worker.output()
    # The watchdog's own ERRORs (a broker still electing its coordinator may log others at start).
    errors = [
        line
        for line in log.splitlines()
        if "ERROR" in line and ("seeking back" in line or "gives up" in line or "lost-records" in line)
    ]
    assert lost == 0, f"{lost:.0f} records called lost in flight, with no rebalance:\n" + "\n".join(errors[:5])
    assert "never reached the worker" not in log
    assert errors == [], "\n".join(errors[:5])
