"""How fast the simulator makes a ward, against the floor of building the same messages.

Run:  .venv/bin/python -m bench.simulator [--patients 200] [--days 3] [--numerics-interval 60]

Prints messages per second for `Simulation.events()` (plan, physiology, artifacts, heap merge,
models) and for writing JSON Lines, and, as the baseline in the same run, for constructing the
same number of VitalSigns models from ready values: the ratio says what the simulation itself
costs on top of the contract models it must produce anyway, whatever the machine's load.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import timedelta

from monitor.wire import VitalSigns
from simulator import Simulation, SimulationSettings
from simulator.files import write_events


def models_only(count: int, settings: SimulationSettings) -> float:
    start = settings.start
    began = time.perf_counter()
    for i in range(count):
        VitalSigns(
            patient_id="MRN-100000",
            ts=start + timedelta(seconds=60 * i),
            ward="5-West",
            bed="1",
            source="gw-5-West",
            heart_rate=80.0,
            spo2=97.0,
            respiratory_rate=16.0,
        )
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--numerics-interval", type=int, default=60)
    args = parser.parse_args(argv)
    settings = SimulationSettings(
        patients=args.patients, days=args.days, seed=1, numerics_interval_s=args.numerics_interval
    )
    began = time.perf_counter()
    simulation = Simulation(settings)
    planned = time.perf_counter() - began
    began = time.perf_counter()
    truths = simulation.truths
    truth_s = time.perf_counter() - began
    began = time.perf_counter()
    count = sum(1 for _ in simulation.events())
    events_s = time.perf_counter() - began
    began = time.perf_counter()
    write_events(Simulation(settings), io.BytesIO())
    write_s = time.perf_counter() - began
    floor_s = models_only(count, settings)
    print(
        f"ward: {settings.patients} patients x {settings.days:g} days, numerics every "
        f"{settings.numerics_interval_s} s: {count} messages, {len(truths)} truths"
    )
    print(f"plan {planned:.2f} s; ground truth {truth_s:.2f} s")
    print(f"events():          {events_s:6.2f} s = {count / events_s:9,.0f} messages/s")
    print(f"JSON Lines:        {write_s:6.2f} s = {count / write_s:9,.0f} messages/s")
    print(
        f"baseline, models:  {floor_s:6.2f} s = {count / floor_s:9,.0f} messages/s "
        f"(events() costs {events_s / floor_s:.2f}x building the models alone)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
