"""The hour boundary: how long the worker's timer holds the event loop when an hour's
deterioration evaluations fall due for every patient at once.

Run:  .venv/bin/python -m bench.hour_boundary [--patients 10000] [--slice 200]

A ward of P patients sends a set every five minutes (offset by a few seconds each) for an hour
and a few minutes, a tenth of them deteriorating after half an hour (NEWS2 7); after each round
the timer runs to a minute later, as a worker's timer does with live data. Each patient's
hourly evaluation is due at the same H:00 + grace, so the first timer call past it honours
every patient. Printed: the longest single `advance_to` call in one
piece (how the worker ran it before) and taken `--slice` patients a call (`CRSMON_TICK_PATIENTS`,
the worker's way now: the loop runs other work between slices), with the total either way, and
whether both gave the same alerts. A stall watchdog fires at 2 s (CRSMON_LOOP_STALL_S).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta, timezone

from monitor.engine import Engine, Outputs
from monitor.wire import encode
from monitor.wire.vitals import VitalSigns

START = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)


def ward_hour(patients: int, slice_size: int | None) -> tuple[float, float, list[bytes]]:
    """(longest call s, total timer s, every alert in order) for one ward hour with timer calls of at most
    `slice_size` patients (None: one call)."""
    engine = Engine(statuses=True)
    longest = total = 0.0
    alerts: list[bytes] = []
    for minute in range(0, 66, 5):
        moment = START + timedelta(minutes=minute)
        for number in range(patients):
            unwell = number % 10 == 0 and minute >= 30  # a tenth deteriorate in the second half
            observed = engine.observe(
                VitalSigns(
                    patient_id=f"p{number}",
                    ts=moment + timedelta(seconds=number % 60),
                    heart_rate=(118 if unwell else 80) + number % 7,
                    systolic_bp=104 if unwell else 120,
                    diastolic_bp=70,
                    temperature=37.0,
                    spo2=94 if unwell else 97,
                    respiratory_rate=23 if unwell else 16,
                )
            )
            alerts.extend(encode(alert) for alert in observed.alerts)
        now = moment + timedelta(seconds=60)
        while True:
            started = time.perf_counter()
            outputs: Outputs = engine.advance_to(now, slice_size)
            spent = time.perf_counter() - started
            longest, total = max(longest, spent), total + spent
            alerts.extend(encode(alert) for alert in outputs.alerts)
            if not engine.due_by(now):
                break
    return longest, total, alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--slice", type=int, default=200, help="patients a timer call (CRSMON_TICK_PATIENTS)")
    args = parser.parse_args()
    print(
        f"{args.patients:,} patients, a set every 5 min; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    whole = ward_hour(args.patients, None)
    sliced = ward_hour(args.patients, args.slice)
    print(f"{'in one piece':<22} longest timer call {1000 * whole[0]:,.0f} ms, all timer calls {whole[1]:.2f} s")
    print(
        f"{f'{args.slice} patients a call':<22} longest timer call {1000 * sliced[0]:,.0f} ms, "
        f"all timer calls {sliced[1]:.2f} s"
    )
    print(f"same alerts: {whole[2] == sliced[2]} ({len(whole[2])} alerts)")


if __name__ == "__main__":
    main()
