"""`crsmon demo` (`make demo`): the whole product on one machine, with one command.

It starts, each as its own process and in this order: a Kafka broker (the jars fetched once
from Maven Central), a webhook sink that stands in for the pager, the worker, the dispatcher
(routing from config/dispatch.example.yaml, sent to the sink), the ward dashboard, and a
simulated ward published at accelerated time. Every component is started exactly as a user
would start it (`crsmon worker`, `crsmon dispatch --config ...`), configured through the same
CRSMON_* environment as in production, and checked through the endpoint a deployment would
probe. Then it prints the dashboard's link and, as they arrive, the alerts and the pages.

Ctrl-C or SIGTERM stops everything it started, the application first and Kafka last; a second
Ctrl-C stops at once. A component that fails to start, or exits while the demo runs, is
reported with the end of its log, and the rest are stopped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import orjson
import yaml

from crsmon.children import Child, accepts_connections, http_status, port_is_free, stop_all
from crsmon.demo_output import Step, alert_line, page_line
from crsmon.local_kafka import KAFKA_VERSION, BrokerError, cache_dir, fetch_jars, free_port
from crsmon.ward_feed import describe_speed

EXAMPLE_DISPATCH_CONFIG = Path(__file__).resolve().parent.parent / "config" / "dispatch.example.yaml"
STEPS = 7
SAME_REQUEST_S = 1.0
KAFKA_PORT = 9092
START_TIMEOUT_S = {
    "kafka": 120.0,
    "webhook-sink": 30.0,
    "worker": 180.0,
    "dispatcher": 90.0,
    "dashboard": 90.0,
    "simulated ward": 300.0,
}


class StartFailed(RuntimeError):
    """A component did not come up; `child` is the one whose log tells why."""

    def __init__(self, reason: str, child: Child | None = None) -> None:
        super().__init__(reason)
        self.child = child


class Stopped(RuntimeError):
    """Ctrl-C or SIGTERM arrived while things were starting."""


class Demo:
    def __init__(self, args: argparse.Namespace, out=sys.stdout) -> None:
        self.args = args
        self.out = out
        self.root = Path(args.dir).resolve()
        self.logs = self.root / "logs"
        self.live = out.isatty()
        self.children: list[Child] = []
        self.kafka: Child | None = None
        self.stop_requested = False
        self.stop_requested_at = 0.0
        self.hurry = False
        self.env = _environment_without_kafka_security()
        self.command = [sys.executable, "-m", "crsmon.cli"]
        # Known once the components are up:
        self.bootstrap = ""
        self.sink: Child | None = None
        self.feed: Child | None = None
        self.worker_metrics = ""
        self.history_messages = 0
        self.feed_started = self.next_catch_up_note = 0.0

    # -- signals -------------------------------------------------------------------------
    def request_stop(self, signum: int, frame: object) -> None:
        """The first signal stops everything in order; a second one, a moment later, at once.

        One stop request can arrive twice within milliseconds (`timeout make demo` signals both
        make, which passes SIGTERM on, and make's process group): that is not a second request.
        """
        now = time.monotonic()
        if self.stop_requested and now - self.stop_requested_at > SAME_REQUEST_S:
            self.hurry = True  # nothing is printed here: the handler may interrupt a print
        if not self.stop_requested:
            self.stop_requested, self.stop_requested_at = True, now

    def _hurrying(self) -> bool:
        return self.hurry

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # -- the run -------------------------------------------------------------------------
    def run(self) -> int:
        """0 after Ctrl-C, SIGTERM or --run-for; 1 when a component failed. Whatever happens,
        everything started is stopped before this returns."""
        args = self.args
        self.say(
            f"crsmon demo: {args.patients} simulated patients at {describe_speed(args.speed)}; logs in {self.logs}"
        )
        self._clean()
        try:
            return self._start_and_follow()
        finally:
            self._stop_everything()

    def _start_and_follow(self) -> int:
        try:
            url = self._start_everything()
        except Stopped:
            self.say("  stopped while starting")
            return 0
        except StartFailed as failure:
            self.say(f"crsmon demo: {failure}")
            if failure.child is not None:
                self._report_log(failure.child)
            return 1
        self.say()
        self.say(f"  The ward:  {url}")
        self.say()
        self.say(
            "Alerts as they arrive (ward time runs ahead of the clock); pages the dispatcher "
            "sends are marked ->. Ctrl-C stops everything."
        )
        return self._follow()

    def _clean(self) -> None:
        """Each run starts from nothing: a fresh broker must not meet an old worker's state."""
        for name in ("kafka", "worker", "dispatch", "logs"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        self.logs.mkdir(parents=True, exist_ok=True)

    def _step(self, number: int, title: str) -> Step:
        return Step(self.out, number, STEPS, title, self.live)

    def _start_everything(self) -> str:
        step = self._step(1, f"Kafka {KAFKA_VERSION} jars")
        self._fetch_jars(step)

        kafka_port = KAFKA_PORT if port_is_free(KAFKA_PORT) else free_port()
        self.bootstrap = f"127.0.0.1:{kafka_port}"
        step = self._step(2, "Kafka broker")
        self.kafka = self._start(
            step,
            "kafka",
            [
                sys.executable,
                "-m",
                "crsmon.local_kafka",
                "serve",
                "--port",
                str(kafka_port),
                "--data-dir",
                str(self.root / "kafka"),
            ],
            ready=lambda child: "serving on" in child.output(),
        )
        step.done(f"{self.bootstrap} (pid {self.kafka.pid})")
        self.env["CRSMON_BROKER"] = self.bootstrap

        dispatch_config = self._dispatch_config()
        step = self._step(3, "pager (webhook sink)")
        sink_port = free_port()
        secrets = sorted(
            {secret for receiver in dispatch_config["receivers"].values() for secret in receiver.get("secrets", [])}
        )
        self.sink = self._start(
            step,
            "webhook-sink",
            [
                *self.command,
                "webhook-sink",
                "--port",
                str(sink_port),
                *(option for secret in secrets for option in ("--secret", secret)),
            ],
            ready=lambda child: accepts_connections(sink_port),
        )
        step.done(f"http://127.0.0.1:{sink_port}/ (pid {self.sink.pid})")

        step = self._step(4, "worker")
        web_port = free_port()
        self.worker_metrics = f"http://127.0.0.1:{web_port}/metrics"
        worker = self._start(
            step,
            "worker",
            [*self.command, "worker"],
            env={
                "CRSMON_WEB_PORT": str(web_port),
                "CRSMON_DATA_DIR": str(self.root / "worker"),
                "CRSMON_CLINICAL_CONFIG": str(self._clinical_config()),
            },
            ready=lambda child: http_status(f"http://127.0.0.1:{web_port}/readyz") == 200,
        )
        step.done(f"metrics {self.worker_metrics} (pid {worker.pid})")

        step = self._step(5, "dispatcher")
        http_port = free_port()
        config_path = self.root / "dispatch" / "dispatch.yaml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(yaml.safe_dump(_pointed_at(dispatch_config, sink_port), sort_keys=False))
        dispatcher = self._start(
            step,
            "dispatcher",
            [
                *self.command,
                "dispatch",
                "--config",
                str(config_path),
                "--broker",
                self.bootstrap,
                "--state",
                str(self.root / "dispatch" / "ledger.sqlite3"),
                "--port",
                str(http_port),
            ],
            ready=lambda child: http_status(f"http://127.0.0.1:{http_port}/healthz") == 200,
        )
        step.done(f"routes {EXAMPLE_DISPATCH_CONFIG.name} to the sink (pid {dispatcher.pid})")

        from alerting.dashboard.access import make_token

        step = self._step(6, "dashboard")
        dashboard_port = self.args.dashboard_port
        moved = ""
        if not port_is_free(dashboard_port):
            dashboard_port, moved = free_port(), f"; port {self.args.dashboard_port} is taken"
        token = make_token()
        dashboard = self._start(
            step,
            "dashboard",
            [*self.command, "dashboard", "--port", str(dashboard_port)],
            env={"CRSMON_DASHBOARD_TOKEN": token},
            ready=lambda child: http_status(f"http://127.0.0.1:{dashboard_port}/healthz") == 200,
        )
        step.done(f"port {dashboard_port} (pid {dashboard.pid}){moved}")

        step = self._step(7, "simulated ward")
        args = self.args
        self.feed = self._start(
            step,
            "simulated-ward",
            [
                *self.command,
                "simulate",
                "--kafka",
                self.bootstrap,
                "--patients",
                str(args.patients),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--crs-share",
                str(args.crs_share),
                "--artifacts",
                str(args.artifacts),
                "--speed",
                str(args.speed),
                "--history",
                str(args.history),
            ],
            ready=lambda child: "history published" in child.output(),
            timeout=START_TIMEOUT_S["simulated ward"],
        )
        self.history_messages = _history_count(self.feed.output())
        self.feed_started, self.next_catch_up_note = step.started, time.monotonic()
        step.done(f"{args.history:g} h of history, {self.history_messages:,} messages (pid {self.feed.pid})")
        return f"http://127.0.0.1:{dashboard_port}/?token={token}"

    def _fetch_jars(self, step: Step) -> None:
        cached = (cache_dir() / f"kafka-{KAFKA_VERSION}" / "complete").exists()
        try:
            lib = fetch_jars()
        except BrokerError as error:
            if self.stop_requested:
                raise Stopped() from None
            step.failed("see below")
            raise StartFailed(str(error)) from None
        step.done(f"{'cached' if cached else 'fetched from Maven Central'} in {lib.parent}")

    def _start(
        self,
        step: Step,
        name: str,
        command: list[str],
        ready: Callable[[Child], bool],
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Child:
        child = Child(name, command, {**self.env, **(env or {})}, self.logs / f"{name}.log")
        self.children.append(child)
        child.start()
        deadline = time.monotonic() + (timeout or START_TIMEOUT_S.get(name, 90.0))
        while not ready(child):
            if self.stop_requested:
                step.failed("stopped")
                raise Stopped()
            status = child.exit_status()
            if status is not None:
                step.failed(f"exited with status {status}")
                raise StartFailed(f"the {name} exited with status {status}; the rest are stopped", child)
            if time.monotonic() > deadline:
                step.failed(f"not ready within {step.elapsed:.0f} s")
                raise StartFailed(f"the {name} was not ready within {step.elapsed:.0f} s; the rest are stopped", child)
            time.sleep(0.2)
        return child

    def _clinical_config(self) -> Path:
        """The defaults, but for the clock: the simulated ward runs ahead of it (at --speed),
        and the worker refuses records dated more than future_tolerance_s ahead (issue 19).
        A year covers any demo; a real feed keeps the default's few minutes. The user's own
        configuration (CRSMON_CLINICAL_CONFIG) is kept, its tolerance widened; one that cannot
        be read is passed on as it is, for the worker to say what is wrong with it."""
        settings: dict = {}
        if "CRSMON_CLINICAL_CONFIG" in self.env:
            given = Path(self.env["CRSMON_CLINICAL_CONFIG"])
            try:
                settings = orjson.loads(given.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                return given
            if not isinstance(settings, dict):
                return given
        settings["future_tolerance_s"] = 365 * 86400.0
        path = self.root / "worker-clinical.json"
        path.write_bytes(orjson.dumps(settings))
        return path

    def _dispatch_config(self) -> dict:
        try:
            return yaml.safe_load(EXAMPLE_DISPATCH_CONFIG.read_text())
        except OSError as error:
            raise StartFailed(
                f"cannot read {EXAMPLE_DISPATCH_CONFIG} ({error.strerror}): run the "
                "demo from a checkout of the crsmon repository"
            ) from None

    # -- while it runs -------------------------------------------------------------------
    def _follow(self) -> int:
        """Print alerts and pages until a signal, --run-for, or a component's death."""
        assert self.sink is not None and self.feed is not None
        alerts = _AlertFeed(self.bootstrap, self.env.get("CRSMON_TOPIC_ALERTS", "alerts"))
        pages = _LogFollower(self.sink.log)
        caught_up = False
        deadline = None if self.args.run_for is None else time.monotonic() + self.args.run_for
        next_metrics = time.monotonic()
        ward_over = False
        try:
            while not self.stop_requested:
                if deadline is not None and time.monotonic() >= deadline:
                    self.say(f"  --run-for {self.args.run_for:g} s is over")
                    break
                for alert in alerts.poll():
                    self.say(alert_line(alert, self.live))
                for line in pages.new_lines():
                    shown = page_line(line)
                    if shown:
                        self.say(shown)
                if not caught_up and time.monotonic() >= next_metrics:
                    caught_up = self._show_catching_up(progress_every=10.0)
                    next_metrics = time.monotonic() + 1.0
                for child in self.children:
                    status = child.exit_status()
                    if status is None:
                        continue
                    if child is self.feed and status == 0:
                        if not ward_over:
                            ward_over = True
                            self.say(
                                "  the simulated ward has reached the end of its window; the rest "
                                "keeps running until Ctrl-C"
                            )
                        continue
                    self.say(f"  {child.name} exited with status {status}")
                    self._report_log(child)
                    return 1
        finally:
            alerts.close()
        return 0

    def _show_catching_up(self, progress_every: float) -> bool:
        """Say how far the worker is through the history (from its own metrics); True once through."""
        consumed = _consumed(self.worker_metrics)
        if consumed is None:
            return False
        if consumed >= self.history_messages:
            self.say(
                f"  (the worker has processed the ward's history: {consumed:,} messages in "
                f"{time.monotonic() - self.feed_started:.0f} s since the ward started)"
            )
            return True
        if time.monotonic() >= self.next_catch_up_note:
            self.next_catch_up_note = time.monotonic() + progress_every
            self.say(
                f"  (the worker is catching up on the history: {consumed:,} of {self.history_messages:,} messages)"
            )
        return False

    def _report_log(self, child: Child) -> None:
        self.say(f"  the end of {child.log}:")
        for line in child.tail().splitlines():
            self.say(f"    | {line}")

    # -- stopping ------------------------------------------------------------------------
    def _stop_everything(self) -> None:
        started = time.monotonic()
        self.say("crsmon demo: stopping everything it started (Ctrl-C again: at once)")
        self.stop_requested, self.stop_requested_at = True, started
        application = [child for child in self.children if child is not self.kafka]
        killed = stop_all(application, timeout=20.0, hurry=self._hurrying)
        if self.kafka is not None:
            killed += stop_all([self.kafka], timeout=30.0, hurry=self._hurrying)
        note = f"; {', '.join(killed)} had to be killed" if killed else ""
        self.say(f"crsmon demo: stopped {len(self.children)} processes in {time.monotonic() - started:.1f} s{note}")


def _environment_without_kafka_security() -> dict[str, str]:
    """The demo's broker is plaintext on loopback: a CRSMON_KAFKA_* login meant for a hospital
    broker would only make every component refuse to start."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CRSMON_KAFKA_")}


def _pointed_at(config: dict, sink_port: int) -> dict:
    """The example's receivers, sent to this run's sink (the example names port 9099)."""
    receivers = {}
    for name, receiver in config["receivers"].items():
        parts = urlsplit(receiver["url"])
        receivers[name] = {**receiver, "url": urlunsplit(parts._replace(netloc=f"127.0.0.1:{sink_port}"))}
    return {**config, "receivers": receivers}


def _history_count(feed_output: str) -> int:
    for line in feed_output.splitlines():
        if "history published:" in line:
            return int(line.split("history published:")[1].split("messages")[0].replace(",", ""))
    return 0


def _consumed(metrics_url: str) -> int | None:
    """Messages the worker has read from its input topics, from its own /metrics."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(metrics_url, timeout=2.0) as response:
            text = response.read().decode()
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        if family.name == "crsmon_messages_consumed":
            return int(sum(sample.value for sample in family.samples if sample.name.endswith("_total")))
    return 0


class _LogFollower:
    """New complete lines of a growing log file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [line.decode(errors="replace") for line in lines]


class _AlertFeed:
    """Every alert on the topic from the beginning, read without a consumer group."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from kafka import KafkaConsumer

        self.topic = topic
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="crsmon-demo",
        )
        self.assigned = False

    def poll(self) -> list:
        from kafka import TopicPartition

        from monitor.wire import Alert, InvalidMessage, decode_as

        if not self.assigned:
            partitions = self.consumer.partitions_for_topic(self.topic)
            if not partitions:
                time.sleep(0.2)
                return []
            self.consumer.assign([TopicPartition(self.topic, partition) for partition in partitions])
            self.assigned = True
        alerts = []
        for records in self.consumer.poll(timeout_ms=200).values():
            for record in records:
                try:
                    alerts.append(decode_as(Alert, record.value))
                except InvalidMessage:
                    continue  # the dashboard and dispatcher count these; the demo shows alerts
        return alerts

    def close(self) -> None:
        self.consumer.close()


def run_demo(args: argparse.Namespace) -> int:
    demo = Demo(args)
    previous = {signum: signal.signal(signum, demo.request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return demo.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
