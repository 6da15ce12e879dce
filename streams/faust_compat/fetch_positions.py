"""What aiokafka's fetcher knows about the worker's partitions, for the lost-records watchdog
(streams/lost_records.py): positions, prefetched records, and what Faust's agents still buffer.

Everything here is private to aiokafka or Faust (streams/faust_compat/internals.py): when a name
is gone, `FetchView.of` raises `CannotInspect` instead of answering wrongly, and the watchdog
says so (an ERROR and a metric) instead of going quiet.
"""

from __future__ import annotations

from typing import Any

from aiokafka.structs import TopicPartition
from faust.types import TP


class CannotInspect(RuntimeError):
    """aiokafka's or Faust's internals are not where this module expects them."""


class FetchView:
    """aiokafka's fetch state at one moment."""

    def __init__(self, fetcher: Any, assignment: Any) -> None:
        self._fetcher = fetcher
        self._assignment = assignment

    @classmethod
    def of(cls, app: Any) -> FetchView | None:
        """The fetch state of the app's consumer; None while there is no active assignment."""
        try:
            fetcher = app.consumer._thread._ensure_consumer()._fetcher  # noqa: SLF001
            assignment = fetcher._subscriptions.subscription.assignment  # noqa: SLF001
            fetcher._records  # noqa: SLF001 - only checked here, read in holds_records
        except Exception as error:
            raise CannotInspect(f"{type(error).__name__}: {error}") from error
        if assignment is None or not assignment.active:
            return None
        return cls(fetcher, assignment)

    def position(self, tp: TP) -> int | None:
        """The next offset aiokafka will fetch for `tp`; None without a valid position."""
        state = self._assignment.state_value(TopicPartition(tp.topic, tp.partition))
        if state is None or not state.has_valid_position:
            return None
        return state.position

    def holds_records(self, tp: TP) -> bool:
        """Whether aiokafka has prefetched records of `tp` that it has not handed out."""
        return TopicPartition(tp.topic, tp.partition) in self._fetcher._records  # noqa: SLF001


def buffered_in_agents(app: Any) -> int:
    """Records Faust's agents hold in their channels, not yet taken."""
    return sum(agent.channel.queue.qsize() for agent in app.agents.values() if hasattr(agent.channel, "queue"))


def committed_offset(consumer: Any, tp: TP) -> int | None:
    """The offset a restart would resume `tp` from (Faust's own record of its commits)."""
    return consumer._committed_offset.get(tp)  # noqa: SLF001


def read_offset(consumer: Any, tp: TP) -> int | None:
    """The last offset of `tp` the worker has taken (Faust's record of what it read)."""
    return consumer._read_offset.get(tp)  # noqa: SLF001
