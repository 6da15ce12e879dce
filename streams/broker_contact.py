"""When the worker last heard from the Kafka broker, and whether that is recent enough to call
the broker reachable.

Why: during an outage Faust and aiokafka retry for ever and the worker's own state looks
fine, so /readyz answered 200 "ready" while no record could arrive and no alert could leave
(issue 19). The signal here is a real one: every answer the worker's consumer gets from a
broker (fetch responses, about every `CRSMON_FETCH_MAX_WAIT_MS` when idle; group heartbeats,
every `CRSMON_SESSION_TIMEOUT_S / 5`; metadata), noted by the transport
(streams/faust_compat/kafka_transport.py, which reaches aiokafka's client). A healthy worker
hears from the broker several times a second, so `unreachable_after_s` (10 s by default,
`CRSMON_BROKER_UNREACHABLE_S`) is many missed answers, never one slow one.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable


class BrokerContact:
    """The last answer from a broker, by the monotonic clock (and the wall clock, to report)."""

    def __init__(self, unreachable_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.unreachable_after_s = unreachable_after_s
        self._clock = clock
        # Until a first answer, silence is counted from the start: a worker that never reached
        # its broker is not ready either.
        self._last = clock()
        self._last_wall: float | None = None
        self.answers = 0

    def heard(self) -> None:
        """A broker answered a request."""
        self._last = self._clock()
        self._last_wall = time.time()
        self.answers += 1

    def silent_for(self) -> float:
        """Seconds since the last answer (since start, before any)."""
        return max(0.0, self._clock() - self._last)

    def reachable(self) -> bool:
        return self.silent_for() < self.unreachable_after_s

    def last_contact(self) -> str:
        """When the last answer came, for people: an ISO time, or "never"."""
        if self._last_wall is None:
            return "never since the worker started"
        return datetime.fromtimestamp(self._last_wall, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class OutageLog:
    """What the log says about an outage: one line every time `report` is called while the
    broker is unreachable (the worker calls it every few seconds), with how long and how many
    Kafka client problems since (`problems()`, streams/log_flood.py), and one when it is back."""

    def __init__(
        self,
        contact: BrokerContact,
        broker: str,
        problems: Callable[[], int],
        log: Callable[..., None],
        recovered: Callable[..., None],
    ) -> None:
        self.contact = contact
        self.broker = broker
        self.problems = problems
        self._warn = log
        self._info = recovered
        self._problems_at_start: int | None = None
        self._problems_while_reachable = problems()  # the count before the outage, roughly
        self._longest = 0.0

    def report(self) -> None:
        silent = self.contact.silent_for()
        if not self.contact.reachable():
            if self._problems_at_start is None:
                self._problems_at_start = self._problems_while_reachable
            self._longest = silent
            self._warn(
                "Kafka broker %s unreachable for %.0f s (last answer: %s); %d Kafka client "
                "errors since; /readyz answers 503. Check that the broker runs and that this "
                "host reaches it (CRSMON_BROKER, CRSMON_KAFKA_* TLS/SASL settings)",
                self.broker,
                silent,
                self.contact.last_contact(),
                self.problems() - self._problems_at_start,
            )
        elif self._problems_at_start is not None:
            self._info(
                "Kafka broker %s answers again, after at least %.0f s unreachable; %d Kafka "
                "client errors in the outage",
                self.broker,
                self._longest,
                self.problems() - self._problems_at_start,
            )
            self._problems_at_start = None
        if self.contact.reachable():
            self._problems_while_reachable = self.problems()
