"""Real records: how fast crsmon replays hourly ICU charting, and how long `crsmon validate`
takes on a folder of stays.

Run:  .venv/bin/python -m bench.real_records FOLDER [--rounds 3]
      (FOLDER: PhysioNet-format .psv stays, e.g. the development set in ../shared/data/)

- decode: `decode_input` on the stays' rows as JSON Lines (what every message pays);
- engine: `Engine.observe` on decoded events, one stay after another, each closed at its end
  (no statuses built, as validate and replay without --status run it);
- replay: `crsmon replay` of the stays as one time-sorted JSON Lines file, and as one grouped by
  stay, end to end (a subprocess: reading, the plan pass, decoding, the engine, writing alerts),
  with `--jobs 1` and with `--jobs N` (N: `--jobs`, by default one process per core);
- validate: `crsmon validate FOLDER` end to end, report included, with its default sweep and
  without one.

Other work on the machine skews timings: engine and decode are the best of `--rounds`
interleaved rounds in process CPU time, and the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson

from monitor.engine import Engine
from monitor.replay_jobs import default_jobs
from monitor.wire import decode_input, encode
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="processes for the parallel replay rows (default: one per core)",
    )
    args = parser.parse_args()
    files = stay_files(args.folder)
    stays = [stay for path in files if (stay := read_stay(path, ColumnMap(), Problems()))]
    lines = [encode(event, drop_none=True) for stay in stays for event in stay.events]
    sets = len(lines)
    print(
        f"crsmon on real records: {len(stays):,} stays, {sets:,} observation sets "
        f"({args.folder}); load average at the start "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )

    def engine_round() -> None:
        engine = Engine(statuses=False)
        for stay in stays:
            for event in stay.events:
                engine.observe(event)
            engine.close(stay.patient_id, stay.start + timedelta(hours=stay.hours))

    decode_s = min(_cpu(lambda: [decode_input(line) for line in lines]) for _ in range(args.rounds))
    engine_s = min(_cpu(engine_round) for _ in range(args.rounds))
    rows = [
        (
            "decode (orjson + fast path or pydantic)",
            f"{sets / decode_s:,.0f} sets/s, {1e6 * decode_s / sets:.1f} µs/set",
        ),
        ("engine, one core", f"{sets / engine_s:,.0f} sets/s, {1e6 * engine_s / sets:.1f} µs/set"),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        sorted_file = Path(scratch) / "sorted.jsonl"
        by_time = sorted(lines, key=lambda line: orjson.loads(line)["ts"])
        sorted_file.write_bytes(b"\n".join(by_time) + b"\n")
        grouped_file = Path(scratch) / "grouped.jsonl"
        grouped_file.write_bytes(b"\n".join(lines) + b"\n")
        crsmon = [sys.executable, "-m", "crsmon.cli"]
        for label, path in (("time-sorted file", sorted_file), ("grouped by stay", grouped_file)):
            for jobs in sorted({1, args.jobs}):  # side by side, in the same minute of load
                replay_s, replay_cpu = _wall(crsmon + ["replay", str(path), "--jobs", str(jobs)])
                rows.append(
                    (
                        f"crsmon replay --jobs {jobs}, {label}",
                        f"{sets / replay_s:,.0f} sets/s wall ({replay_s:.1f} s), "
                        f"{sets / replay_cpu:,.0f} sets/s of CPU",
                    )
                )
        for label, extra in (("crsmon validate, default sweep", []), ("crsmon validate --sweep ''", ["--sweep", ""])):
            seconds, cpu = _wall(crsmon + ["validate", str(args.folder), "--out", str(Path(scratch) / "v"), *extra])
            rows.append((label, f"{seconds:.1f} s wall, {cpu:.1f} s CPU ({os.cpu_count()} processes)"))
    for label, value in rows:
        print(f"{label:<42} {value}")
    print(f"{'load average at the end':<42} {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


def _cpu(work) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _wall(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, children included) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    main()
