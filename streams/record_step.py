"""One step per input record: the record and the patient's state in, a decision out.

Why: the worker's per-record path used to double back between three objects driving the
engine (the worker, its patient states and its pipeline), with the worker routing alerts back
through the patient states; tests re-implemented that order to test it. Here the order is
written once, without Faust, Kafka or I/O, and tested directly (tests/test_record_step.py):

1. decode and validate the record (a bad one is only a dead letter: nothing is restored);
2. restore the patient from its stored record if this worker has not got it: the alerts that
   record had not seen confirmed are re-sent;
3. run the engine; note the event time on the record's partition (streams/event_clock.py);
4. decide whether the patient's record is written now (streams/patient_states.py).

The worker (streams/app.py) carries the decision out: it produces `publish`, then `alerts`
(reporting each confirmed delivery back with `delivered`), then the state write, and lets
Faust commit the offset once that write is confirmed by the broker (streams/patient_states.py:
`write_stored`; the commit itself does not flush the producer).

A status that a lab result alone caused (no alert) is held, not published, until the worker has
taken the whole fetched batch (`release_held`): a status is the patient's state, and the
patient's later status in the same batch includes what the earlier one said, so only the last
is published (`crsmon_patient_status_coalesced_total` counts the others). A laboratory system
sends a panel as eight results in a row: with a status for each, bench/worker.py's worst case
(every patient's panel in the same 30 s) published 301-311 statuses per 1,000 messages taken,
117 now (issue 20). What a held status must not fall behind
is published after it: a held status goes out before an alert or a state write of its patient
(so a stored state never lacks its status on the wire), and before anything the timer decides.
`crsmon replay --status` prints every status; the worker's are among them, and each patient's
last status of a batch is the one replay prints for that patient up to the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping

from kafka_client.topics import Topics
from monitor.engine import Engine, Outputs
from monitor.wire import LabEvent, PatientStatus
from streams import metrics
from streams.event_clock import EventClock
from streams.input_record import InputRecord
from streams.patient_states import PatientStates, StateWrite
from streams.pipeline import Pipeline, Publish


@dataclass(slots=True)
class Decision:
    """What one step asks the worker to do, in this order."""

    publish: list[Publish] = field(default_factory=list)  # statuses and dead letters
    alerts: list[Publish] = field(default_factory=list)  # re-sent first, then new; unconfirmed until delivered
    write: StateWrite | None = None  # after the alerts it remembers have been sent
    #: Another patient of the record's partition, written now so that it does not hold the
    #: partition's commits back (PatientStates.overdue).
    overdue: StateWrite | None = None


class RecordStep:
    """The worker's per-record logic and the in-memory state it keeps between records."""

    def __init__(
        self,
        engine: Engine,
        topics: Topics,
        stored: Mapping[bytes, bytes],
        checkpoint_interval_s: float,
        clock: EventClock | None = None,
    ) -> None:
        self.engine = engine
        self.topics = topics
        self.pipeline = Pipeline(engine, topics)
        self.states = PatientStates(engine, stored, checkpoint_interval_s)
        self.clock = clock or EventClock()
        self._advanced_to: datetime | None = None  # the moment of the last `advance`
        #: Per patient, the status its lab results caused in this batch, not published yet.
        self._held: dict[str, PatientStatus] = {}

    def take(self, record: InputRecord) -> Decision:
        """The decision for one input record."""
        decoded = self.pipeline.decode(record)
        if isinstance(decoded, Publish):
            return Decision(publish=[decoded])
        event = decoded
        patient_id: str = event.patient_id  # type: ignore[attr-defined]
        states = self.states
        topic, partition, offset = record.topic, record.partition, record.offset
        unconfirmed = states.track(patient_id, partition)
        decision = Decision(alerts=self._resend(patient_id, unconfirmed)) if unconfirmed else Decision()
        at = event.ts.timestamp()  # type: ignore[attr-defined]
        if states.redelivered(patient_id, topic, partition, offset, at):
            self.pipeline.ignored(record, "redelivered")  # its effect is in the restored state
            return decision
        if states.repeated(patient_id, record.value):  # type: ignore[arg-type]
            self.pipeline.ignored(record, "duplicate_message")  # a producer's retry, say
            return decision
        outputs = self.pipeline.observe(record, event)
        if isinstance(outputs, Publish):
            decision.publish.append(outputs)
            return decision
        states.took(patient_id, topic, partition, offset, at)
        if outputs.ignored is not None and not (outputs.alerts or outputs.statuses or outputs.durable):
            return decision
        held = self._held
        if held and patient_id in held:
            if outputs.statuses:  # newer, and it includes what the held one said
                del held[patient_id]
                metrics.STATUSES_COALESCED.inc()
            elif outputs.alerts:
                decision.publish.extend(self._release(patient_id))
        if outputs.statuses and not outputs.alerts and isinstance(event, LabEvent):
            held[patient_id] = outputs.statuses[-1]
            coalesced = len(outputs.statuses) - 1
            if coalesced:
                metrics.STATUSES_COALESCED.inc(coalesced)
            outputs.statuses = []
        self._add(decision, outputs)
        self.clock.saw(partition, event.ts)  # type: ignore[attr-defined]
        decision.write = write = states.settle(patient_id, outputs.durable, at)
        decision.overdue = overdue = states.overdue(topic, partition, at)
        if held:  # a stored state is never ahead of the statuses published
            for stored in (write, overdue):
                if stored is not None and (written := stored.key.decode()) in held:
                    decision.publish.extend(self._release(written))
        return decision

    def release_held(self) -> Decision:
        """The held statuses, to publish now: the batch they were held in has been taken
        (or the timer is about to decide something after them)."""
        if not self._held:
            return Decision()
        statuses = list(self._held.values())
        self._held = {}
        decision = Decision()
        self._add(decision, Outputs(statuses=statuses))
        return decision

    def _release(self, patient_id: str) -> list[Publish]:
        statuses, _ = self.pipeline.publications(Outputs(statuses=[self._held.pop(patient_id)]))
        return statuses

    def quiet_writes(self) -> list[tuple[int, StateWrite]]:
        """The state writes due without a record to carry them (PatientStates.quiet), each
        with the partition whose table it goes to: the worker's timer carries them out, after
        publishing `release_held` (the timer may run between two records of a batch)."""
        return self.states.quiet()

    def safe_offset(self, topic: str, partition: int) -> int | None:
        """The first offset of the partition a restart must read again (None: none)."""
        return self.states.safe_offset(topic, partition)

    def advance(self, patients: int | None = None) -> Decision:
        """Let event time pass (the worker's timer): rules about silence fire from here, and
        the hourly evaluations. `patients`: at most that many patients' deadlines this call
        (`more_due` says whether some are left), so a worker's timer can give the loop back
        between slices of an hour's evaluations."""
        now = self.clock.now()
        if now is None:
            return self.release_held()
        self._advanced_to = now
        decision = self.release_held()  # what the timer says of a patient comes after them
        outputs = self.engine.advance_to(now, patients)
        self.states.ended(self.engine.discharges.expire(now))
        self._add(decision, outputs)
        if outputs.durable:
            # No write outside an event (Faust's store places writes by the current event):
            # these patients are written on their next event.
            self.states.changed_outside_events(alert.patient_id for alert in outputs.alerts)
        return decision

    def more_due(self) -> bool:
        """Whether the last `advance` left deadlines due by its moment on the timer."""
        return self._advanced_to is not None and self.engine.due_by(self._advanced_to)

    def assigned(self, partitions: set[int]) -> tuple[int, Decision]:
        """After a rebalance, the input partitions this worker now owns: patients of the others
        are forgotten, those of new ones loaded. Returns how many were loaded and the decision
        to re-send their unconfirmed alerts."""
        decision = self.release_held()  # true of what this worker took, whoever owns it now
        restored, resend = self.states.restore_assigned(partitions)
        self.clock.keep_only(partitions)
        for patient_id, alert in resend:
            decision.alerts.extend(self._resend(patient_id, [alert]))
        return restored, decision

    def delivered(self, patient_id: str, alert: bytes) -> None:
        """The broker confirmed an alert: its patient's next record need not keep it."""
        self.states.delivered(patient_id, alert)

    def _add(self, decision: Decision, outputs: Outputs) -> None:
        statuses, alerts = self.pipeline.publications(outputs)
        decision.publish.extend(statuses)
        for alert in alerts:
            self.states.sending(alert.unconfirmed_of, alert.value)  # type: ignore[arg-type]
        decision.alerts.extend(alerts)

    def _resend(self, patient_id: str, alerts: Iterable[bytes]) -> list[Publish]:
        key = patient_id.encode()
        resent = []
        for alert in alerts:
            self.states.sending(patient_id, alert)
            resent.append(Publish(self.topics.alerts, key, alert, patient_id))
        return resent
