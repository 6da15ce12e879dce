"""Keeping the engine's in-memory patients and the durable table in step.

The engine holds every owned patient in memory, because a table read per vital sign costs
more than the engine itself. A patient's state is written to the table (one changelog
message) while one of its events is being processed — Faust's RocksDB store can only place a
write in a partition from an event — and only:

- at once, when an episode opened, changed or closed, together with the alerts whose delivery
  is not confirmed yet (streams/patient_record.py), so a crash can repeat an alert with the
  same alert_id but never lose one;
- on the patient's next event, when a change came from the timer (a signal-loss episode): a
  crash before then makes the restarted worker derive the same change again, with the same ids;
- otherwise once the patient's event time has moved a checkpoint interval past its last write
  and a checkpoint interval of wall time has passed since that write too (both:
  live, the two run together and a patient is written every interval; on a backlog, event time
  runs far ahead of wall time — hourly charting moves it an hour a record — and event time
  alone wrote a patient after every record, a fifth of the worker's time for nothing that
  durability needs).

A crash loses nothing a restart cannot read again (issue 19). Each stored record carries the
offsets its state has taken (streams/patient_record.py), and this class keeps, per input
partition, the patients whose latest records are not in the table yet, with the first such
offset: `safe_offset`. The worker acknowledges to Faust — so commits — only the offsets below
it (streams/faust_compat/batch_lane.py). A restarted worker therefore reads again every record
a stored state may lack, and skips, patient by patient, those a stored state already has
(`redelivered`): each record takes effect once, and the alerts are those of a run that saw
each record once. A patient that falls silent with records not yet stored would hold the
partition's commits back for ever: once the partition's event time has moved a checkpoint
interval past it, it is written on the next record of its partition (`overdue`) — which is
how a patient with a single record is kept too.

What this costs after a crash: a patient is written at the latest a checkpoint interval of wall
time after its first unstored record was taken (by its own next record, `overdue`, or `quiet`),
so a restart reads again at most about a checkpoint interval (30 s by default) of the records
the worker took before it died, and processes again only those its stored states lack.

A write counts as stored only once the broker has confirmed its changelog message
(`write_stored`): until then the offsets it covers still hold the safe offset back, so no
commit depends on a delivery still in flight, and a commit need not wait for one. A delivery
the broker refuses or never confirms (`write_failed`) makes the patient unstored again from
the first offset the write covered: it is written again on its next record (or by `overdue`,
`quiet`), and a restart before then reads its records again.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from monitor.engine import Engine
from monitor.intake import RecentMessages
from streams import metrics, patient_record

log = logging.getLogger(__name__)


class OffsetsInFlight:
    """The first offsets of one input partition's writes whose delivery is not confirmed yet:
    a multiset whose smallest is read after every batch (a heap; removals are lazy)."""

    def __init__(self) -> None:
        self._heap: list[int] = []
        self._removed: Counter[int] = Counter()

    def add(self, offset: int) -> None:
        heapq.heappush(self._heap, offset)

    def remove(self, offset: int) -> None:
        self._removed[offset] += 1

    def first(self) -> int | None:
        heap, removed = self._heap, self._removed
        while heap and removed[heap[0]]:
            removed[heap[0]] -= 1
            if not removed[heap[0]]:
                del removed[heap[0]]
            heapq.heappop(heap)
        return heap[0] if heap else None


@dataclass(frozen=True, slots=True)
class Covered:
    """What a write stores of one input partition: the patient's first offset there not
    stored before, with its event and wall time (as `PatientStates._unstored` held them)."""

    patient_id: str
    topic: str
    partition: int
    offset: int
    since: float
    taken_at: float
    in_flight: OffsetsInFlight  # its partition's, when the write was handed over


@dataclass(frozen=True, slots=True)
class StateWrite:
    """A write of one patient's stored record: `value` None deletes it (a tombstone).

    `covers` is what it stores once delivered: the worker reports the delivery's outcome with
    `PatientStates.write_stored` or `write_failed`."""

    key: bytes
    value: bytes | None
    cause: str
    covers: tuple[Covered, ...] = field(default=(), compare=False, repr=False)


class PatientStates:
    """Lazy restore on a patient's first event, eager restore after a rebalance, checkpoints.

    It reads the stored records through `table` (any mapping: the Faust table in the worker)
    and never writes: `settle` returns the write that is due, for the caller to carry out.
    """

    def __init__(
        self,
        engine: Engine,
        table: Mapping[bytes, bytes],
        checkpoint_interval_s: float,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._wall = wall
        self.table = table
        self.partition_of: dict[bytes, int] = {}
        self.checkpoint_interval_s = checkpoint_interval_s
        self._written_at: dict[str, float] = {}
        self._written_wall: dict[str, float] = {}  # the wall-time half of the cadence
        self._pending: set[str] = set()
        self._released: dict[bytes, int] = {}
        self._unconfirmed: dict[str, list[bytes]] = {}
        # Restored after a rebalance and not heard of since: their partition is unknown here.
        self._unplaced: set[str] = set()
        # Per patient and input topic: (partition, the last offset its state has taken).
        self._applied: dict[str, patient_record.Applied] = {}
        # Per input (topic, partition): the patients with records not in the table yet, each
        # with the first such offset, its event time and the wall time it was taken, in offset
        # order (insertion order: offsets only grow within a partition), so the first is the
        # partition's safe offset.
        self._unstored: dict[tuple[str, int], dict[str, tuple[int, float, float]]] = {}
        # Per input (topic, partition): the first offsets of writes not confirmed delivered yet.
        self._in_flight: dict[tuple[str, int], OffsetsInFlight] = {}
        # Patients whose last write the broker refused: written again on their next event.
        self._refused: set[str] = set()
        self._recent = RecentMessages()

    def track(self, patient_id: str, partition: int) -> list[bytes]:
        """Before an event is processed: restore the patient if this worker has not got it.

        Returns the alerts its stored record had not seen confirmed: the caller sends them again.
        """
        key = patient_id.encode()
        if self.partition_of.get(key) != partition:
            self.partition_of[key] = partition
            self._released.pop(key, None)
            self._unplaced.discard(patient_id)
        if self.engine.holds(patient_id):
            return []
        stored = self.table.get(key)
        return [] if stored is None else self._restore(patient_id, stored)

    def repeated(self, patient_id: str, message: bytes) -> bool:
        """Whether the message is one of the patient's last few (monitor/intake.py)."""
        return self._recent.repeated(patient_id, message)

    def redelivered(self, patient_id: str, topic: str, partition: int, offset: int, at: float) -> bool:
        """Whether the patient's state has taken this record already (Kafka delivers again
        what was not committed; after `track`, which restores what the table has).

        A record dated after the patient's clock cannot have been taken, whatever its offset:
        a topic deleted and created again starts its offsets afresh, and its new records must
        not be skipped against the old ones."""
        taken = self._applied.get(patient_id)
        if taken is None:
            return False
        last = taken.get(topic)
        if last is None or last[0] != partition or offset > last[1]:
            return False
        clock = self.engine.clock_of(patient_id)
        return clock is None or at <= clock

    def took(self, patient_id: str, topic: str, partition: int, offset: int, at: float) -> None:
        """The engine has applied this record to the patient's state in memory."""
        taken = self._applied.get(patient_id)
        if taken is None:
            taken = self._applied[patient_id] = {}
        taken[topic] = (partition, offset)
        unstored = self._unstored.get((topic, partition))
        if unstored is None:
            unstored = self._unstored[(topic, partition)] = {}
        if patient_id not in unstored:
            unstored[patient_id] = (offset, at, self._wall())

    def safe_offset(self, topic: str, partition: int) -> int | None:
        """The first offset of this input partition whose effect is not in the table yet — not
        written, or written and not confirmed delivered (None: every record taken is): commits
        stop below it, so a restart reads it again."""
        unstored = self._unstored.get((topic, partition))
        first = next(iter(unstored.values()))[0] if unstored else None
        in_flight = self._in_flight.get((topic, partition))
        sent = None if in_flight is None else in_flight.first()
        if first is None or sent is None:
            return sent if first is None else first
        return min(first, sent)

    def write_stored(self, write: StateWrite) -> None:
        """The broker confirmed the write's changelog message: what it covers is stored."""
        for covered in write.covers:
            covered.in_flight.remove(covered.offset)

    def write_failed(self, write: StateWrite) -> None:
        """The broker refused the write's changelog message, or did not confirm it: what it
        covers is unstored again (unless its partition has left this worker meanwhile), and
        the patient is written again on its next event."""
        for covered in write.covers:
            covered.in_flight.remove(covered.offset)
            tp = (covered.topic, covered.partition)
            if self._in_flight.get(tp) is not covered.in_flight:
                continue  # revoked since: its next owner reads the records again
            self._refused.add(covered.patient_id)
            unstored = self._unstored.setdefault(tp, {})
            earlier = unstored.get(covered.patient_id)
            if earlier is None or covered.offset < earlier[0]:
                unstored[covered.patient_id] = (covered.offset, covered.since, covered.taken_at)
                # offset order, which safe_offset, quiet and overdue read (rare: a refusal)
                self._unstored[tp] = dict(sorted(unstored.items(), key=lambda item: item[1][0]))

    def quiet(self) -> list[tuple[int, StateWrite]]:
        """The writes, with their partitions, of the patients unstored for a checkpoint interval
        of wall time: when input stops (the end of a backlog, a quiet ward) no record comes to
        carry `overdue` writes, and without these the last records would stay uncommitted and
        be read again at every restart."""
        due = self._wall() - self.checkpoint_interval_s
        writes = []
        for (_topic, partition), unstored in list(self._unstored.items()):
            while unstored:
                patient_id, (_offset, since, taken_at) = next(iter(unstored.items()))
                if taken_at > due:
                    break
                write = self._write(patient_id, "quiet", since)
                self._stored(patient_id)
                if write is not None:
                    writes.append((partition, write))
        return writes

    def overdue(self, topic: str, partition: int, at: float) -> StateWrite | None:
        """The write of the patient longest unstored on this partition, if the partition's
        event time `at` has moved a checkpoint interval past its first unstored record: a
        silent patient must not hold the partition's commits back."""
        unstored = self._unstored.get((topic, partition))
        if not unstored:
            return None
        patient_id, (_offset, since, taken_at) = next(iter(unstored.items()))
        if at - since < self.checkpoint_interval_s or self._wall() - taken_at < self.checkpoint_interval_s:
            return None
        write = self._write(patient_id, "overdue", at)
        self._stored(patient_id)  # even with nothing to write (forgotten meanwhile)
        return write

    def _stored(self, patient_id: str) -> tuple[Covered, ...]:
        """Take the patient out of the unstored: what its write covers, held in flight."""
        key = patient_id.encode()
        partition = self.partition_of.get(key)
        covers = []
        for (topic, in_partition), unstored in self._unstored.items():
            if partition is None or in_partition == partition:
                first = unstored.pop(patient_id, None)
                if first is not None:
                    in_flight = self._in_flight.get((topic, in_partition))
                    if in_flight is None:
                        in_flight = self._in_flight[(topic, in_partition)] = OffsetsInFlight()
                    in_flight.add(first[0])
                    covers.append(Covered(patient_id, topic, in_partition, *first, in_flight))
        return tuple(covers)

    def sending(self, patient_id: str, alert: bytes) -> None:
        """An alert of this patient is being sent: it is unconfirmed until `delivered`."""
        self._unconfirmed.setdefault(patient_id, []).append(alert)

    def delivered(self, patient_id: str, alert: bytes) -> None:
        pending = self._unconfirmed.get(patient_id)
        if pending and alert in pending:
            pending.remove(alert)
            if not pending:
                del self._unconfirmed[patient_id]

    def settle(self, patient_id: str, durable: bool, at: float) -> StateWrite | None:
        """After an event of this patient (event time `at`, seconds) was processed: the write
        that is due, if any (to be carried out after the alerts it remembers were sent)."""
        if durable:
            return self._write(patient_id, "episode", at)
        if patient_id in self._pending:
            return self._write(patient_id, "timer", at)
        if patient_id in self._refused:
            return self._write(patient_id, "refused", at)
        written_at = self._written_at.get(patient_id)
        if written_at is None or written_at != written_at:
            # A new patient (first write one interval on), or one just restored (NaN: the
            # table holds it as it is now): the interval starts here.
            self._written_at[patient_id] = at
            self._written_wall[patient_id] = self._wall()
        elif (
            at - written_at >= self.checkpoint_interval_s
            and self._wall() - self._written_wall.get(patient_id, -math.inf) >= self.checkpoint_interval_s
        ):
            return self._write(patient_id, "cadence", at)
        return None

    def ended(self, patient_ids: Iterable[str]) -> None:
        """Discharged patients whose memory ended (monitor/discharges.py): the offsets and
        message digests kept here for them go too, so memory stays in proportion to the ward."""
        for patient_id in patient_ids:
            self._applied.pop(patient_id, None)
            self._recent.forget(patient_id)

    def changed_outside_events(self, patient_ids: Iterable[str]) -> None:
        """A timer changed these patients durably: write them on their next event."""
        self._pending.update(patient_ids)

    def _write(self, patient_id: str, cause: str, at: float) -> StateWrite | None:
        key = patient_id.encode()
        snapshot = self.engine.snapshot(patient_id)
        self._pending.discard(patient_id)
        self._refused.discard(patient_id)
        covers = self._stored(patient_id)
        if snapshot is None:
            self._written_at.pop(patient_id, None)
            self._written_wall.pop(patient_id, None)
            if self.table.get(key) is None:
                for covered in covers:  # nothing to store: nothing to wait for
                    covered.in_flight.remove(covered.offset)
                return None
            return StateWrite(key, None, cause, covers)  # forgotten: a tombstone, compacted away by Kafka
        self._written_at[patient_id] = at
        self._written_wall[patient_id] = self._wall()
        return StateWrite(
            key,
            patient_record.pack(snapshot, self._unconfirmed.get(patient_id, []), self._applied.get(patient_id)),
            cause,
            covers,
        )

    def _restore(self, patient_id: str, stored: bytes) -> list[bytes]:
        try:
            snapshot, unconfirmed, applied = patient_record.unpack(stored)
            self.engine.restore(patient_id, snapshot)
            self._applied[patient_id] = applied
        except ValueError as error:
            # A state this version cannot read must not stop the ward: start the patient afresh.
            metrics.STATE_RESTORE_FAILURES.inc()
            log.error("could not restore a patient's state (%s); starting it afresh", error)
            return []
        self._written_at[patient_id] = math.nan
        metrics.STATE_RESTORES.inc()
        return unconfirmed

    def restore_assigned(self, partitions: set[int]) -> tuple[int, list[tuple[str, bytes]]]:
        """After recovery: drop patients of partitions we lost, load those of partitions we got.

        Loading eagerly matters for patients who are silent: only a loaded patient can raise
        a signal-loss alert from the timer. Returns how many were loaded and the unconfirmed
        alerts of their records, to be sent again.

        Patients loaded at the previous rebalance and not heard of since have no known
        partition: they are forgotten and loaded again if the table still holds them (it holds
        the partitions this worker owns), so that one whose partition moved on leaves, instead
        of raising signal loss here while its new owner has its vitals. A change the timer made
        to them since is derived again, with the same ids, as after a restart.
        """
        self.release(p for p in set(self.partition_of.values()) if p not in partitions)
        self._forget(self._unplaced)
        self._unplaced = set()
        restored = 0
        resend: list[tuple[str, bytes]] = []
        for key, stored in list(self.table.items()):
            if key in self._released and self._released[key] not in partitions:
                continue  # the in-memory store keeps keys it wrote itself after a revoke
            patient_id = key.decode()
            if not self.engine.holds(patient_id) and stored is not None:
                resend.extend((patient_id, alert) for alert in self._restore(patient_id, stored))
                if key not in self.partition_of:
                    self._unplaced.add(patient_id)
                restored += 1
        return restored, resend

    def release(self, partitions: Iterable[int]) -> None:
        """Forget the patients of partitions this worker no longer owns."""
        lost = set(partitions)
        if not lost:
            return
        keys = [key for key, p in self.partition_of.items() if p in lost]
        self._forget(key.decode() for key in keys)
        for key in keys:
            self._released[key] = self.partition_of.pop(key)
        for topic_partition in [tp for tp in self._unstored if tp[1] in lost]:
            del self._unstored[topic_partition]  # its next owner reads them again
        for topic_partition in [tp for tp in self._in_flight if tp[1] in lost]:
            del self._in_flight[topic_partition]

    def _forget(self, patient_ids: Iterable[str]) -> None:
        for patient_id in patient_ids:
            self.engine.forget(patient_id)
            self._written_at.pop(patient_id, None)
            self._written_wall.pop(patient_id, None)
            self._pending.discard(patient_id)
            self._refused.discard(patient_id)
            self._unconfirmed.pop(patient_id, None)
            self._applied.pop(patient_id, None)
            self._recent.forget(patient_id)
