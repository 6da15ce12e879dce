"""Faust's worker process with the loop watchdog (streams/loop_watchdog.py) started on its
loop and chained to its stop signals. Named `Worker` as Faust's is: its log lines read
"[^Worker]: Ready" as before, which operators and bench/services.py wait for."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from streams.loop_watchdog import LoopWatchdog


class Worker(faust.Worker):
    def __init__(self, app: faust.App, watchdog: LoopWatchdog, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.loop_watchdog = watchdog

    async def on_first_start(self) -> None:
        self.loop_watchdog.start(asyncio.get_running_loop())
        await super().on_first_start()

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()  # mode's, run by the loop
        self.loop_watchdog.watch_stop_signals()  # a flag the watchdog thread acts on
