"""`crsmon demo` (`make demo`), run as a user runs it: everything comes up, alerts and pages are
printed, the dashboard answers its link, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import crsmon.demo
from crsmon.cli import parser
from crsmon.local_kafka import free_port

CRSMON = str(Path(sys.executable).parent / "crsmon")
COMPONENTS = ("Kafka broker", "pager (webhook sink)", "worker", "dispatcher", "dashboard", "simulated ward")
ALERT = re.compile(r"^  ward time \d\d:\d\d  (FIRING|UPDATED|RESOLVED) ", re.MULTILINE)


class DemoProcess:
    def __init__(self, tmp_path: Path, *options: str) -> None:
        self.log = tmp_path / "demo.out"
        self._out = open(self.log, "wb")
        # Its own session, like a terminal's foreground job: the signal goes to the demo only.
        self.process = subprocess.Popen(
            [CRSMON, "demo", "--dir", str(tmp_path / "run"), *options],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: re.Pattern | str, timeout: float) -> re.Match | str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output()
            found = pattern.search(text) if isinstance(pattern, re.Pattern) else (pattern in text and pattern)
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited {self.process.returncode}:\n{text[-5000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not printed within {timeout:.0f} s:\n{self.output()[-5000:]}")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._out.close()


def _pids_by_component(output: str) -> dict[str, int]:
    pids = {}
    for line in output.splitlines():
        for name in COMPONENTS:
            if f"] {name} ." in line and (found := re.search(r"\(pid (\d+)\)", line)):
                pids[name] = int(found.group(1))
    return pids


def _processes() -> dict[int, tuple[int, str]]:
    """Every process on the machine: pid -> (process group, command line)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue  # a zombie has exited; only its parent's bookkeeping is left
        table[int(entry.name)] = (int(fields[2]), command)
    return table


def _open(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@pytest.mark.kafka
@pytest.mark.timeout(600)
def test_the_demo_runs_everything_prints_alerts_and_pages_and_ctrl_c_leaves_nothing_behind(tmp_path):
    demo = DemoProcess(
        tmp_path,
        "--patients",
        "20",
        "--speed",
        "600",
        "--days",
        "1",
        "--crs-share",
        "0.3",
        "--run-for",
        "300",
        "--dashboard-port",
        str(free_port()),
    )
    try:
        link = demo.wait_for(re.compile(r"The ward:\s+(http://\S+\?token=(\S+))"), timeout=300)
        url, token = link.group(1), link.group(2)
        output = demo.output()
        pids = _pids_by_component(output)
        assert set(pids) == set(COMPONENTS), output
        processes = _processes()
        for name, pid in pids.items():
            assert pid in processes, f"the {name} (pid {pid}) is not running:\n{output}"
            assert processes[pid][0] == pid, f"the {name} is not the leader of a process group of its own"
        run_dir = str(tmp_path / "run")
        jvms = [
            pid for pid, (group, command) in processes.items() if command.startswith("java ") and run_dir in command
        ]
        assert len(jvms) == 1 and processes[jvms[0]][0] == pids["Kafka broker"], (
            "the Kafka JVM is not in the broker's group"
        )

        # The link opens the ward: the token is exchanged for a cookie and the page is served.
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, page = _open(url, opener)
        assert status == 200 and "<html" in page.lower()
        assert _open(url.split("?")[0])[0] == 401  # without the token: refused
        assert "?token=" in url and len(token) >= 20

        demo.wait_for(ALERT, timeout=240)
        demo.wait_for("      -> page POST /", timeout=240)  # the dispatcher paged the sink

        os.kill(demo.process.pid, signal.SIGINT)
        assert demo.process.wait(timeout=120) == 0, demo.output()[-3000:]
    finally:
        demo.close()
    output = demo.output()
    assert "crsmon demo: stopped 6 processes" in output, output[-3000:]
    assert "had to be killed" not in output, output[-3000:]
    groups = set(pids.values())
    left = {
        pid: command
        for pid, (group, command) in _processes().items()
        if group in groups or pid in jvms or run_dir in command
    }
    assert not left, f"left running after Ctrl-C: {left}"


@pytest.mark.kafka
@pytest.mark.timeout(300)
def test_a_component_that_cannot_start_is_reported_with_its_log_and_the_rest_are_stopped(tmp_path):
    # A clinical configuration that does not exist stops the worker at start.
    env = dict(os.environ, CRSMON_CLINICAL_CONFIG=str(tmp_path / "missing-clinical-config.json"))
    out = tmp_path / "demo.out"
    with open(out, "wb") as output:
        result = subprocess.run(
            [CRSMON, "demo", "--dir", str(tmp_path / "run"), "--dashboard-port", str(free_port())],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=280,
            start_new_session=True,
        )
    text = out.read_text()
    assert result.returncode == 1, text
    assert re.search(r"\[4/7\] worker \.+ FAILED after [\d.]+ s: exited with status \d+", text), text
    assert "the worker exited with status" in text and "the end of" in text and "worker.log" in text
    assert "missing-clinical-config.json" in text  # the worker's own words, from its log
    pids = _pids_by_component(text)
    assert set(pids) == {"Kafka broker", "pager (webhook sink)"}
    assert "stopped 3 processes" in text
    left = [pid for pid, (group, _) in _processes().items() if group in pids.values()]
    assert not left, f"left running: {left}"


def test_a_signal_that_arrives_twice_at_once_is_one_request_and_a_later_one_stops_at_once(tmp_path, monkeypatch):
    # `timeout make demo` signals make, which passes SIGTERM on, and make's whole process group.
    demo = crsmon.demo.Demo(parser().parse_args(["demo", "--dir", str(tmp_path)]), out=io.StringIO())
    moments = iter([100.0, 100.02, 103.0])
    monkeypatch.setattr(crsmon.demo.time, "monotonic", lambda: next(moments))
    demo.request_stop(signal.SIGTERM, None)
    demo.request_stop(signal.SIGTERM, None)
    assert demo.stop_requested and not demo.hurry
    demo.request_stop(signal.SIGINT, None)  # Ctrl-C again, three seconds later
    assert demo.hurry


def test_the_demo_names_a_crs_alert_without_an_astct_grade_as_such() -> None:
    import json

    from crsmon.demo_output import alert_line
    from monitor.wire import Alert, decode_as

    def line(grade: int) -> str:
        alert = decode_as(
            Alert,
            json.dumps(
                {
                    "record": "alert",
                    "alert_id": f"P1:crs:2026-11-24T08:00:00Z:1:{grade}",
                    "episode_id": "P1:crs:2026-11-24T08:00:00Z",
                    "patient_id": "P1",
                    "ward": "5-West",
                    "bed": "5",
                    "status": "firing",
                    "severity": "medium",
                    "rule": "crs",
                    "crs_grade": grade,
                    "news2_score": 3,
                    "reasons": ["NEWS2 3"],
                    "observed_at": "2026-11-24T08:00:00Z",
                    "emitted_at": "2026-11-24T08:00:01Z",
                }
            ).encode(),
        )
        return alert_line(alert, colour=False)

    assert "crs no grade" in line(0) and "grade 0" not in line(0)
    assert "crs grade 2" in line(2)
