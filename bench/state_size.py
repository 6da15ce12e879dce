"""What a patient charted hourly costs the engine: its snapshot's bytes on every record (what the
worker writes to the table's changelog), and its memory, with no Kafka and no Faust.

Run:  .venv/bin/python -m bench.state_size FOLDER [--stays N]
      (FOLDER: PhysioNet-format .psv stays, e.g. the development set in ../shared/data/)

- snapshot: `Engine.snapshot` after every observation set of every stay (the worker writes a
  patient charted hourly on nearly every record: each is an hour of event time past the last);
- memory: tracemalloc over the engine replaying the stays with every patient kept (none closed,
  as in a worker), per patient, and the allocations that hold the most of it.

bench/backlog.py measures the same through a real worker (changelog bytes read back from Kafka,
resident memory); this one says where the engine's share goes.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tracemalloc
from pathlib import Path

from monitor.engine import Engine
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--stays", type=int, default=600, help="the first N stays (default 600)")
    parser.add_argument("--top", type=int, default=8, help="allocation sites to list")
    args = parser.parse_args()
    stays = [
        stay for path in stay_files(args.folder)[: args.stays] if (stay := read_stay(path, ColumnMap(), Problems()))
    ]

    engine = Engine()
    sizes = []
    for stay in stays:
        for event in stay.events:
            engine.observe(event)
            sizes.append(len(engine.snapshot(stay.patient_id) or b""))
    print(f"{len(stays):,} stays, {len(sizes):,} observation sets ({args.folder})")
    print(
        f"snapshot after each set: mean {statistics.mean(sizes):,.0f} B, median "
        f"{statistics.median(sizes):,.0f} B, largest {max(sizes):,} B"
    )

    events = [event for stay in stays for event in stay.events]
    del engine
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    start = tracemalloc.get_traced_memory()[0]
    engine = Engine()
    for event in events:
        engine.observe(event)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - start
    patients = len(engine.patients())
    print(f"engine memory: {held / patients / 1024:,.1f} KiB a patient ({patients:,} patients kept)")
    for stat in tracemalloc.take_snapshot().compare_to(before, "lineno")[: args.top]:
        print(f"  {stat.size_diff / patients:8,.0f} B a patient  {stat.traceback}")


if __name__ == "__main__":
    main()
