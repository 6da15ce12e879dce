"""A logging filter that keeps the Kafka client's retries from flooding the log.

Why: while the broker is unreachable aiokafka logs every failed connection, metadata refresh,
fetch and coordinator lookup, about 100 lines a second ("Unable connect to node with id 1",
"Unable to update metadata from [1]", "Failed fetch messages from 1", "Group Coordinator
Request failed"; issue 19 counted 3,170 lines in 26 s). That buries everything else and fills
disks, and says nothing the first line did not. So lines of the Kafka client's loggers pass
once per `window_s` per kind (logger, level and message template); the others are counted,
and the next line of that kind that passes says how many were held back. Once the worker
has declared the broker unreachable (`outage()`, streams/broker_contact.py) they are all held
back: the worker's outage report writes, every few seconds, how long the broker has been away
and how many such problems came since, which is all they would say. Measured with the broker
stopped for 25 s: 2,455 lines before, 30 after (the first of each kind, one per kind per 5 s
until /readyz flips at 10 s, then one report per 5 s).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

#: The loggers of the Kafka clients under Faust (aiokafka) and Faust's own transport.
KAFKA_CLIENT_LOGGERS = ("aiokafka", "kafka", "faust.transport")


class KafkaClientFlood(logging.Filter):
    """Lets one line per kind through every `window_s`; counts the rest."""

    def __init__(
        self,
        window_s: float = 5.0,
        outage: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self.outage = outage
        self._clock = clock
        self._windows: dict[tuple[str, int, str], tuple[float, int]] = {}  # kind -> (opened, held back)
        self.problems = 0  # lines at WARNING or above from the Kafka client, passed or held back
        self.held_back = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(KAFKA_CLIENT_LOGGERS):
            return True
        if record.levelno >= logging.WARNING:
            self.problems += 1
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        window = self._windows.get(kind)
        if window is None and self.outage():
            window = (now, 0)
        if window is not None and (now - window[0] < self.window_s or self.outage()):
            self._windows[kind] = (window[0], window[1] + 1)
            self.held_back += 1
            return False
        self._windows[kind] = (now, 0)
        if window is not None and window[1]:
            # Formatted first, so that a '%' in what is added cannot break the formatting.
            record.msg = (
                f"{record.getMessage()} [{window[1]} more like this in the last {now - window[0]:.0f} s held back]"
            )
            record.args = ()
        return True

    def install(self, logger: logging.Logger) -> None:
        """On every handler of `logger` (the root): a filter on a logger would miss its children."""
        for handler in logger.handlers:
            if self not in handler.filters:
                handler.addFilter(self)
