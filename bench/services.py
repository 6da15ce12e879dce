"""The processes the benchmark measures, started as a user starts them, each with its own log.

`crsmon worker` is configured only through its CRSMON_* environment, as in production. Each run
gets its own app id (so its own consumer group, reading from the earliest offset), its own
output topics, data directory and web port; the input topics are shared by the runs that
measure throughput, so that every consumer reads exactly the same messages.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from crsmon.local_kafka import free_port
from kafka_client.topics import Topics
from streams.settings import WorkerSettings
from tests.support.processes import Service

FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
READY = "[^Worker]: Ready"  # Faust's worker says so once the app's services have started
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of the CPU times in /proc/PID/stat


@dataclass(frozen=True)
class Inputs:
    """The input topics a run reads."""

    vitals: str
    clinical_events: str
    alert_acks: str

    @property
    def names(self) -> list[str]:
        return [self.vitals, self.clinical_events, self.alert_acks]

    @classmethod
    def named(cls, suffix: str) -> "Inputs":
        return cls(f"bench-vitals-{suffix}", f"bench-clinical-events-{suffix}", f"bench-alert-acks-{suffix}")


def run_topics(inputs: Inputs, run: str) -> Topics:
    """The worker's topics for one run: shared inputs, outputs of its own."""
    return Topics(
        vitals=inputs.vitals,
        clinical_events=inputs.clinical_events,
        alert_acks=inputs.alert_acks,
        patient_status=f"bench-patient-status-{run}",
        alerts=f"bench-alerts-{run}",
        dead_letters=f"bench-dead-letters-{run}",
    )


def settings_for(bootstrap: str, topics: Topics, partitions: int, app_id: str = "bench-setup") -> WorkerSettings:
    """Worker settings for one run, e.g. for streams.topic_setup.ensure_topics."""
    return WorkerSettings(broker=bootstrap, app_id=app_id, partitions=partitions, topics=topics)


def worker_environment(
    bootstrap: str,
    app_id: str,
    topics: Topics,
    partitions: int,
    data_dir: Path,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one worker process; `extra` is passed through unchanged (e.g. a
    Faust setting such as BROKER_SESSION_TIMEOUT, to try a fix without editing the worker)."""
    env = dict(os.environ)
    env.update(
        {
            "CRSMON_BROKER": bootstrap,
            "CRSMON_APP_ID": app_id,
            "CRSMON_PARTITIONS": str(partitions),
            "CRSMON_DATA_DIR": str(data_dir),
            "CRSMON_WEB_PORT": str(free_port()),
            "CRSMON_LOG_LEVEL": "info",
            "CRSMON_TOPIC_VITALS": topics.vitals,
            "CRSMON_TOPIC_CLINICAL_EVENTS": topics.clinical_events,
            "CRSMON_TOPIC_PATIENT_STATUS": topics.patient_status,
            "CRSMON_TOPIC_ALERTS": topics.alerts,
            "CRSMON_TOPIC_ALERT_ACKS": topics.alert_acks,
            "CRSMON_TOPIC_DEAD_LETTERS": topics.dead_letters,
        }
    )
    env.update(extra or {})
    return env


class Process(Service):
    """A measured process: its web port, its resident memory, its readiness."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, program: str | None = None) -> None:
        if program is None:
            super().__init__(args, env, log)
        else:
            super().__init__(args, env, log, program=program)
        self.port = int(env["CRSMON_WEB_PORT"])

    def rss_bytes(self) -> int:
        """Resident set size now, from /proc (the process is the Faust worker itself)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {self.process.pid}")

    def cpu_times(self) -> tuple[float, float] | None:
        """User and system (kernel) CPU seconds of all its threads so far; None once it exited."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return None
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # utime, stime

    def cpu_seconds(self) -> float | None:
        times = self.cpu_times()
        return None if times is None else sum(times)

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        self.wait_for_output(READY, timeout)


def start_worker(env: dict[str, str], log: Path) -> Process:
    """`crsmon worker`, exactly as a user starts it."""
    return Process(["worker"], env, log)


def start_floor(env: dict[str, str], log: Path) -> Process:
    """The do-nothing Faust app with the same environment."""
    return Process([str(FLOOR_APP), "worker"], env, log, program=sys.executable)


def start_lane_floor(env: dict[str, str], log: Path) -> Process:
    """The do-nothing Faust app whose input records take the worker's batch lane."""
    return Process([str(FLOOR_APP), "worker"], {**env, "BENCH_FLOOR_LANE": "1"}, log, program=sys.executable)
