"""Test-only poison for a worker process: it blocks the event loop inside the worker's timer.

tests/test_worker_loop_watchdog.py puts this directory on PYTHONPATH of a `crsmon worker`
subprocess and names a file in CRSMON_TEST_POISON_FILE. Python imports `sitecustomize` at
start-up, so nothing in crsmon knows of it and production cannot reach it. Each tick of the
worker's `advance` timer reads and removes that file, if any: "forever" spins forever, a number
spins that many seconds (a pure-Python busy loop, like an engine bug looping in a callback).
"""

import os
import time

_FILE = os.environ.get("CRSMON_TEST_POISON_FILE")

if _FILE:
    from streams import app

    _advance = app.Worker._advance  # noqa: SLF001

    async def _poisoned_advance(self) -> None:
        try:
            with open(_FILE) as planted:
                command = planted.read().strip()
            os.unlink(_FILE)
        except FileNotFoundError:
            command = ""
        if command == "forever":
            while True:
                pass
        if command:
            until = time.monotonic() + float(command)
            while time.monotonic() < until:
                pass
        await _advance(self)

    app.Worker._advance = _poisoned_advance  # noqa: SLF001
