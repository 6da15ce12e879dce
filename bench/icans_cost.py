"""What the ICANS rules (`icans`, `neuro_overdue`) cost the engine: CPU time of a simulated ward
replayed with `icans_rule` on and off, with and without neurological assessments.

Run:  .venv/bin/python -m bench.icans_cost [--patients 20] [--hours 48] [--every-h 8] [--rounds 5]

Why: the two rules level every patient at every step, so they must cost nothing measurable for
the patients nobody assesses, and little for those who are. The ward is the engine benchmark's
(bench/engine_throughput.py: numerics every 60 s); "with assessments" adds an ICE for every
patient every `--every-h` hours, ICE 10, 10, 8, 5, 9, 10 in turn. Best of `--rounds` interleaved
rounds, in process CPU time.
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import timedelta

from bench.engine_throughput import replay, simulated
from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.wire import validate_input

_ICE = (10, 10, 8, 5, 9, 10)


def with_assessments(events: list, every_h: float, hours: float) -> list:
    """The events, and an assessment for each patient every `every_h` hours, in time order."""
    start = min(event.ts for event in events)
    assessments = [
        validate_input(
            {
                "patient_id": patient,
                "ts": (start + timedelta(hours=every_h * k, minutes=7)).isoformat(),
                "type": "neuro",
                "ice": _ICE[k % len(_ICE)],
                "arousal": "alert",
            }
        )
        for patient in sorted({event.patient_id for event in events})
        for k in range(int(hours // every_h))
    ]
    return sorted(events + assessments, key=lambda event: event.ts)


def best_cpu(events: list, on: bool, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        started = time.process_time()
        replay(Engine(EngineConfig(icans_rule=on)), events)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--hours", type=float, default=48.0)
    parser.add_argument("--every-h", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    plain, _ = simulated(args.patients, args.hours, 60)
    for label, events in (
        ("without assessments", plain),
        ("with assessments", with_assessments(plain, args.every_h, args.hours)),
    ):
        off, on = best_cpu(events, False, args.rounds), best_cpu(events, True, args.rounds)
        print(
            f"{label}: {len(events)} events, icans_rule off {off:.3f} s, on {on:.3f} s CPU "
            f"({(on / off - 1) * 100:+.1f} %, {(on - off) / len(events) * 1e6:+.1f} µs an event)"
        )


if __name__ == "__main__":
    main()
