"""Event time that keeps moving between events, for rules about silence.

The engine lives in event time, but "this patient's monitor has said nothing for two minutes"
must fire when nothing arrives. The worker's timer asks this clock for the present in event
time: the newest event time seen on a partition plus the wall time since it was seen. Each
partition has its own clock and the present is the slowest of them, so that one partition
catching up on a backlog faster than another does not make the lagging one's patients look
silent; the price is that a lagging partition delays signal-loss alerts on all of them, as long
as this worker owns it (`keep_only` after each rebalance).
"""

import time
from datetime import datetime, timedelta
from typing import Callable


class EventClock:
    def __init__(self, wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._latest: dict[int, tuple[datetime, float]] = {}

    def saw(self, partition: int, ts: datetime) -> None:
        """Record that an event with time `ts` was processed from `partition`."""
        latest = self._latest.get(partition)
        if latest is None or ts > latest[0]:
            self._latest[partition] = (ts, self._wall())

    def now(self) -> datetime | None:
        """The present in event time (the slowest partition's), or None before any event."""
        wall = self._wall()
        moments = [ts + timedelta(seconds=wall - seen_at) for ts, seen_at in self._latest.values()]
        return min(moments) if moments else None

    def keep_only(self, partitions: set[int]) -> None:
        """After a rebalance: the partitions this worker no longer owns leave the minimum
        (a revoked partition that was lagging would otherwise hold back every other one)."""
        for partition in [p for p in self._latest if p not in partitions]:
            del self._latest[partition]
