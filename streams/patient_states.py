"""Keeping the engine's in-memory patients and the durable table in step.

The engine holds every owned patient in memory, because a table read per vital sign costs
more than the engine itself. The table is written when it must be durable (an episode opened,
changed or closed, after the alert is on its topic) and otherwise on a cadence, for patients
that changed since. What a crash between two writes can lose is the window samples since the
last checkpoint; they are still in Kafka, and the consumer re-reads everything after its last
committed offset, which Faust commits only after the producer (table writes included) flushed.
"""

from __future__ import annotations

import logging
from typing import Iterable

from monitor.engine import Engine
from streams import metrics
from streams.patient_table import PatientStateTable

log = logging.getLogger(__name__)


class PatientStates:
    """Lazy restore on a patient's first event, eager restore after a rebalance, checkpoints."""

    def __init__(self, engine: Engine, table: PatientStateTable) -> None:
        self.engine = engine
        self.table = table
        self.partition_of = table.partition_of
        self._dirty: set[str] = set()
        self._released: dict[bytes, int] = {}

    def track(self, patient_id: str, partition: int) -> None:
        """Called for every event: restores an unknown patient and marks it changed."""
        key = patient_id.encode()
        if self.partition_of.get(key) != partition:
            self.partition_of[key] = partition
            self._released.pop(key, None)
        if patient_id not in self._loaded():
            stored = self.table.get(key)
            if stored is not None:
                self._restore(patient_id, stored)
        self._dirty.add(patient_id)

    def _loaded(self):
        return self.engine.patients()

    def _restore(self, patient_id: str, stored: bytes) -> None:
        try:
            self.engine.restore(patient_id, stored)
            metrics.STATE_RESTORES.inc()
        except ValueError as error:
            # A state this version cannot read must not stop the ward: start the patient afresh.
            metrics.STATE_RESTORE_FAILURES.inc()
            log.error("could not restore a patient's state (%s); starting it afresh", error)

    def persist(self, patient_ids: Iterable[str], cause: str) -> int:
        """Write the current state of these patients to the table (a changelog message each)."""
        written = 0
        for patient_id in patient_ids:
            snapshot = self.engine.snapshot(patient_id)
            key = patient_id.encode()
            if snapshot is None:
                if key in self.table:
                    del self.table[key]  # discharged: a tombstone, compacted away by Kafka
                    written += 1
            else:
                self.table[key] = snapshot
                written += 1
            self._dirty.discard(patient_id)
        if written:
            metrics.STATE_WRITES.labels(cause).inc(written)
        return written

    def checkpoint(self) -> int:
        """Write every patient that changed since its last write."""
        dirty, self._dirty = self._dirty, set()
        return self.persist(dirty, "cadence")

    def restore_assigned(self, partitions: set[int]) -> int:
        """After recovery: drop patients of partitions we lost, load those of partitions we got."""
        self.release(p for p in set(self.partition_of.values()) if p not in partitions)
        restored = 0
        loaded = set(self._loaded())
        for key, stored in list(self.table.items()):
            patient_id = key.decode()
            if self._released.get(key, -1) not in partitions and key in self._released:
                continue  # the in-memory store keeps keys it wrote itself after a revoke
            if patient_id not in loaded and stored is not None:
                self._restore(patient_id, stored)
                restored += 1
        return restored

    def persist_partitions(self, partitions: Iterable[int]) -> int:
        """Before a rebalance: write the changed patients of these partitions, so that whichever
        worker owns them next starts from their latest state."""
        wanted = set(partitions)
        changed = [key.decode() for key, p in self.partition_of.items() if p in wanted]
        return self.persist([pid for pid in changed if pid in self._dirty], "rebalance")

    def release(self, partitions: Iterable[int]) -> None:
        """Forget the patients of partitions this worker no longer owns."""
        lost = set(partitions)
        if not lost:
            return
        for key in [key for key, p in self.partition_of.items() if p in lost]:
            patient_id = key.decode()
            self.engine.forget(patient_id)
            self._dirty.discard(patient_id)
            self._released[key] = self.partition_of.pop(key)
