"""A restart changes nothing that is paged (issue 19): real stays through Kafka, one run
uninterrupted, one with the worker SIGKILLed and one SIGTERMed at a random point; the alerts of
each against the uninterrupted run and against `crsmon replay`, and how long the restarted
worker took to take over.

    python -m bench.restart ../shared/data/physionet2019-sepsis-dev [--stays 1000] [--seed 7]

Each run has topics and a consumer group of its own on one local broker. The stays' hourly
sets are produced to `vitals` in time order (a ward's feed: all stays start at the same
moment), keyed by patient. Alerts are compared up to each patient's last set: after it, what
the timer derives depends on how long wall time runs, which replay has no notion of.

Takeover: from the restart's command to the new worker's first record processed (its
`crsmon_messages_consumed_total` above 0), with the old one's state restored from the table's
changelog (an empty data directory, as on another machine), or with `--keep-data` from the
stopped worker's own data directory (a restart in place). "changelog" is how many messages the
table's changelog held when the new worker started: what a fresh worker reads before it takes
a record (Kafka compacts only closed segments, see streams/faust_compat/patient_table.py).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.progress import committed, metric_total
from bench.services import Inputs, Process, run_topics, settings_for, start_worker, worker_environment
from crsmon.local_kafka import LocalKafka, free_port
from monitor.engine import Engine
from monitor.replay import replay
from monitor.wire import encode
from streams.topic_setup import ensure_topics
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems

PARTITIONS = 8


@dataclass
class Run:
    name: str
    changes: set[str]
    seconds: float
    takeover_s: float | None = None
    stopped_at: float | None = None  # the share of the input consumed when the worker was stopped
    changelog: int | None = None  # messages in the table's changelog when the new worker started


def feed(folder: Path, stays: int | None) -> list[tuple[str, bytes, str]]:
    problems = Problems()
    out: list[tuple[str, bytes, str]] = []
    for path in stay_files(folder)[:stays]:
        stay = read_stay(path, ColumnMap(), problems)
        if stay is not None:
            out.extend((event.patient_id, encode(event, drop_none=True), event.ts.isoformat()) for event in stay.events)
    out.sort(key=lambda item: (item[2], item[0]))
    return out


def comparable(alerts: list[dict], last_ts: dict[str, str]) -> set[str]:
    changes = set()
    for alert in alerts:
        if alert["observed_at"] <= last_ts[alert["patient_id"]]:
            alert.pop("emitted_at", None)
            changes.add(json.dumps(alert, sort_keys=True))
    return changes


def read_all(bootstrap: str, topic: str, quiet_s: float = 5.0) -> list[dict]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(quiet_s * 1000),
    )
    try:
        return [json.loads(message.value) for message in consumer]
    finally:
        consumer.close()


def messages_in(bootstrap: str, topic: str) -> int:
    """How many messages a topic holds now (after compaction), read from beginning to end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, partition) for partition in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        count = 0
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            count += sum(len(records) for records in consumer.poll(timeout_ms=1000, max_records=10_000).values())
        return count
    finally:
        consumer.close()


def consumed(worker: Process) -> float:
    return metric_total(worker.port) or 0.0


def wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def one_run(
    kafka: LocalKafka,
    messages: list[tuple[str, bytes]],
    name: str,
    stop: int | None,
    share: float,
    last_ts: dict[str, str],
    work: Path,
    keep_data: bool = False,
) -> Run:
    inputs = Inputs.named(name)
    (work / name).mkdir(parents=True)
    topics = run_topics(inputs, name)
    env = worker_environment(kafka.bootstrap, f"bench-restart-{name}", topics, PARTITIONS, work / name / "a")
    ensure_topics(settings_for(kafka.bootstrap, topics, PARTITIONS))
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=20)
    for key, value in messages:
        producer.send(inputs.vitals, key=key.encode(), value=value)
    producer.flush()
    producer.close()
    began = time.monotonic()
    worker = start_worker(env, work / f"{name}-a.log")
    worker.wait_until_ready(180)
    run = Run(name, set(), 0.0)
    if stop is not None:
        at = share * len(messages)
        wait(lambda: consumed(worker) >= at, 900, f"{name}: {at:.0f} records consumed")
        run.stopped_at = consumed(worker) / len(messages)
        worker.stop(stop, timeout=60)
        run.changelog = messages_in(kafka.bootstrap, f"bench-restart-{name}-patient-state-changelog")
        data = work / name / ("a" if keep_data else "b")
        env = {**env, "CRSMON_DATA_DIR": str(data), "CRSMON_WEB_PORT": str(free_port())}
        restarted = time.monotonic()
        worker = start_worker(env, work / f"{name}-b.log")
        wait(lambda: consumed(worker) > 0, 300, f"{name}: the restarted worker's first record")
        run.takeover_s = time.monotonic() - restarted
    group = f"bench-restart-{name}"
    wait(
        lambda: committed(kafka.bootstrap, group, inputs.names) >= len(messages),
        1800,
        f"{name}: every record committed (processed, and its effect stored)",
    )
    run.seconds = time.monotonic() - began
    run.changes = comparable(read_all(kafka.bootstrap, topics.alerts), last_ts)
    worker.stop()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a folder of PhysioNet .psv stays")
    parser.add_argument("--stays", type=int, help="the first N stays (default: all)")
    parser.add_argument("--seed", type=int, help="where the workers are stopped (default: random, printed)")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="restart on the stopped worker's data directory (a restart in place) instead of an "
        "empty one (another machine: the state comes from the changelog)",
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    items = feed(args.folder, args.stays)
    last_ts: dict[str, str] = {}
    for patient, message, _ in items:
        last_ts[patient] = json.loads(message)["ts"]
    messages = [(patient, message) for patient, message, _ in items]
    print(f"{len(last_ts):,} stays, {len(messages):,} sets; seed {seed}", flush=True)
    out, err = io.BytesIO(), io.StringIO()
    replay([message for _, message, _ in items], Engine(statuses=False), out, err)
    replayed = comparable([json.loads(line) for line in out.getvalue().splitlines()], last_ts)
    with tempfile.TemporaryDirectory(prefix="crsmon-restart-") as folder:
        work = Path(folder)
        kafka = LocalKafka(data_dir=work / "kafka", port=free_port())
        kafka.start()
        try:
            runs = [
                one_run(kafka, messages, "clean", None, 0.0, last_ts, work),
                one_run(
                    kafka, messages, "sigkill", signal.SIGKILL, rng.uniform(0.2, 0.8), last_ts, work, args.keep_data
                ),
                one_run(
                    kafka, messages, "sigterm", signal.SIGTERM, rng.uniform(0.2, 0.8), last_ts, work, args.keep_data
                ),
            ]
        finally:
            kafka.remove()
    clean = runs[0].changes
    print(
        f"replay: {len(replayed):,} alert changes; clean run {len(clean):,} "
        f"({len(replayed - clean)} of replay's missing, {len(clean - replayed)} not in replay)"
    )
    print(f"{'run':<8} {'stopped at':>10} {'missing':>8} {'new':>5} {'takeover':>9} {'changelog':>10} {'sets/s':>8}")
    for run in runs:
        stopped = "-" if run.stopped_at is None else f"{run.stopped_at:.0%}"
        takeover = "-" if run.takeover_s is None else f"{run.takeover_s:.1f} s"
        changelog = "-" if run.changelog is None else f"{run.changelog:,}"
        print(
            f"{run.name:<8} {stopped:>10} {len(clean - run.changes):>8} {len(run.changes - clean):>5} "
            f"{takeover:>9} {changelog:>10} {len(messages) / run.seconds:>8,.0f}"
        )


if __name__ == "__main__":
    main()
