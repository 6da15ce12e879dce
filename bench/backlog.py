"""A backlog of charted data through one `crsmon worker`: the development stays' hourly sets,
all waiting in `vitals` when the worker starts, as after an hour's outage or when a worker is
pointed at a day of charting (issue 19, finding 6).

Run:  .venv/bin/python -m bench.backlog FOLDER [--stays N]
      (FOLDER: PhysioNet-format .psv stays, e.g. the development set in ../shared/data/;
       --stays N takes the first N stays, for a short run)

One run starts its own Kafka broker (crsmon.local_kafka), produces every stay's observation sets
to `vitals`, keyed by patient, grouped by stay as a feed replayed from a file would be, and then
measures, one after the other over the same records:

- the baseline: Faust's do-nothing agent with the worker's settings (bench/floor_app.py);
- `crsmon worker`, started as a user starts it (bench/services.py).

For each it prints the sets per second (the slope between 5 % and 95 % of the records, read from
`crsmon_messages_consumed_total` five times a second, as bench/worker.py does), the longest pause
(the longest time the counter did not move between the first record and the last: a commit or a
stall that stops processing shows here; a scrape that times out while the loop is blocked counts
as no movement) and its resident memory once every record was taken. For the worker also: the
bytes written to its table's changelog per input record (the messages' keys and values, read
back from the topic), and its resident memory per patient, less what an idle worker holds
(measured first, in the same run). The ratios to the baseline are what to compare between
machines: this one has 2 cores, shared.

This is a benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from kafka import KafkaConsumer, TopicPartition

from bench.load import produce_all
from bench.profile import Sampler, summarise
from bench.progress import Progress, metric_total, wait_for_commits
from bench.services import Inputs, Process, run_topics, settings_for, start_floor, start_worker, worker_environment
from bench.takeover import changelog_topics
from crsmon.local_kafka import LocalKafka, free_port
from monitor.wire import encode
from streams import patient_record
from streams.topic_setup import ensure_topics
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems

logging.getLogger("aiokafka").setLevel(logging.ERROR)  # "not leader" retries right after a topic is created

#: What Faust logs when a commit takes longer than its interval (2.8 s): processing waited.
OVERLAP = re.compile(r"Timer commit is overlapping")


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """One process over the whole backlog."""

    name: str
    records: int
    rate: float = 0.0  # sets/s between 5 % and 95 %
    seconds: float = 0.0  # first record to last
    longest_pause: float = 0.0
    cpu_seconds: float | None = None
    rss: int = 0
    complete: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def backlog_messages(folder: Path, stays: int | None) -> tuple[list[tuple[bytes, bytes]], int]:
    """Every observation set of the first `stays` stays as (key, JSON value), stay by stay."""
    files = stay_files(folder)[:stays]
    messages: list[tuple[bytes, bytes]] = []
    patients = 0
    for path in files:
        stay = read_stay(path, ColumnMap(), Problems())
        if stay is None:
            continue
        patients += 1
        key = stay.patient_id.encode()
        messages.extend((key, encode(event, drop_none=True)) for event in stay.events)
    return messages, patients


def follow(process: Process, total: int, max_seconds: float, stall_seconds: float = 120.0) -> tuple[Progress, float]:
    """The consumed counter sampled every 0.2 s until `total` (or `max_seconds`, or a stall);
    and the longest time it did not move between its first and its last movement. A scrape
    that fails (the worker's loop blocked) is no sample: the pause runs on."""
    progress = Progress(total)
    began = time.monotonic()
    last_value, last_change, longest = 0.0, None, 0.0
    while True:
        value = metric_total(process.port, timeout=5.0)
        now = time.monotonic()
        if value is not None:
            progress.add(value, now, process.cpu_seconds())
            if value != last_value:
                if last_change is not None:
                    longest = max(longest, now - last_change)
                last_value, last_change = value, now
        if last_value >= total:
            return progress, longest
        if not process.alive():
            raise RuntimeError(f"{process.log.name}: the process died at {last_value:.0f} of {total}")
        if last_change is None and now - began > 180:
            raise RuntimeError(f"{process.log.name}: nothing consumed in 180 s")
        if last_change is not None and (now - last_change > stall_seconds or now - began > max_seconds):
            say(f"{process.log.name}: stopped at {last_value:.0f} of {total}")
            return progress, max(longest, now - last_change)
        time.sleep(0.2)


def steady_rss(process: Process, samples: int = 5, every: float = 0.3) -> int:
    readings = []
    for _ in range(samples):
        readings.append(process.rss_bytes())
        time.sleep(every)
    return int(statistics.median(readings))


@dataclass
class Changelog:
    messages: int = 0
    size: int = 0  # keys and values
    alerts: int = 0  # of which, the unconfirmed alerts a patient's record carries
    alert_bytes: int = 0


def changelog_bytes(bootstrap: str, topics: list[str]) -> Changelog:
    """Messages and bytes (keys + values) in these topics, read back from the broker, and of
    them, the unconfirmed alerts that patients' records carry (streams/patient_record.py)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        found = Changelog()
        if not partitions:
            return found
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        deadline = time.monotonic() + 300
        while any(consumer.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000, max_records=10_000).values():
                for record in records:
                    found.messages += 1
                    found.size += len(record.key or b"") + len(record.value or b"")
                    try:
                        alerts = patient_record.unpack(record.value or b"").unconfirmed
                    except ValueError:
                        continue  # a tombstone, or a discharged patient's memory
                    found.alerts += len(alerts)
                    found.alert_bytes += sum(len(alert) for alert in alerts)
        return found
    finally:
        consumer.close()


def measure(
    kafka: LocalKafka,
    workdir: Path,
    inputs: Inputs,
    name: str,
    worker: bool,
    records: int,
    partitions: int,
    max_seconds: float,
    extra_env: dict[str, str],
    profile: bool = False,
) -> tuple[Run, str]:
    topics = run_topics(inputs, name)
    ensure_topics(settings_for(kafka.bootstrap, topics, partitions))
    app_id = f"bench-{name}"
    env = worker_environment(kafka.bootstrap, app_id, topics, partitions, workdir / name, extra_env)
    env["CRSMON_WEB_PORT"] = str(free_port())
    start = start_worker if worker else start_floor
    process = start(env, workdir / f"{name}.log")
    run = Run(name, records)
    sampler = None
    try:
        if profile:
            sampler = Sampler(process.process.pid, workdir / f"{name}.pyspy")
        progress, run.longest_pause = follow(process, records, max_seconds)
        if sampler is not None:
            sampler.stop()
            (workdir / f"{name}-profile.txt").write_text(summarise(sampler.output))
            say(f"{name}: profile in {workdir / f'{name}-profile.txt'}")
        rate = progress.steady_rate()
        run.rate, run.cpu_seconds, run.complete = rate.per_second, rate.cpu_seconds, rate.complete
        first = progress.time_of(1)
        last = progress.time_of(progress.done)
        run.seconds = (last - first) if first is not None and last is not None else 0.0
        time.sleep(1.0)
        run.rss = steady_rss(process)
        if worker:
            writes = metric_total(process.port, "crsmon_state_writes")
            run.extra["state writes"] = f"{writes:,.0f}" if writes is not None else "?"
        done = wait_for_commits(kafka.bootstrap, app_id, inputs.names, records, timeout=60.0)
        run.extra["committed"] = f"{done:,} of {records:,}"
    finally:
        if sampler is not None:
            sampler.stop()
        process.stop()
    run.extra["'Timer commit is overlapping'"] = str(len(OVERLAP.findall(process.output())))
    return run, app_id


def idle_worker_rss(kafka: LocalKafka, workdir: Path, partitions: int, extra_env: dict[str, str]) -> int:
    """A worker's resident memory with no patient: on input topics of its own, left empty."""
    inputs = Inputs.named(f"idle-{uuid.uuid4().hex[:6]}")
    topics = run_topics(inputs, "idle")
    ensure_topics(settings_for(kafka.bootstrap, topics, partitions))
    env = worker_environment(
        kafka.bootstrap, f"bench-idle-{uuid.uuid4().hex[:6]}", topics, partitions, workdir / "idle", extra_env
    )
    process = start_worker(env, workdir / "idle.log")
    try:
        process.wait_until_ready()
        time.sleep(2.0)
        return steady_rss(process)
    finally:
        process.stop()


def rows(
    baseline: Run | None, worker: Run, idle_rss: int, patients: int, changelog: Changelog
) -> Iterator[tuple[str, str]]:
    mib = 1024 * 1024
    for run in (baseline, worker):
        if run is None:
            continue
        cpu = f", {1e6 * run.cpu_seconds / (0.9 * run.records):,.0f} µs CPU/set" if run.cpu_seconds else ""
        yield (f"{run.name}: sets/s (5-95 %)", f"{run.rate:,.0f}{cpu}" + ("" if run.complete else " (INCOMPLETE)"))
        yield (f"{run.name}: first to last record", f"{run.seconds:.1f} s")
        yield (f"{run.name}: longest pause", f"{run.longest_pause:.1f} s")
        yield (f"{run.name}: RSS after the backlog", f"{run.rss / mib:,.0f} MiB")
        for label, value in run.extra.items():
            yield (f"{run.name}: {label}", value)
    if baseline is not None and baseline.rate:
        yield ("worker / baseline, sets/s", f"{worker.rate / baseline.rate:.2f}")
    messages, size = changelog.messages, changelog.size
    yield ("changelog messages / input records", f"{messages:,} / {worker.records:,}")
    yield (
        "changelog bytes per input record",
        f"{size / worker.records:,.0f} B ({size / max(messages, 1):,.0f} B a message, {size / mib:,.1f} MiB)",
    )
    yield (
        "  of which unconfirmed alerts carried",
        f"{changelog.alert_bytes / worker.records:,.0f} B ({changelog.alerts:,} alerts in {messages:,} messages)",
    )
    yield ("idle worker RSS", f"{idle_rss / mib:,.0f} MiB")
    yield (
        "worker RSS per patient (less idle)",
        f"{(worker.rss - idle_rss) / patients / 1024:,.1f} KiB over {patients:,} patients",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of PhysioNet .psv stays")
    parser.add_argument("--stays", type=int, help="only the first N stays (a short run)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of every topic (the worker's default)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="give up on a run after this long")
    parser.add_argument("--no-baseline", action="store_true", help="leave out the do-nothing Faust agent")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the worker and the baseline (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the worker with py-spy (.venv/bin/pip install py-spy); its rate is lower then",
    )
    parser.add_argument("--workdir", type=Path, help="logs and data (default: a new temporary directory)")
    args = parser.parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.worker_env)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crsmon-backlog-"))
    workdir.mkdir(parents=True, exist_ok=True)
    messages, patients = backlog_messages(args.folder, args.stays)
    say(f"{patients:,} stays, {len(messages):,} observation sets; logs and data in {workdir}")
    suffix = uuid.uuid4().hex[:6]
    with LocalKafka(data_dir=workdir / "kafka") as kafka:
        inputs = Inputs.named(f"backlog-{suffix}")
        ensure_topics(settings_for(kafka.bootstrap, run_topics(inputs, "load"), args.partitions))
        began = time.monotonic()
        produced = asyncio.run(produce_all(kafka.bootstrap, inputs.vitals, messages))
        say(f"produced {produced:,} sets to {inputs.vitals} in {time.monotonic() - began:.1f} s")
        idle = idle_worker_rss(kafka, workdir, args.partitions, extra_env)
        say(f"idle worker: {idle / 1024 / 1024:,.0f} MiB")
        baseline = None
        if not args.no_baseline:
            say("measuring: baseline (Faust's do-nothing agent)")
            baseline, _ = measure(
                kafka,
                workdir,
                inputs,
                f"baseline-{suffix}",
                False,
                produced,
                args.partitions,
                args.max_seconds,
                extra_env,
            )
            baseline.name = "baseline"
        say("measuring: crsmon worker")
        worker, app_id = measure(
            kafka,
            workdir,
            inputs,
            f"worker-{suffix}",
            True,
            produced,
            args.partitions,
            args.max_seconds,
            extra_env,
            args.profile,
        )
        worker.name = "worker"
        changelog = changelog_bytes(kafka.bootstrap, changelog_topics(kafka.bootstrap, app_id))
    shutil.rmtree(workdir / "kafka" / "kraft", ignore_errors=True)  # the topics; broker.log stays
    print(
        f"backlog: {patients:,} stays, {produced:,} hourly sets ({args.folder}), "
        f"{args.partitions} partitions, one worker"
    )
    for label, value in rows(baseline, worker, idle, patients, changelog):
        print(f"{label:<44} {value}")
    say(f"logs kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
