"""A worker whose event loop is blocked is never silent, and a stop signal still ends it.

The block is planted into a real `crsmon worker` process by tests/support/poison/sitecustomize.py
(on PYTHONPATH, triggered by a file): a busy loop inside the worker's timer callback, as an
engine bug looping forever would be.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from streams.loop_watchdog import LoopWatchdog
from tests.support.processes import Service
from tests.test_worker_timers_and_endpoints import http_get

POISON = Path(__file__).resolve().parent / "support" / "poison"


@pytest.fixture
def poisonable_worker(worker_env: dict[str, str], tmp_path: Path):
    env = {
        **worker_env,
        "CRSMON_TICK_INTERVAL_S": "0.5",
        "CRSMON_LOOP_STALL_S": "1",
        "CRSMON_STOP_TIMEOUT_S": "2",
        "CRSMON_STORE": "memory://",
        "CRSMON_TEST_POISON_FILE": str(tmp_path / "poison"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(POISON), os.environ.get("PYTHONPATH")])),
    }
    worker = Service(["worker"], env, tmp_path / "worker.log")
    worker.port = int(env["CRSMON_WEB_PORT"])
    worker.poison = tmp_path / "poison"
    try:
        worker.wait_for_output("[^Worker]: Ready")  # as Faust's own worker says it (bench/services.py)
        deadline = time.monotonic() + 60
        while http_get(worker.port, "/readyz")[0] != 200:
            assert time.monotonic() < deadline, worker.output()[-3000:]
            time.sleep(0.2)
        yield worker
    finally:
        worker.stop()


def stall_reports(output: str) -> list[str]:
    return re.findall(r"the event loop has not run for .*", output)


@pytest.mark.kafka
def test_a_stalled_loop_is_logged_with_its_stack_counted_and_reported_by_readyz(poisonable_worker) -> None:
    worker = poisonable_worker
    assert stall_reports(worker.output()) == [], "a healthy worker reports no stall"
    answered: list[tuple[int, str]] = []
    worker.poison.write_text("4")  # the next tick spins for 4 s
    worker.wait_for_output("the event loop has not run for", timeout=20)
    # A probe sent during the stall is answered only when the loop runs again: it says so.
    probe = threading.Thread(target=lambda: answered.append(http_get(worker.port, "/readyz")))
    probe.start()
    worker.wait_for_output("the event loop runs again after a stall", timeout=20)
    probe.join(20)

    log = worker.output()
    assert len(stall_reports(log)) == 1, "one ERROR per stall"
    report = log[log.index("the event loop has not run for") :]
    assert "ERROR" in log[log.rindex("\n", 0, log.index("the event loop has not run for")) :][:200]
    assert "sitecustomize.py" in report and "_poisoned_advance" in report, "the stack shows where"

    assert answered and answered[0][0] == 503, answered
    assert json.loads(answered[0][1])["reason"].startswith("event loop stalled for")
    status, body = http_get(worker.port, "/readyz")
    assert status == 503 and re.fullmatch(
        r"event loop stalled for \d+\.\d s \(until .*\)", json.loads(body)["reason"]
    ), body
    assert re.search(r"^crsmon_event_loop_stalls_total 1\.0$", http_get(worker.port, "/metrics")[1], re.M)

    assert worker.stop() == 0, "a healthy loop stops gracefully, as before"
    assert "ending the process" not in worker.output()


@pytest.mark.kafka
def test_sigterm_ends_a_worker_whose_loop_never_returns(poisonable_worker) -> None:
    worker = poisonable_worker
    worker.poison.write_text("forever")
    worker.wait_for_output("the event loop has not run for", timeout=20)
    asked = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    returncode = worker.process.wait(15)
    took = time.monotonic() - asked
    assert returncode == 1
    assert took < 2 + 3, f"stopped {took:.1f} s after SIGTERM (CRSMON_STOP_TIMEOUT_S=2)"
    log = worker.output()
    assert "SIGTERM" in log and "ending the process" in log
    assert "_poisoned_advance" in log[log.index("ending the process") :]


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_stop_deadline_spares_a_live_loop_until_the_hard_limit() -> None:
    clock, exits = ManualClock(), []
    watchdog = LoopWatchdog(stall_s=2, stop_timeout_s=5, clock=clock, exit_process=exits.append)
    watchdog._last_beat = clock.now  # as the loop's heartbeat does  # noqa: SLF001
    watchdog.stop_requested("SIGTERM")
    clock.now += 6
    watchdog._last_beat = clock.now  # noqa: SLF001 - the loop still runs: a slow graceful stop
    watchdog.check()
    assert exits == []
    clock.now += 1.5  # stalled, but not beyond stall_s
    watchdog.check()
    assert exits == []
    clock.now += 1  # 2.5 s without a beat, 8.5 s after the signal
    watchdog.check()
    assert exits == [1]
