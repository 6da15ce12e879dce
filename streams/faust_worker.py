"""Faust's worker process with the loop watchdog (streams/loop_watchdog.py) started on its
loop and chained to its stop signals. Named `Worker` as Faust's is: its log lines read
"[^Worker]: Ready" as before, which operators and bench/services.py wait for."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust

from streams.log_flood import KafkaClientFlood
from streams.loop_watchdog import LoopWatchdog


class Worker(faust.Worker):
    def __init__(
        self, app: faust.App, watchdog: LoopWatchdog, flood: KafkaClientFlood | None = None, **kwargs: Any
    ) -> None:
        self.log_flood = flood  # before super(), which sets the logging up
        super().__init__(app, **kwargs)
        self.loop_watchdog = watchdog

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """The Kafka client's retries during an outage pass a line per kind every few seconds
        (streams/log_flood.py)."""
        super().on_setup_root_logger(logger, level)
        if self.log_flood is not None:
            self.log_flood.install(logger)

    async def on_first_start(self) -> None:
        self.loop_watchdog.start(asyncio.get_running_loop())
        await super().on_first_start()

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()  # mode's, run by the loop
        self.loop_watchdog.watch_stop_signals()  # a flag the watchdog thread acts on
