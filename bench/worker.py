#!/usr/bin/env python
"""How much one `crsmon worker` carries, measured side by side with what Kafka and Faust allow.

    .venv/bin/python bench/worker.py            # the full run (about 6 minutes on 2 cores)
    .venv/bin/python bench/worker.py --quick    # a smoke check (under 2 minutes)

One run starts its own Kafka broker (crsmon.local_kafka), loads the input topics with
observation sets for P patients (plus therapy events for a share of them, and --lab-panels lab
panels of eight tests for each, so every patient carries a lab history) before anything is
measured, so that throughput is the consumer's and not the producer's, and then measures:

- the ceiling: a plain aiokafka consumer that decodes each message's JSON (bench/ceiling.py);
- the floor: a Faust agent that does nothing per message, with the worker's own settings
  (bench/floor_app.py);
- the lane floor: the same app with its input records taken through the batch lane by a
  `take` that does nothing, the path the worker's records take (streams/faust_compat/batch_lane.py): what
  Faust still costs the worker per message;
- `crsmon worker` doing the full job, started as a user starts it (bench/services.py);
- two workers in one consumer group over the same input;
- p50/p99 latency from producing an observation set to reading the alert it caused, at half
  of the one worker's measured rate (bench/latency.py);
- resident memory per patient, and the time a fresh worker needs to take over the patients
  of a worker killed with SIGKILL (bench/takeover.py).

Throughput is read from the counter `crsmon_messages_consumed_total` on each process's
/metrics page (the floor app serves the same name), sampled five times a second; the rate is
the slope between 5 % and 95 % of the messages. Why not committed offsets: Faust commits on a
2.8 s timer, too coarse for runs of tens of seconds; the offsets are checked after each run
to show that everything counted was committed. See bench/progress.py.

While others edit the checkout, benchmark exactly one commit from an exported tree (the
processes import the code from PYTHONPATH before the venv's editable install):

    rm -rf /tmp/crsmon-at && mkdir /tmp/crsmon-at && git archive HEAD | tar -x -C /tmp/crsmon-at
    git rev-parse --short HEAD > /tmp/crsmon-at/.bench-commit
    PYTHONPATH=/tmp/crsmon-at .venv/bin/python /tmp/crsmon-at/bench/worker.py

The figures are printed as a table on standard output at the end; progress goes to standard
error. Numbers from a shared 2-core machine are noisy: compare the ratios, which come from one
run on one broker, more than the absolute rates. This is a benchmark, not a test: nothing here
asserts, and pytest does not collect it (tests/test_bench_smoke.py only runs --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar, cast

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: bench/, tests/support and the packages

from bench.ceiling import plain_consumer  # noqa: E402
from bench.latency import Latencies, measure_latency  # noqa: E402
from bench.load import Ward, produce_all  # noqa: E402
from bench.profile import Sampler, py_spy, summarise  # noqa: E402
from bench.progress import (  # noqa: E402
    BenchmarkError,
    Progress,
    Rate,
    Throughput,
    end_offsets,
    follow,
    metric_total,
    wait_for_commits,
)
from bench.report import Report  # noqa: E402
from bench.services import (  # noqa: E402
    Inputs,
    Process,
    run_topics,
    settings_for,
    start_floor,
    start_lane_floor,
    start_worker,
    worker_environment,
)
from bench.takeover import changelog_topics, measure_takeover  # noqa: E402
from crsmon.local_kafka import LocalKafka, free_port  # noqa: E402
from streams.topic_setup import ensure_topics  # noqa: E402

Measured = TypeVar("Measured")

QUICK = dict(
    patients=400,
    seconds_of_data=10,
    max_seconds=20.0,
    latency_seconds=4.0,
    latency_warmup=1.0,
    takeover_patients=400,
    takeover_sets=2,
    state_wait=5.0,
    takeover_timeout=35.0,
)


logging.getLogger("aiokafka").setLevel(logging.ERROR)  # "not leader" retries right after a topic is created


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and short runs, for a smoke check")
    parser.add_argument("--patients", type=int, default=10_000, help="patients in the pre-loaded input (P)")
    parser.add_argument(
        "--seconds-of-data",
        type=int,
        default=30,
        help="observation sets per patient in the pre-loaded input (one a second)",
    )
    parser.add_argument("--partitions", type=int, default=4, help="partitions of every topic (the worker's default)")
    parser.add_argument("--therapy-share", type=float, default=0.3, help="share of patients in their CRS risk period")
    parser.add_argument(
        "--lab-panels",
        type=int,
        default=1,
        help="lab panels (eight tests) per patient, 6 h apart, before the window (0: none)",
    )
    parser.add_argument("--febrile-share", type=float, default=0.3, help="share of those who turn febrile")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=90.0,
        help="stop a throughput run this long after it reached 5 %% of the input",
    )
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="how long to produce at the steady rate")
    parser.add_argument(
        "--latency-warmup", type=float, default=5.0, help="alerts caused in the first seconds are not counted"
    )
    parser.add_argument(
        "--latency-rate", type=float, help="sets/s for the latency run (default: half the measured rate)"
    )
    parser.add_argument(
        "--latency-febrile-share",
        type=float,
        default=0.5,
        help="share of the latency run's risk-period patients who turn febrile during it",
    )
    parser.add_argument("--takeover-patients", type=int, default=10_000, help="patients the killed worker owned")
    parser.add_argument("--takeover-sets", type=int, default=3, help="observation sets per patient before the kill")
    parser.add_argument(
        "--state-wait",
        type=float,
        default=40.0,
        help="seconds to wait for every patient to be in the table's changelog before the kill",
    )
    parser.add_argument("--takeover-timeout", type=float, default=150.0, help="give up on the takeover after this")
    parser.add_argument(
        "--takeover-instance-id",
        metavar="ID",
        help="static group membership for the takeover: the killed worker and the "
        "fresh one both run with CRSMON_INSTANCE_ID=ID, as a restarted "
        "StatefulSet pod or compose service would",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["ceiling", "floor", "lane-floor", "full", "two", "latency", "takeover"],
        help="leave a measurement out (repeatable); its rows say so",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every worker and the floor app, e.g. a Faust setting (repeatable)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample the floor app and the full worker with py-spy during their runs"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where logs and data directories go (default: a new temporary directory)"
    )
    if "--quick" in (sys.argv[1:] if argv is None else argv):
        parser.set_defaults(**QUICK)  # options given explicitly still win
    args = parser.parse_args(argv)
    if args.profile:
        try:
            py_spy()  # fail now, with the fix, rather than after the load
        except RuntimeError as error:
            parser.error(str(error))
    return args


def code_version() -> str:
    """The commit, and whether the code the processes import differs from it; in a tree
    exported with `git archive` (see the module's docstring), the commit it was exported from."""

    def git(*command: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *command], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        exported = REPO / ".bench-commit"
        return f"{exported.read_text().strip()} (exported tree)" if exported.exists() else "unknown"
    changed = git("status", "--porcelain", "--untracked-files=all", "monitor", "streams", "crsmon")
    return f"{commit} (uncommitted changes in monitor/, streams/ or crsmon/)" if changed else commit


@dataclass
class Run:
    """What the runs share: the broker, the pre-loaded input, the options."""

    args: argparse.Namespace
    kafka: LocalKafka
    workdir: Path
    inputs: Inputs
    total: int
    extra_env: dict[str, str]

    def environment(self, run: str, data: str) -> tuple[dict[str, str], str]:
        """A worker's environment for one run (its own group, outputs and data directory)."""
        topics = run_topics(self.inputs, run)
        ensure_topics(settings_for(self.kafka.bootstrap, topics, self.args.partitions))
        app_id = f"bench-{run}"
        env = worker_environment(
            self.kafka.bootstrap, app_id, topics, self.args.partitions, self.workdir / data, self.extra_env
        )
        return env, app_id


def load_input(run: Run, ward: Ward) -> None:
    ensure_topics(settings_for(run.kafka.bootstrap, run_topics(run.inputs, "load"), run.args.partitions))
    began = time.monotonic()
    therapy = asyncio.run(produce_all(run.kafka.bootstrap, run.inputs.clinical_events, ward.clinical_events()))
    sets = asyncio.run(
        produce_all(run.kafka.bootstrap, run.inputs.vitals, ward.observation_sets(run.args.seconds_of_data))
    )
    run.total = therapy + sets
    say(
        f"loaded {sets:,} observation sets and {therapy:,} clinical events (therapies, lab panels) "
        f"in {time.monotonic() - began:.1f} s"
    )


def measure_processes(run: Run, name: str, starters: list[Callable[[dict, Path], Process]]) -> Throughput:
    """Start the processes in one group over the pre-loaded input; their summed rate, their
    shares, and what they wrote. With --profile, the first process is sampled by py-spy."""
    env, app_id = run.environment(name, name)
    topics = run_topics(run.inputs, name)
    processes = []
    for number, start in enumerate(starters):
        own = dict(env, CRSMON_DATA_DIR=str(run.workdir / f"{name}-{number}"), CRSMON_WEB_PORT=str(free_port()))
        processes.append(start(own, run.workdir / f"{name}-{number}.log"))
    shares: list[list[float]] = []
    times: list[list[tuple[float, float] | None]] = []
    sampler = None
    try:
        if run.args.profile:  # from Ready on: start-up (imports, joining the group) is not the job
            processes[0].wait_until_ready()
            sampler = Sampler(processes[0].process.pid, run.workdir / f"{name}.pyspy")

        def read() -> float:
            counts = [metric_total(p.port) or 0.0 for p in processes]
            shares.append(counts)
            return sum(counts)

        def cpu() -> float | None:
            used = [p.cpu_times() for p in processes]
            times.append(used)
            present = [sample for sample in used if sample is not None]
            return None if len(present) < len(used) else sum(user + system for user, system in present)

        progress = follow(
            read, run.total, max_seconds=run.args.max_seconds, cpu=cpu, alive=lambda: all(p.alive() for p in processes)
        )
        if sampler is not None:
            sampler.stop()
            summary = run.workdir / f"{name}-profile.txt"
            summary.write_text(summarise(sampler.output))
            say(f"{name}: profile in {summary}")
        result = Throughput(steady_rate_once_all_work(progress, shares), shares[-1], kernel_share(times))
        if result.rate.complete:
            done = wait_for_commits(run.kafka.bootstrap, app_id, run.inputs.names, run.total)
            if done < run.total:
                say(f"{name}: only {done:,} of {run.total:,} offsets committed 30 s after the last message")
        result.written = {
            "status": end_offsets(run.kafka.bootstrap, [topics.patient_status]),
            "alerts": end_offsets(run.kafka.bootstrap, [topics.alerts]),
            "dead letters": end_offsets(run.kafka.bootstrap, [topics.dead_letters]),
            "table changelog": end_offsets(run.kafka.bootstrap, changelog_topics(run.kafka.bootstrap, app_id)),
        }
        return result
    finally:
        if sampler is not None:
            sampler.stop()
        for process in processes:
            process.stop()


def kernel_share(times: list[list[tuple[float, float] | None]]) -> float | None:
    """The kernel's part of the CPU the processes used between the first and last sample."""
    # Samples with every process's times in them (None in none of them).
    complete = [cast(list[tuple[float, float]], sample) for sample in times if None not in sample]
    if len(complete) < 2:
        return None
    user = sum(u for u, _ in complete[-1]) - sum(u for u, _ in complete[0])
    system = sum(s for _, s in complete[-1]) - sum(s for _, s in complete[0])
    return system / (user + system) if user + system > 0 else None


def steady_rate_once_all_work(progress: Progress, shares: list[list[float]]) -> Rate:
    """With several processes, the window starts when every one of them has consumed something
    (the group's first rebalance is start-up, not throughput)."""
    low = 0.05
    if shares and len(shares[0]) > 1:
        for (_, count, _), counts in zip(progress.samples, shares):
            if all(c > 0 for c in counts):
                low = max(low, count / progress.total)
                break
    return progress.steady_rate(low=min(low, 0.5))


def measure_ceiling(run: Run) -> Rate:
    progress = asyncio.run(plain_consumer(run.kafka.bootstrap, run.inputs.names, run.total, run.args.max_seconds))
    return progress.steady_rate()


def measure_latency_run(run: Run, rate: float) -> Latencies:
    args = run.args
    patients = max(1, round(rate))  # each patient sends one set a second
    ward = Ward(patients, args.therapy_share, args.febrile_share, seed=11, prefix="LIVE", lab_panels=args.lab_panels)
    inputs = Inputs.named(f"latency-{uuid.uuid4().hex[:6]}")
    latency_run = Run(args, run.kafka, run.workdir, inputs, 0, run.extra_env)
    env, _ = latency_run.environment("latency", "latency")
    worker = start_worker(env, run.workdir / "latency.log")
    try:
        worker.wait_until_ready()
        now = datetime.now(timezone.utc)
        therapy = asyncio.run(produce_all(run.kafka.bootstrap, inputs.clinical_events, ward.clinical_events(now)))
        follow(lambda: metric_total(worker.port), therapy, max_seconds=float("inf"), alive=worker.alive)
        say(
            f"latency: {patients:,} patients, {therapy:,} in their risk period; producing {rate:,.0f} sets/s "
            f"for {args.latency_seconds:.0f} s"
        )

        def caught_up(sets: int) -> bool:
            return (metric_total(worker.port) or 0) >= therapy + sets

        result = asyncio.run(
            measure_latency(
                run.kafka.bootstrap,
                inputs.vitals,
                run_topics(inputs, "latency").alerts,
                ward,
                args.latency_febrile_share,
                rate,
                args.latency_seconds,
                args.latency_warmup,
                caught_up,
                worker.cpu_seconds,
            )
        )
        result.alerts_emitted = metric_total(worker.port, "crsmon_alerts_emitted")
        return result
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.worker_env)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crsmon-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    suffix = uuid.uuid4().hex[:6]
    report = Report(version=code_version(), args=args)
    if args.profile:
        report.header.append(
            "profiled: the floor app and the full worker ran under py-spy (their rates are a little lower)"
        )
    say(f"logs and data in {workdir}")
    with LocalKafka(data_dir=workdir / "kafka") as kafka:
        say(f"Kafka on {kafka.bootstrap}")
        run = Run(args, kafka, workdir, Inputs.named(f"load-{suffix}"), 0, extra_env)
        ward = Ward(args.patients, args.therapy_share, args.febrile_share, lab_panels=args.lab_panels)
        load_input(run, ward)
        report.input(
            patients=args.patients,
            sets=args.patients * args.seconds_of_data,
            total=run.total,
            partitions=args.partitions,
        )

        def phase(name: str, measure: Callable[[], Measured]) -> Measured | None:
            if name in args.skip:
                report.skipped(name)
                return None
            say(f"measuring: {name}")
            try:
                return measure()
            except Exception as error:  # one failed measurement must not cost the others
                say(f"{name} failed: {error}")
                if not isinstance(error, (BenchmarkError, AssertionError)):
                    traceback.print_exc()
                report.failed(name, str(error).splitlines()[0][:200])
                return None

        ceiling = phase("ceiling", lambda: measure_ceiling(run))
        floor = phase("floor", lambda: measure_processes(run, f"floor-{suffix}", [start_floor]))
        lane_floor = phase("lane-floor", lambda: measure_processes(run, f"lane-floor-{suffix}", [start_lane_floor]))
        full = phase("full", lambda: measure_processes(run, f"full-{suffix}", [start_worker]))
        two = phase("two", lambda: measure_processes(run, f"two-{suffix}", [start_worker, start_worker]))
        report.throughput(ceiling, floor, lane_floor, full, two)
        full_rate = full.rate.per_second if full else None
        rate = args.latency_rate or (full_rate / 2 if full_rate else None)
        if rate:
            report.latency(phase("latency", lambda: measure_latency_run(run, rate)))
        else:
            report.failed("latency", "no measured worker rate to take half of; pass --latency-rate")
        takeover_ward = Ward(
            args.takeover_patients,
            args.therapy_share,
            args.febrile_share,
            seed=5,
            prefix="OWNED",
            lab_panels=args.lab_panels,
        )
        takeover_env = dict(extra_env)
        if args.takeover_instance_id:
            takeover_env["CRSMON_INSTANCE_ID"] = args.takeover_instance_id
            report.header.append(
                f"takeover: static membership, both workers CRSMON_INSTANCE_ID={args.takeover_instance_id}"
            )
        takeover = phase(
            "takeover",
            lambda: measure_takeover(
                kafka.bootstrap,
                workdir,
                f"takeover-{suffix}",
                args.partitions,
                takeover_ward,
                args.takeover_sets,
                args.state_wait,
                args.takeover_timeout,
                takeover_env,
            ),
        )
        report.takeover(takeover)
    shutil.rmtree(workdir / "kafka" / "kraft", ignore_errors=True)  # the topics; broker.log stays
    print(report.render(), flush=True)
    say(f"logs kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
