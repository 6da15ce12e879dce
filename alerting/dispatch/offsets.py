"""Which Kafka offsets may be committed: those of messages whose every page has a durable
outcome.

Each consumed message opens a `Hold`; the page orders and notifications made from it acquire
the hold and release it when their outcome is recorded. A partition's committable offset is
that of its oldest message still held (or one past the last consumed when none is), so a
crash re-reads exactly the messages whose pages might not have gone out.
"""

from __future__ import annotations

from typing import Any


class Hold:
    __slots__ = ("_tracker", "partition", "offset", "_count")

    def __init__(self, tracker: "OffsetTracker", partition: Any, offset: int) -> None:
        self._tracker = tracker
        self.partition = partition
        self.offset = offset
        self._count = 1

    def acquire(self) -> None:
        self._count += 1

    def release(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._tracker._done(self)  # noqa: SLF001


class OffsetTracker:
    def __init__(self) -> None:
        self._held: dict[Any, dict[int, Hold]] = {}
        self._next: dict[Any, int] = {}
        self._committed: dict[Any, int] = {}

    def open(self, partition: Any, offset: int) -> Hold:
        """A hold on a newly consumed message; release it once handed on."""
        hold = Hold(self, partition, offset)
        self._held.setdefault(partition, {})[offset] = hold
        self._next[partition] = offset + 1
        return hold

    def _done(self, hold: Hold) -> None:
        held = self._held.get(hold.partition)
        if held is not None:
            held.pop(hold.offset, None)

    def held(self) -> int:
        """Messages not yet fully handled, over all partitions."""
        return sum(len(held) for held in self._held.values())

    def committable(self) -> dict[Any, int]:
        """Partitions whose commit point moved, with the offset to commit."""
        moves = {}
        for partition, next_offset in self._next.items():
            held = self._held.get(partition)
            offset = next(iter(held)) if held else next_offset
            if self._committed.get(partition) != offset:
                moves[partition] = offset
        return moves

    def committed(self, offsets: dict[Any, int]) -> None:
        self._committed.update(offsets)

    def forget(self, partitions: Any) -> None:
        """Partitions taken away by a rebalance: their holds no longer count."""
        for partition in partitions:
            self._held.pop(partition, None)
            self._next.pop(partition, None)
            self._committed.pop(partition, None)
