"""What 14 days of labs add to a patient's state: memory, snapshot bytes, snapshot and restore time.

    .venv/bin/python -m bench.labs_state                 # 2,000 patients
    .venv/bin/python -m bench.labs_state --patients 500  # quicker

Issue 20 asks for ≤ 40 KB of memory per patient with 14 days of labs beside 1 Hz vitals, and a
takeover of 10,000 patients in ≤ 10 s. Kafka and the worker are measured by bench/worker.py and
bench/takeover.py; what labs change in them is the engine's part, measured here in one process
so that the difference is not lost in a shared machine's noise: two wards of the same patients
side by side, one with vitals only and one with the same vitals and a lab panel every 6 h for
the 14 days before (eight tests: creatinine, bilirubin, ALT, AST, platelets, white cells, CRP,
ferritin — a haematology ward's morning panel, four times a day for the sickest), then:

- memory per patient (tracemalloc, Python's own allocations: the engine's dictionaries, arrays
  and the window), with and without labs;
- the snapshot's size (what the worker writes to its changelog for a patient) and the time to
  write it;
- the time to restore one patient from its snapshot, and that times 10,000: the engine's share
  of a takeover (the rest is reading the changelog, which bench/takeover.py measures), with
  the garbage collector off as the worker restores (streams/long_lived.py, `restoring`), and
  with it on, as before.

Prints a table; asserts nothing (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import numpy as np

from bench.load import LAB_PANEL
from monitor.engine import Engine
from monitor.wire import LabEvent, TherapyEvent, VitalSigns
from streams.long_lived import LongLivedObjects

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
PANEL = LAB_PANEL  # the worker benchmark's morning panel (bench/load.py)


def ward(patients: int, labs: bool, vitals_minutes: int, lab_days: float, seed: int = 7) -> Engine:
    """An engine holding `patients` patients: a therapy, the panels (if `labs`), then 1 Hz vitals."""
    rng = np.random.default_rng(seed)
    engine = Engine(statuses=False)
    vitals_start = START + timedelta(days=lab_days)
    for p in range(patients):
        pid = f"LAB-{p:06d}"
        engine.observe(TherapyEvent(patient_id=pid, ts=START, type="therapy", therapy="car-t"))
        if labs:
            for panel in range(int(lab_days * 4)):
                at = START + timedelta(hours=6 * panel, minutes=10)
                for test, (typical, unit) in PANEL.items():
                    value = round(typical * float(rng.uniform(0.8, 1.25)), 2)
                    engine.observe(LabEvent(patient_id=pid, ts=at, type="lab", test=test, value=value, unit=unit))
        for second in range(vitals_minutes * 60):
            engine.observe(
                VitalSigns(
                    patient_id=pid,
                    ts=vitals_start + timedelta(seconds=second),
                    heart_rate=80 + second % 7,
                    systolic_bp=120,
                    diastolic_bp=70,
                    mean_arterial_pressure=87,
                    temperature=37.0,
                    spo2=97,
                    respiratory_rate=16,
                )
            )
    return engine


def measure(patients: int, labs: bool, vitals_minutes: int, lab_days: float) -> dict[str, float]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = ward(patients, labs, vitals_minutes, lab_days)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    ids = list(engine.patients())
    began = time.perf_counter()
    snapshots = [data for pid in ids if (data := engine.snapshot(pid)) is not None]
    write_s = time.perf_counter() - began
    restore_s = {}
    for collector in ("on", "off"):
        fresh = Engine(statuses=False)
        gc.collect()
        with LongLivedObjects().restoring() if collector == "off" else contextlib.nullcontext():
            began = time.perf_counter()
            for pid, data in zip(ids, snapshots):
                fresh.restore(pid, data)
            restore_s[collector] = time.perf_counter() - began
        del fresh
    return {
        "memory_kb": held / patients / 1024,
        "snapshot_b": sum(map(len, snapshots)) / patients,
        "write_us": write_s / patients * 1e6,
        "restore_us": restore_s["off"] / patients * 1e6,
        "restore_gc_us": restore_s["on"] / patients * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--vitals-minutes", type=int, default=10, help="1 Hz vitals per patient, in minutes")
    parser.add_argument("--lab-days", type=float, default=14.0, help="days of panels every 6 h before the vitals")
    args = parser.parse_args(argv)
    rows = {
        "vitals only": measure(args.patients, False, args.vitals_minutes, args.lab_days),
        f"vitals + {args.lab_days:g} days of labs": measure(args.patients, True, args.vitals_minutes, args.lab_days),
    }
    print(
        f"{args.patients:,} patients, {args.vitals_minutes} min of 1 Hz vitals each; labs: a panel of "
        f"{len(PANEL)} tests every 6 h ({int(args.lab_days * 4 * len(PANEL))} results a patient)"
    )
    print(
        f"{'':34} {'memory/patient':>15} {'snapshot':>10} {'write':>9} {'restore':>9} {'restore 10,000':>15}"
        f" {'collector on':>13}"
    )
    for name, row in rows.items():
        print(
            f"{name:34} {row['memory_kb']:12.1f} KB {row['snapshot_b']:8.0f} B {row['write_us']:6.0f} µs "
            f"{row['restore_us']:6.0f} µs {row['restore_us'] * 10_000 / 1e6:13.2f} s"
            f" {row['restore_gc_us'] * 10_000 / 1e6:11.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
