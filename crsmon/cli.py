"""`crsmon`: the command line, and the one composition root of monitor/, streams/ and alerting/.

Each subcommand imports its room lazily so that `crsmon replay` starts without loading Faust.
"""

from __future__ import annotations

import argparse
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

    from streams.app import run_worker
    from streams.settings import WorkerSettings

    if args.broker:
        os.environ["CRSMON_BROKER"] = args.broker
    if args.config:
        os.environ["CRSMON_CLINICAL_CONFIG"] = args.config
    sys.argv = [sys.argv[0], "worker"]  # Faust's worker reads argv; give it only what it knows
    run_worker(WorkerSettings())
    return 0


@command("replay")
def _replay(args: argparse.Namespace) -> int:
    from monitor.config import load_config
    from monitor.engine import Engine
    from monitor.replay import replay

    try:
        source = sys.stdin.buffer if args.file in (None, "-") else open(args.file, "rb")
    except OSError as error:
        print(f"crsmon replay: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    with source:
        replay(source, Engine(load_config(args.config)), sys.stdout.buffer, sys.stderr,
               with_status=args.status)
    sys.stdout.flush()
    return 0


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

    overrides = {name: value for name in ("broker", "host", "port", "token")
                 if (value := getattr(args, name)) is not None}
    run_dashboard(dataclasses.replace(DashboardSettings(), **overrides))
    return 0


@command("dispatch")
def _dispatch(args: argparse.Namespace) -> int:
    from alerting.dispatch.command import dispatch_command

    return dispatch_command(args.config, broker=args.broker, state=args.state, port=args.port)


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
    replay.add_argument("file", nargs="?", help="JSON Lines of VitalSigns and ClinicalEvents; - or none for stdin")
    replay.add_argument("--status", action="store_true", help="print every PatientStatus too")
    replay.add_argument("--config", help="clinical configuration JSON")
    config = sub.add_parser("config", help="print every clinical setting with its source")
    config.add_argument("--config", help="clinical configuration JSON")
    dashboard = sub.add_parser("dashboard", help="serve the live ward dashboard (a web page) from Kafka")
    dashboard.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (env CRSMON_BROKER)")
    dashboard.add_argument("--host", help="address to listen on (env CRSMON_DASHBOARD_HOST; default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, help="port to listen on, 0 for any free one (env CRSMON_DASHBOARD_PORT; default 8080)")
    dashboard.add_argument("--token", help="access token (env CRSMON_DASHBOARD_TOKEN; default: a new one, printed in the URL)")
    dispatch = sub.add_parser("dispatch", help="send pages for alerts: routing, escalation, signed webhooks")
    dispatch.add_argument("--config", required=True, help="dispatch configuration YAML (see docs/dispatch.md)")
    dispatch.add_argument("--broker", help="bootstrap servers, host:port[,host:port] (overrides kafka.bootstrap)")
    dispatch.add_argument("--state", help="ledger file (overrides state_path)")
    dispatch.add_argument("--port", type=int, help="ack endpoint and /metrics port (overrides http.port)")
    sink = sub.add_parser("webhook-sink", help="print every webhook received (the demo's pager)")
    sink.add_argument("--port", type=int, default=9099, help="port to listen on (default 9099)")
    sink.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sink.add_argument("--secret", action="append", default=[], help="whsec_ secret to verify signatures with (repeatable)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
