"""What the worker reads of an input record, whoever hands it over (aiokafka's ConsumerRecord
through the batch lane, or Faust's Message through an agent): a plain protocol, so that the
step per record (streams/record_step.py) needs no Faust."""

from __future__ import annotations

from typing import Protocol


class InputRecord(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def timestamp(self) -> float:
        """Milliseconds (aiokafka's int) or seconds (Faust's float); only the batch lane's
        merge reads it, and its records are all aiokafka's."""
