"""The engine's memory of discharges, so that readings older than a discharge do not admit the
patient again.

Why: Kafka orders a patient's events within a topic, not across `vitals` and
`clinical-events`. A worker catching up on a backlog, or `crsmon replay` over a file merged from
both, may read a discharge before readings taken earlier. Fed to the engine those would admit
the patient again, who would then fall silent and page for signal loss after leaving. Input
newer than the discharge is a new admission and ends the memory.

The memory is part of the patient's state: `Engine.snapshot` of a discharged patient is this
small record instead of nothing, so it survives a restart or a rebalance like any other state
(before, it lived in the worker's pipeline and was lost with it). It ends after `KEEP_S` of
event time, or at `MAX_PATIENTS` (the oldest first); either only lets a very late reading admit
the patient again, as it did before this memory existed.
"""

from __future__ import annotations

import struct
from datetime import datetime, timezone

#: First byte of a stored discharge record; a Patient's state starts with its format version
#: (1 or 2), so the two never mix.
MARKER = 0xD1
_RECORD = struct.Struct(">Bd")

#: Event time after a discharge during which older readings are still recognised as such.
KEEP_S = 24 * 3600.0
MAX_PATIENTS = 100_000


class DischargeMemory:
    """Discharge times by patient, kept in event time (insertion order: oldest first)."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def remember(self, patient_id: str, ts: datetime) -> None:
        at = ts.timestamp()
        previous = self._at.pop(patient_id, None)
        self._at[patient_id] = at if previous is None else max(previous, at)
        if len(self._at) > MAX_PATIENTS:
            del self._at[next(iter(self._at))]

    def ignores(self, patient_id: str, ts: datetime) -> bool:
        """True for input about a discharged patient measured at or before the discharge; input
        measured after it is a new admission and ends the memory."""
        at = self._at.get(patient_id)
        if at is None:
            return False
        if ts.timestamp() <= at:
            return True
        del self._at[patient_id]
        return False

    def remembers(self, patient_id: str) -> bool:
        return patient_id in self._at

    def forget(self, patient_id: str) -> None:
        self._at.pop(patient_id, None)

    def expire(self, now: datetime) -> list[str]:
        """End the memories older than `KEEP_S` before `now`; returns whose ended."""
        until = now.timestamp() - KEEP_S
        ended = [patient_id for patient_id, at in self._at.items() if at < until]
        for patient_id in ended:
            del self._at[patient_id]
        return ended

    def snapshot(self, patient_id: str) -> bytes | None:
        at = self._at.get(patient_id)
        return None if at is None else _RECORD.pack(MARKER, at)

    @staticmethod
    def is_record(data: bytes) -> bool:
        return len(data) == _RECORD.size and data[0] == MARKER

    def restore(self, patient_id: str, data: bytes) -> None:
        _marker, at = _RECORD.unpack(data)
        self.remember(patient_id, datetime.fromtimestamp(at, timezone.utc))
