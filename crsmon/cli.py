"""`crsmon`: the command line, and the one composition root of monitor/, streams/ and alerting/.

Each subcommand imports its room lazily so that `crsmon replay` starts without loading Faust.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


@command("worker")
def _worker(args: argparse.Namespace) -> int:
    import os

    from kafka_client.broker_login import check_login_at_start
    from streams.app import run_worker
    from streams.settings import WorkerSettings

    if args.broker:
        os.environ["CRSMON_BROKER"] = args.broker
    if args.config:
        os.environ["CRSMON_CLINICAL_CONFIG"] = args.config
    sys.argv = [sys.argv[0], "worker"]  # Faust's worker reads argv; give it only what it knows
    try:
        settings = WorkerSettings()
        check_login_at_start(settings.broker, settings.security)
    except ValueError as error:  # a setting that cannot work (KafkaSecurityError among them)
        print(f"crsmon worker: {error}", file=sys.stderr)
        return 2
    run_worker(settings)
    return 0


@command("replay")
def _replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from monitor.config import load_config
    from monitor.engine import Engine
    from monitor.intake import FutureCheck
    from monitor.replay import input_lines, plan, replay
    from monitor.replay_jobs import default_jobs, replay_jobs

    config = load_config(args.config)
    if args.jobs is not None and args.jobs < 1:
        print("crsmon replay: --jobs must be 1 or more", file=sys.stderr)
        return 2
    try:
        if args.file in (None, "-"):  # read once, as it comes: one process
            replay(
                sys.stdin.buffer,
                Engine(config, statuses=args.status),
                sys.stdout.buffer,
                sys.stderr,
                with_status=args.status,
            )
        else:
            path = Path(args.file)
            # a first pass: each patient is closed at its last line, none later than the clock allows
            known = plan(input_lines(path), FutureCheck(config.future_tolerance_s))
            jobs = min(args.jobs or default_jobs(), max(1, len(known.lines_of)))
            if jobs > 1 and hasattr(os, "fork"):
                replay_jobs(path, config, jobs, known, sys.stdout.buffer, sys.stderr, with_status=args.status)
            else:
                replay(
                    input_lines(path),
                    Engine(config, statuses=args.status),
                    sys.stdout.buffer,
                    sys.stderr,
                    with_status=args.status,
                    known=known,
                )
        sys.stdout.flush()
    except RuntimeError as error:  # a replay process failed; its traceback is above
        print(f"crsmon replay: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            # The reader went away (`crsmon replay day.jsonl | head`): not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"crsmon replay: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


@command("validate")
def _validate(args: argparse.Namespace) -> int:
    from validation.command import validate_command

    render = None
    if args.case_reports:
        from pathlib import Path

        from alerting.case_report.command import case_from_file
        from alerting.case_report.render import render_case_report

        def render(path: Path, patient_id: str, stem: Path) -> Path:
            events, outputs = case_from_file(str(path), patient_id, args.config, sys.stderr)
            return render_case_report(
                events, outputs, stem.with_suffix(".png"), stem.with_suffix(".pdf"), patient_id=patient_id
            ).png

    return validate_command(args, render)


@command("report")
def _report(args: argparse.Namespace) -> int:
    from alerting.case_report.command import report_command

    return report_command(args)


@command("simulate")
def _simulate(args: argparse.Namespace) -> int:
    if args.kafka:
        from crsmon.ward_feed import feed_command

        return feed_command(args)
    from simulator.command import simulate_command

    return simulate_command(args)


@command("config")
def _config(args: argparse.Namespace) -> int:
    from monitor.config import describe_settings, load_config

    for row in describe_settings(load_config(args.config)):
        unit = f" {row['unit']}" if row["unit"] else ""
        print(f"{row['name']} = {row['value']}{unit}   (default {row['default']}; {row['source']})")
    return 0


@command("dashboard")
def _dashboard(args: argparse.Namespace) -> int:
    import dataclasses

    from alerting.dashboard.run import run_dashboard
    from alerting.dashboard.settings import DashboardSettings

    overrides = {
        name: value for name in ("broker", "host", "port", "token") if (value := getattr(args, name)) is not None
    }
    return run_dashboard(dataclasses.replace(DashboardSettings(), **overrides))


@command("dispatch")
def _dispatch(args: argparse.Namespace) -> int:
    from alerting.dispatch.command import dispatch_command

    return dispatch_command(args.config, broker=args.broker, state=args.state, port=args.port)


@command("ingest")
def _ingest(args: argparse.Namespace) -> int:
    import dataclasses

    from gateway.service import run_ingest
    from gateway.settings import IngestSettings

    overrides = {
        name: value
        for name in ("broker", "host", "mllp_port", "http_port", "timezone")
        if (value := getattr(args, name)) is not None
    }
    return run_ingest(dataclasses.replace(IngestSettings(), **overrides))


@command("demo")
def _demo(args: argparse.Namespace) -> int:
    from crsmon.demo import run_demo

    return run_demo(args)


@command("webhook-sink")
def _webhook_sink(args: argparse.Namespace) -> int:
    from alerting.webhook_sink import run_sink

    return run_sink(args.host, args.port, args.secret)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="crsmon", description="Early warning of cytokine release syndrome from streaming vital signs."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker = sub.add_parser("worker", help="run the stream processor (Faust) against Kafka")
    worker.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (env CRSMON_BROKER)")
    worker.add_argument("--config", help="clinical configuration JSON (env CRSMON_CLINICAL_CONFIG)")
    replay = sub.add_parser("replay", help="run the engine over a JSON Lines file, without Kafka")
    replay.add_argument(
        "file",
        nargs="?",
        help=(
            "JSON Lines of VitalSigns and ClinicalEvents, or a folder of such .jsonl files (one stay each, read in "
            "name order); - or none for stdin"
        ),
    )
    replay.add_argument("--status", action="store_true", help="print every PatientStatus too")
    replay.add_argument("--config", help="clinical configuration JSON")
    replay.add_argument(
        "--jobs",
        type=int,
        help=(
            "processes for a file or folder, each replaying its share of the patients (default: one per core; stdin: "
            "1); the same alerts, in line order (docs/contract.md)"
        ),
    )
    validate = sub.add_parser(
        "validate",
        help=(
            "silent-mode validation: what crsmon would have done on past patients, against NEWS2, qSOFA and SIRS "
            "(docs/validation.md)"
        ),
    )
    validate.add_argument(
        "input",
        help=(
            "a folder of PhysioNet-format .psv files (one stay each), or a JSON Lines file of VitalSigns and "
            "ClinicalEvents with --outcomes"
        ),
    )
    validate.add_argument(
        "--out", default="validation", help="folder for validation.html and validation.json (default ./validation)"
    )
    validate.add_argument(
        "--outcomes", help="with JSON Lines input: JSON {patient_id: onset time or null} or CSV patient_id,onset"
    )
    validate.add_argument(
        "--columns", help="JSON column map for .psv files that differ from PhysioNet's (docs/validation.md)"
    )
    validate.add_argument("--config", help="clinical configuration JSON, as the worker's")
    validate.add_argument(
        "--sweep",
        default=None,
        help=(
            "what-if settings, 'name=v1,v2;name2=v3' (default "
            "deterioration_high_open=3.0;deterioration_medium_open=2.2; '' for none)"
        ),
    )
    validate.add_argument(
        "--target-burden",
        help=(
            "site calibration: the deterioration warning's thresholds that meet this burden on the input, e.g. "
            "'high=3%%,medium=12%%' (share of other patients' hours under alert) or 'high=0.3/day' (firings per "
            "patient-day); written as DIR/clinical-config.json with the sensitivity they buy (docs/validation.md)"
        ),
    )
    validate.add_argument("--jobs", type=int, help="processes (default: one per core)")
    validate.add_argument(
        "--no-labs",
        action="store_true",
        help=(
            "read no lab results (by default the lab columns the catalogue has are fed to the engine as type: lab "
            "events), to compare"
        ),
    )
    validate.add_argument(
        "--case-reports",
        action="store_true",
        help="draw a case report (PNG and PDF) of every stay listed for review, linked from the report",
    )
    report = sub.add_parser("report", help="one patient's course as a one-page PNG and PDF (case review)")
    report.add_argument("patient_id", help="the patient's identifier")
    report.add_argument("--from", dest="source", required=True, help="JSON Lines replay input (or a recorded run)")
    report.add_argument("--out", help="path of the report without extension (default case-PATIENT_ID)")
    report.add_argument("--config", help="clinical configuration JSON")
    simulate = sub.add_parser("simulate", help="write a simulated ward (vitals and clinical events) as JSON Lines")
    simulate.add_argument("--patients", type=int, help="cohort size (default 20)")
    simulate.add_argument("--days", type=float, help="length of the window in days (default 3)")
    simulate.add_argument("--seed", type=int, help="the same seed gives the same ward (default 1)")
    simulate.add_argument("--start", help="RFC 3339 start of the window (default 2026-11-23T00:00:00Z)")
    simulate.add_argument(
        "--numerics-interval",
        dest="numerics_interval_s",
        type=int,
        metavar="SECONDS",
        help="continuous numerics cadence, 1 s or more (default 60)",
    )
    simulate.add_argument(
        "--nibp-interval",
        dest="nibp_intervals_min",
        type=int,
        nargs="+",
        metavar="MINUTES",
        help="routine NIBP cycles to choose from per patient (default 30 60)",
    )
    simulate.add_argument(
        "--temperature-interval",
        dest="temperature_interval_min",
        type=int,
        metavar="MINUTES",
        help="nurse rounds with temperature (default 60)",
    )
    simulate.add_argument("--crs-share", type=float, help="share of patients with a CRS course (default 0.3)")
    simulate.add_argument("--deterioration-share", type=float, help="share with non-CRS deterioration (default 0.1)")
    simulate.add_argument(
        "--busy-share", type=float, help="share of patients who walk or do physiotherapy (default 0.2)"
    )
    simulate.add_argument(
        "--artifacts", type=float, metavar="FACTOR", help="scale every artifact rate; 0 for clean data (default 1)"
    )
    simulate.add_argument("--settings", help="JSON file of simulation settings (docs/simulator.md)")
    simulate.add_argument("--out", default="-", help="JSON Lines output file, - for stdout (default)")
    simulate.add_argument("--truth", help="write the ground truth per patient to this JSON file")
    simulate.add_argument(
        "--kafka",
        metavar="BROKER",
        help="publish to Kafka (host:port) at accelerated time, the ward running now, instead of writing JSON Lines",
    )
    simulate.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="with --kafka: simulated seconds per wall second (default 60: an hour a minute)",
    )
    simulate.add_argument(
        "--history",
        type=float,
        default=8.0,
        metavar="HOURS",
        help="with --kafka: hours of the ward's past published at once (default 8)",
    )
    config = sub.add_parser("config", help="print every clinical setting with its source")
    config.add_argument("--config", help="clinical configuration JSON")
    dashboard = sub.add_parser("dashboard", help="serve the live ward dashboard (a web page) from Kafka")
    dashboard.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (env CRSMON_BROKER)")
    dashboard.add_argument("--host", help="address to listen on (env CRSMON_DASHBOARD_HOST; default 127.0.0.1)")
    dashboard.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (env CRSMON_DASHBOARD_PORT; default 8080)"
    )
    dashboard.add_argument(
        "--token", help="access token (env CRSMON_DASHBOARD_TOKEN; default: a new one, printed in the URL)"
    )
    dispatch = sub.add_parser("dispatch", help="send pages for alerts: routing, escalation, signed webhooks")
    dispatch.add_argument("--config", required=True, help="dispatch configuration YAML (see docs/dispatch.md)")
    dispatch.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (overrides kafka.bootstrap)")
    dispatch.add_argument("--state", help="ledger file (overrides state_path)")
    dispatch.add_argument("--port", type=int, help="ack endpoint and /metrics port (overrides http.port)")
    ingest = sub.add_parser("ingest", help="receive HL7 v2 (MLLP) and FHIR R4 (HTTP) vital signs from hospital feeds")
    ingest.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (env CRSMON_BROKER)")
    ingest.add_argument("--host", help="address to listen on (env CRSMON_INGEST_HOST; default 127.0.0.1)")
    ingest.add_argument(
        "--mllp-port", type=int, help="HL7 v2 MLLP port, 0 for any free one (env CRSMON_INGEST_MLLP_PORT; default 2575)"
    )
    ingest.add_argument(
        "--http-port",
        type=int,
        help="FHIR and /metrics port, 0 for any free one (env CRSMON_INGEST_HTTP_PORT; default 8090)",
    )
    ingest.add_argument(
        "--timezone", help="IANA zone of HL7 times sent without a UTC offset (env CRSMON_INGEST_TIMEZONE; default UTC)"
    )
    sink = sub.add_parser("webhook-sink", help="print every webhook received (the demo's pager)")
    sink.add_argument("--port", type=int, default=9099, help="port to listen on (default 9099)")
    sink.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sink.add_argument(
        "--secret", action="append", default=[], help="whsec_ secret to verify signatures with (repeatable)"
    )
    demo = sub.add_parser(
        "demo", help="run everything on this machine: Kafka, worker, dispatcher, dashboard and a simulated ward"
    )
    demo.add_argument("--patients", type=int, default=100, help="simulated patients (default 100)")
    demo.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per wall second (default 60: an hour a minute)"
    )
    demo.add_argument("--days", type=float, default=2.0, help="length of the simulated window in days (default 2)")
    demo.add_argument(
        "--history",
        type=float,
        default=8.0,
        metavar="HOURS",
        help="hours of the ward's past published at once (default 8)",
    )
    demo.add_argument(
        "--crs-share", type=float, default=0.15, help="share of patients with a CRS course (default 0.15)"
    )
    demo.add_argument(
        "--artifacts",
        type=float,
        default=0.5,
        metavar="FACTOR",
        help="scale the simulator's artifact rates (default 0.5; 1 is its realistic mix)",
    )
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same ward (default 1)")
    demo.add_argument(
        "--dashboard-port", type=int, default=8080, help="dashboard port; another free one if taken (default 8080)"
    )
    demo.add_argument(
        "--run-for", type=float, metavar="SECONDS", help="stop by itself this long after everything is up"
    )
    demo.add_argument(
        "--dir", default="var/demo", help="logs and data of this run, emptied at start (default var/demo)"
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
