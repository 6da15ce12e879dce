"""Engine throughput and memory: how many observation sets a second one core replays, and how
many bytes one patient's state costs.

Run:  .venv/bin/python -m bench.engine_throughput [--patients 20] [--hours 48] [--rounds 5]

Inputs are simulated wards (simulator/) at two gateway cadences: numerics every second
(the densest a gateway exports) and every 60 s (the simulator's default). Each is encoded to
the JSON a producer sends, then replayed three ways:

- decode: `decode_input` alone (orjson + the pydantic models), the baseline every message pays;
- engine: `Engine.observe` on already decoded events, `advance_to` every simulated minute as the
  worker's timer does;
- decode + engine: what `crsmon replay` and the worker's per-message path cost.

Other work on the machine skews timings, so each measurement is the best of several interleaved
rounds, in process CPU time (one core's work, whatever else runs) and in wall time, and the
engine is also given as a multiple of the decode baseline measured in the same round.

Memory: patients fed a full day at 1 Hz (every numeric each second, NIBP every 15 minutes,
temperature hourly); bytes per patient as traced by tracemalloc (everything the engine holds)
and as the size of the snapshot the worker persists. Target ≤ 64 KB.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from monitor.engine import Engine
from monitor.wire import VitalSigns, decode_input, encode
from simulator import Simulation, SimulationSettings

MINUTE = timedelta(minutes=1)


def simulated(patients: int, hours: float, cadence_s: int) -> tuple[list, list[bytes]]:
    settings = SimulationSettings(patients=patients, days=hours / 24, seed=3, numerics_interval_s=cadence_s)
    events = list(Simulation(settings).events())
    return events, [encode(event, drop_none=True) for event in events]


def replay(engine: Engine, events: list) -> None:
    """Events in order, with a timer tick at each minute boundary, as the worker runs."""
    tick = events[0].ts + MINUTE
    observe, advance = engine.observe, engine.advance_to
    for event in events:
        if event.ts >= tick:
            advance(event.ts)
            tick = event.ts + MINUTE
        observe(event)


def decode_all(lines: list[bytes]) -> list:
    return [decode_input(line) for line in lines]


def timed(work: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def throughput(label: str, events: list, lines: list[bytes], rounds: int) -> None:
    best: dict[str, tuple[float, float]] = {}
    ratios = []
    for _ in range(rounds):
        decode = timed(lambda: decode_all(lines))
        engine = timed(lambda: replay(Engine(), events))
        both = timed(lambda: replay(Engine(), decode_all(lines)))
        ratios.append(engine[1] / decode[1])
        for name, (wall, cpu) in (("decode", decode), ("engine", engine), ("decode+engine", both)):
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    count = len(events)
    print(
        f"{label}: {count:,} messages ({sum(isinstance(e, VitalSigns) for e in events):,} observation sets), best of",
        rounds,
        "rounds",
    )
    for name, (wall, cpu) in best.items():
        print(
            f"  {name:14s} {count / cpu:>10,.0f} /s CPU ({cpu / count * 1e6:6.1f} µs each)"
            f"   {count / wall:>10,.0f} /s wall"
        )
    ratios.sort()
    print(f"  engine cost = {ratios[len(ratios) // 2]:.2f} × decode (median of rounds)")


def memory(patients: int) -> None:
    """A day at 1 Hz for each patient, then the bytes the engine holds for them."""
    start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = Engine()
    for second in range(86_400):
        at = start + timedelta(seconds=second)
        for patient in range(patients):
            fields = {
                "heart_rate": 70.0 + (second + patient) % 9,
                "spo2": 96.0 + second % 3,
                "respiratory_rate": 14.0 + second % 4,
            }
            if second % 900 == 0:
                fields.update(systolic_bp=118.0 + second % 7, diastolic_bp=70.0, mean_arterial_pressure=86.0)
            if second % 3600 == 0:
                fields["temperature"] = 36.8
            measurements: dict[str, Any] = {
                name: fields.get(name)
                for name in (
                    "heart_rate",
                    "systolic_bp",
                    "diastolic_bp",
                    "mean_arterial_pressure",
                    "temperature",
                    "spo2",
                    "respiratory_rate",
                )
            }
            engine.observe(
                VitalSigns.model_construct(
                    patient_id=f"MRN-{patient:05d}",
                    ts=at,
                    ward="5-West",
                    bed=str(patient),
                    source=None,
                    on_oxygen=None,
                    consciousness=None,
                    **measurements,
                )
            )
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    snapshots = [len(engine.snapshot(p) or b"") for p in engine.patients()]
    print(
        f"memory after 24 h at 1 Hz, {patients} patients: {held / patients:,.0f} bytes per "
        f"patient in memory (tracemalloc), snapshot {max(snapshots):,} bytes "
        f"(target <= 65,536)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20, help="ward size at 60 s numerics")
    parser.add_argument("--hours", type=float, default=48.0, help="hours simulated at 60 s")
    parser.add_argument("--dense-patients", type=int, default=2, help="ward size at 1 s numerics")
    parser.add_argument("--dense-hours", type=float, default=3.0, help="hours simulated at 1 s")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-patients", type=int, default=3)
    args = parser.parse_args()
    for cadence, patients, hours in ((1, args.dense_patients, args.dense_hours), (60, args.patients, args.hours)):
        events, lines = simulated(patients, hours, cadence)
        gc.freeze()  # the inputs are not the engine's garbage to collect
        throughput(f"ward of {patients}, numerics every {cadence} s, {hours:g} h", events, lines, args.rounds)
        del events, lines
        gc.unfreeze()
    memory(args.memory_patients)


if __name__ == "__main__":
    main()
