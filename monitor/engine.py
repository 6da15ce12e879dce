"""The engine: one event in, the patient's new status and alert state changes out.

The worker and `crsmon replay` both drive this class, so a behaviour proven in replay is the
behaviour in production. It is deterministic in event time: it never reads the clock, and the
publishing shell stamps `emitted_at`.

Each step of a patient runs in the same order: let time catch up (values carried too long
expire, held samples are believed, silent sources are lost), assess (NEWS2, shock index,
qSOFA, ASTCT grade, trends), let each rule's episode follow its finding, and report. What
would change with time alone has a deadline (`_next_due`); `advance_to` honours deadlines for
patients who send nothing, and every event first honours those up to its own time, so that
the same events give the same alerts whether a timer ran in between or not.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import KeysView

from monitor.artifacts import expire, fever_never_held, take_sample
from monitor.assessment import assess, in_risk_period, oxygen_in_force
from monitor.clinical_events import put_in_force
from monitor.config import EngineConfig
from monitor.deterioration.engine_rule import HourlyWarning
from monitor.deterioration.news2_floor import ConfirmedNews2
from monitor.discharges import DischargeMemory
from monitor.episodes import Change, Timing
from monitor.kidney import kdigo_stage
from monitor.neuro_watch import is_overdue, neuro_deadline
from monitor.parameters import TEMPERATURE
from monitor.patient_state import Patient
from monitor.reports import alert_id_for, alert_of, moment, status_of
from monitor.rules import REGISTRY, RULE_NAMED, Findings, in_step_order
from monitor.rules.crs import early_warning_of
from monitor.rules.deterioration import ward_finding
from monitor.signals import check_losses, note_signal
from monitor.window import ABSENT, DUPLICATE, TOO_LATE, WindowLimits
from monitor.wire import (
    Acknowledgement,
    Alert,
    DischargeEvent,
    InputEvent,
    LabEvent,
    NeuroEvent,
    PatientStatus,
    VitalSigns,
    format_timestamp,
)
from monitor.wire.vitals import MEASUREMENTS

__all__ = ["Engine", "Outputs", "alert_id_for"]

_CONSCIOUSNESS_CODE = {None: 0, "A": 1, "C": 2, "V": 3, "P": 4, "U": 5}
_OXYGEN_CODE = {None: 0, False: 8, True: 16}
#: The most steps one patient takes to catch up with one moment. A step happens only when a
#: deadline falls due, and a patient has a handful of deadlines (values expiring, signals,
#: three episodes), each moved past the step that honours it: a real catch-up takes a few.
_MAX_STEPS_PER_CALL = 64

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outputs:
    """What one step of the engine produced.

    `durable` is True when the patient's state changed in a way that must survive a crash
    (an episode opened, changed or closed, an acknowledgement, a clinical event other than a lab
    result or an assessment): the worker persists state then, and otherwise only on a cadence.
    """

    statuses: list[PatientStatus] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    durable: bool = False
    #: Why a valid event was deliberately not applied (e.g. "after_discharge"), else None.
    ignored: str | None = None

    def extend(self, other: "Outputs") -> None:
        self.statuses.extend(other.statuses)
        self.alerts.extend(other.alerts)
        self.durable = self.durable or other.durable


class Engine:
    """Per-patient state plus the rules that turn events into status and alerts."""

    def __init__(
        self, config: EngineConfig | None = None, *, statuses: bool = True, scores: dict | None = None
    ) -> None:
        """`statuses=False` for callers that read only alerts (validation, replay without
        --status): a status is built for most vital signs, and alerts never depend on it.
        `scores`: the deterioration warning's hourly scores, shared by engines that see the
        same events with other alert thresholds (a what-if sweep; see HourlyWarning)."""
        self.config = config = config or EngineConfig()
        self._statuses = statuses
        self._limits = WindowLimits(
            minutes=int(config.window_hours * 60),
            lateness_s=config.lateness_s,
            raw_rows_max=config.raw_rows_max,
        )
        self._jumps = tuple(config.implausible_jump[name] for name in MEASUREMENTS)
        #: Each rule's timing (ungraded, graded): see Rule.ungraded_timing.
        self._timings = {
            rule.name: ((rule.ungraded_timing or rule.timing)(config), rule.timing(config)) for rule in REGISTRY
        }
        #: The rules on, in step order (monitor/rules/registry.py), as what a step reads of each:
        #: its name, level, timings, and the rule it yields to with whether that one takes over.
        self._rules = tuple(
            (
                rule.name,
                rule.level,
                self._timings[rule.name],
                rule.yields_to,
                None if rule.yields_to is None else RULE_NAMED[rule.yields_to].takes_over,
            )
            for rule in in_step_order(config)
        )
        self._warning = HourlyWarning(config, scores) if config.deterioration_rule else None
        self._news2_floor = ConfirmedNews2(config)
        self._patients: dict[str, Patient] = {}
        #: Patients whose latest full step published no change, with the NEWS2 score it
        #: assessed: what an hourly evaluation alone needs (`_hourly_alone`). Derived, never
        #: stored: a patient restored or admitted takes a full step first.
        self._settled: dict[str, int] = {}
        #: (deadline, patient): patients due at the same moment are honoured in patient order,
        #: not in the order they were put on the timer, which a restore changes (the same
        #: events must give the same outputs, in the same order, restored or not).
        self._timer: list[tuple[float, str]] = []
        #: Deadlines that a step could not move on, by what they belong to ("news2 resolve
        #: hysteresis", "values carried forward", "catch-up budget"): each is a defect of the
        #: engine, skipped so that no patient and no worker hangs on it. The worker exports it.
        self.stalls: Counter[str] = Counter()
        self.discharges = DischargeMemory()  # monitor/discharges.py

    # -- state ---------------------------------------------------------------------------
    def patients(self) -> KeysView[str]:
        return self._patients.keys()

    def snapshot(self, patient_id: str) -> bytes | None:
        """The patient's state as bytes (a version byte first), or None if not tracked."""
        patient = self._patients.get(patient_id)
        return self.discharges.snapshot(patient_id) if patient is None else patient.to_bytes()

    def restore(self, patient_id: str, data: bytes) -> None:
        """Adopt state written by `snapshot`, e.g. after a rebalance or restart.

        Raises ValueError for bytes this version cannot read."""
        if DischargeMemory.is_record(data):
            self.discharges.restore(patient_id, data)
            return
        patient = Patient.from_bytes(data, self._limits)
        if patient.patient_id != patient_id:
            raise ValueError(f"state belongs to another patient than {patient_id!r}")
        expire(patient, patient.clock if patient.clock is not None else -math.inf, self.config)
        check_losses(patient, patient.clock if patient.clock is not None else -math.inf, self.config)
        patient.scheduled = math.inf
        patient.kidney = kdigo_stage(patient.labs, self.config)  # derived, never stored
        if self._warning is None:
            patient.deterioration_due = math.inf  # written by an engine with the warning on
        elif patient.deterioration_due != patient.deterioration_due:  # NaN: not in the bytes
            patient.deterioration_due = math.inf
            self._warning.restored(patient)
        self._patients[patient_id] = patient
        self._settled.pop(patient_id, None)
        self._schedule(patient)

    def forget(self, patient_id: str) -> None:
        self._patients.pop(patient_id, None)
        self._settled.pop(patient_id, None)
        self.discharges.forget(patient_id)

    def due_by(self, now: datetime) -> bool:
        """Whether a deadline up to `now` may still be waiting on the timer (after
        `advance_to(now, patients)` took a slice); stale entries of patients rescheduled or
        forgotten can make it say so once more than needed, never less."""
        return bool(self._timer) and self._timer[0][0] <= now.timestamp()

    def holds(self, patient_id: str) -> bool:
        """Whether this engine has the patient's state (tracked, or remembered as discharged)."""
        return patient_id in self._patients or self.discharges.remembers(patient_id)

    def close(self, patient_id: str, now: datetime) -> Outputs:
        """Let time pass to `now` for this patient alone (as `advance_to`), then forget it.

        For input whose patient is known to send nothing more (the patient's last line of a
        file grouped by patient): its remaining deadlines before `now` give what the timer
        would have given, and its memory is freed at once, not at the end of the file.
        """
        outputs = Outputs()
        patient = self._patients.get(patient_id)
        if patient is None:
            return outputs
        until = now.timestamp()
        for _ in range(_MAX_STEPS_PER_CALL):  # each round steps the patient on, or ends
            clock = patient.clock
            if self._next_due(patient) > until:
                break
            self._catch_up(patient, until, outputs)
            if patient.clock == clock and self._next_due(patient) <= until:
                self._stalled("close", until, patient)
                break
        self.forget(patient_id)
        return outputs

    def clock_of(self, patient_id: str) -> float | None:
        """The latest event time the patient was evaluated at (seconds), None if not tracked:
        an event after it cannot have been applied yet, whatever a caller's bookkeeping says."""
        patient = self._patients.get(patient_id)
        return None if patient is None else patient.clock

    def counters(self, patient_id: str) -> dict[str, int] | None:
        """Input the window ignored and samples the engine did not believe, for one patient."""
        patient = self._patients.get(patient_id)
        if patient is None:
            return None
        return {
            "too_late": patient.window.too_late,
            "duplicates": patient.window.duplicates,
            "artifacts": patient.artifacts,
            "gaps": patient.gaps,
        }

    def episode(self, patient_id: str, rule: str):
        """The episode state of one rule for one patient (open or not), or None."""
        patient = self._patients.get(patient_id)
        return None if patient is None else patient.episodes.get(rule)

    # -- events --------------------------------------------------------------------------
    def observe(self, event: InputEvent | Acknowledgement) -> Outputs:
        """Apply one contract-valid event in event time."""
        if not isinstance(event, Acknowledgement) and self.discharges.ignores(event.patient_id, event.ts):
            return Outputs(ignored="after_discharge")  # monitor/discharges.py
        if type(event) is VitalSigns:
            return self._observe_vitals(event)
        if isinstance(event, Acknowledgement):
            return self._acknowledge(event)
        if isinstance(event, DischargeEvent):
            outputs = self._observe_clinical(event)
            self.discharges.remember(event.patient_id, event.ts)
            outputs.durable = True  # the memory is state to keep
            return outputs
        return self._observe_clinical(event)

    def advance_to(self, now: datetime, patients: int | None = None) -> Outputs:
        """Let event time pass to `now` without events: honour every deadline up to it, or
        those of the first `patients` patients due (earliest deadline first) and leave the rest
        on the timer for the next call (`due_by` says whether any is left).

        An event honours the deadlines up to its own time in the same way before it is
        applied, so the same events give the same outputs however often, and whenever, time
        was advanced in between (tests/test_engine_time.py) — and however many patients each
        call took: a patient left on the timer is honoured at its next event or next call, at
        the moments of its own deadlines. Why a worker takes a slice: the deterioration
        warning's hourly evaluations fall due for every patient at the same H:00 + grace, and
        ten thousand of them in one call held a worker's event loop for about three seconds.
        """
        if patients is not None and patients < 1:
            raise ValueError(f"advance_to takes at least one patient a call, not {patients}")
        until = now.timestamp()
        outputs = Outputs()
        timer = self._timer
        left = math.inf if patients is None else patients
        # Each patient popped is honoured up to `until` and scheduled after it, so this call
        # does not pop it again: the loop ends within the entries it began with. The budget
        # says so, and holds should a defect push an entry at or before `until`.
        budget = len(timer)
        while timer and timer[0][0] <= until and left > 0:
            if budget == 0:
                self._stalled("advance_to budget", until, None)
                break
            budget -= 1
            due, patient_id = heapq.heappop(timer)
            patient = self._patients.get(patient_id)
            if patient is None or patient.scheduled != due:
                continue  # forgotten, or rescheduled earlier since
            left -= 1
            patient.scheduled = math.inf
            self._catch_up(patient, until, outputs)
            self._schedule(patient, after=until)
        return outputs

    # -- vital signs ---------------------------------------------------------------------
    def _observe_vitals(self, vitals: VitalSigns) -> Outputs:
        patient = self._patients.get(vitals.patient_id)
        if patient is None:
            patient = self._admit(vitals.patient_id)
        at = vitals.ts.timestamp()
        outputs = Outputs()
        if patient.scheduled <= at:
            patient.scheduled = math.inf  # the timer's entry is honoured here, not by advance_to
            self._catch_up(patient, at, outputs)
        values = (heart_rate, systolic, diastolic, mean, temperature, spo2, rate) = (
            vitals.heart_rate,
            vitals.systolic_bp,
            vitals.diastolic_bp,
            vitals.mean_arterial_pressure,
            vitals.temperature,
            vitals.spo2,
            vitals.respiratory_rate,
        )
        consciousness, monitor_oxygen = vitals.consciousness, vitals.on_oxygen
        row = (  # spelled out: a generator here costs more than the rest of the window
            ABSENT if heart_rate is None else heart_rate,
            ABSENT if systolic is None else systolic,
            ABSENT if diastolic is None else diastolic,
            ABSENT if mean is None else mean,
            ABSENT if temperature is None else temperature,
            ABSENT if spo2 is None else spo2,
            ABSENT if rate is None else rate,
            _CONSCIOUSNESS_CODE[consciousness] + _OXYGEN_CODE[monitor_oxygen],
        )
        placed = patient.window.add(at, row)
        if placed == TOO_LATE or placed == DUPLICATE:
            # Counted by the caller (a metric, replay's summary), never silent (issue 19).
            outputs.ignored = "behind_window" if placed == TOO_LATE else "duplicate"
            return outputs
        if vitals.ward is not None:
            patient.ward = vitals.ward
        if vitals.bed is not None:
            patient.bed = vitals.bed
        config = self.config
        risk = in_risk_period(patient, at, config)
        newest = patient.newest_at
        jumps = self._jumps
        for position, value in enumerate(values):
            if value is None:
                continue
            if value == 0:
                patient.gaps += 1  # a probe off or a lost signal: a gap, never a reading
                continue
            last = newest[position]
            if last is not None and at <= last:
                continue  # an older sample of this measurement: the window has it, that is all
            newest[position] = at
            note_signal(patient, position, at, config)
            never_hold = position == TEMPERATURE and fever_never_held(value, risk, config)
            if never_hold and patient.fever_at is None:
                patient.fever_at = at
            take_sample(patient, position, value, at, config, jumps, never_hold)
        if consciousness is not None and (patient.consciousness_at is None or at >= patient.consciousness_at):
            patient.consciousness, patient.consciousness_at = consciousness, at
            patient.expiry_due = min(patient.expiry_due, at + config.carry_forward_min * 60)
        if monitor_oxygen is not None and (patient.monitor_oxygen_at is None or at >= patient.monitor_oxygen_at):
            patient.monitor_oxygen, patient.monitor_oxygen_at = monitor_oxygen, at
            patient.expiry_due = min(patient.expiry_due, at + config.carry_forward_min * 60)
        if self._warning is not None and patient.deterioration_due == math.inf:
            patient.deterioration_due = self._warning.first_due(at)
        clock = patient.clock
        self._step(
            patient,
            at if clock is None or at > clock else clock,
            outputs,
            vitals.ts if clock is None or at >= clock else None,
            vitals=True,
        )
        self._schedule(patient)
        return outputs

    # -- clinical events -----------------------------------------------------------------
    def _observe_clinical(self, event) -> Outputs:
        patient = self._patients.get(event.patient_id)
        if patient is None:
            if isinstance(event, DischargeEvent):
                return Outputs()
            patient = self._admit(event.patient_id)
        at = event.ts.timestamp()
        # A lab result or an assessment alone is stored on the cadence, as vital signs are (an
        # alert it causes makes the step durable): until then the worker holds its record's
        # offset back (streams/patient_states.py), so a crash delivers it again. Written at
        # once, a panel of eight results wrote the patient eight times, most of the changelog.
        outputs = Outputs(durable=not isinstance(event, (LabEvent, NeuroEvent)))
        if patient.scheduled <= at:
            patient.scheduled = math.inf
            self._catch_up(patient, at, outputs)
        clock = patient.clock
        now = at if clock is None or at > clock else clock
        stamp = event.ts if clock is None or at >= clock else None
        if isinstance(event, DischargeEvent):
            self._discharge(patient, now, stamp, outputs)
            return outputs
        put_in_force(patient, event, at, self.config)
        self._step(patient, now, outputs, stamp, vitals=False)
        self._schedule(patient)
        return outputs

    def _discharge(self, patient: Patient, at: float, stamp: datetime | None, outputs: Outputs) -> None:
        """Monitoring ends: every open episode resolves and the state is dropped."""
        observed = stamp or moment(at)
        a = assess(patient, at, self.config)
        for rule, episode in patient.episodes.items():
            if episode.open:
                change = episode.resolve(at, ("patient discharged",))
                outputs.alerts.append(alert_of(patient, rule, change, a, observed))
        self.forget(patient.patient_id)

    # -- acknowledgements ----------------------------------------------------------------
    def _acknowledge(self, ack: Acknowledgement) -> Outputs:
        patient = self._patients.get(ack.patient_id)
        if patient is not None:
            for episode in patient.episodes.values():
                if episode.open and episode.episode_id == ack.episode_id:
                    episode.acknowledge(ack.by, ack.ts.timestamp())
                    return Outputs(durable=True)
        return Outputs()

    # -- the step ------------------------------------------------------------------------
    def _admit(self, patient_id: str) -> Patient:
        from monitor.window import Window

        patient = self._patients[patient_id] = Patient(patient_id, Window(self._limits))
        return patient

    def _step(self, patient: Patient, at: float, outputs: Outputs, stamp: datetime | None, vitals: bool) -> None:
        """Evaluate the patient at time `at` and let every rule's episode follow."""
        config = self.config
        patient.clock = at
        if at >= patient.expiry_due:
            expire(patient, at, config)
        if at >= patient.loss_due:
            check_losses(patient, at, config)
        a = assess(patient, at, config)
        warning = self._warning
        ward = (
            None
            if warning is None
            else ward_finding(  # the deterioration rule's finding
                warning, self._news2_floor, patient, a, at, vitals, config
            )
        )
        crs_open = patient.episodes["crs"].episode_id is not None
        a, early = early_warning_of(patient, a, at, vitals, crs_open, config)
        findings = Findings(patient, a, config, early, crs_open, ward)
        changes: list[tuple[str, Change]] = []
        episodes, patient_id = patient.episodes, patient.patient_id
        for name, level_of, timings, leads, takes_over in self._rules:
            episode = episodes[name]
            if leads is None:
                change = episode.step(
                    at, level_of(findings), timings[1] if episode.grade else timings[0], patient_id, name
                )
            else:  # it yields: while `leads` takes over, that episode speaks for this one
                leader = episodes[leads]
                if takes_over is not None and takes_over(patient, a, config):
                    if episode.episode_id is None:
                        episode.above_since = None
                        continue
                    if leader.episode_id is not None:
                        changes.append((name, episode.resolve(at, (f"continued as {leader.episode_id}",))))
                        continue
                change = episode.step(at, level_of(findings), timings[1], patient_id, name)
            if change is not None:
                changes.append((name, change))

        observed = None
        if changes:
            observed = stamp or moment(at)
            for name, change in changes:
                outputs.alerts.append(alert_of(patient, name, change, a, observed))
            outputs.durable = True
            self._settled.pop(patient.patient_id, None)
        else:
            self._settled[patient.patient_id] = a.news2_score
        key = a.status_key()
        if patient.labs is not None:  # a new lab result is worth a status of its own, and so
            # is what the labs are read against: therapy (trends, m-EASIX) and tocilizumab (IL-6)
            key = (*key, patient.labs.revision, patient.therapy_at, patient.tocilizumab_at)
        neuro, overdue = patient.neuro, False
        if neuro is not None:  # so is a new assessment, and one falling overdue
            overdue = config.icans_rule and is_overdue(patient, at, config)
            key = (*key, neuro.grade.grade, neuro.current.ice, neuro.assessed_at, overdue)
        if (
            changes
            or key != patient.last_status_key
            or (vitals and (patient.last_status_at is None or at >= patient.last_status_at + config.status_interval_s))
        ):
            patient.last_status_key = key
            patient.last_status_at = at
            if self._statuses:
                outputs.statuses.append(status_of(patient, a, observed or stamp or moment(at), config, overdue))

    def _timing(self, rule: str, grade: int | None) -> Timing:
        """A rule's persistence and hysteresis, by whether its episode has had a grade."""
        return self._timings[rule][1 if grade else 0]

    # -- time ----------------------------------------------------------------------------
    def _next_due(self, patient: Patient, hourly: bool = True) -> float:
        """The earliest time the patient's state could change without an event (after every
        event and timer step: comparisons rather than min() calls); `hourly=False`: leaving
        the deterioration warning's hourly evaluation out."""
        due = patient.expiry_due
        if patient.loss_due < due:
            due = patient.loss_due
        clock = patient.clock
        if patient.therapy_at is not None:
            end = patient.therapy_at + self.config.risk_period_days * 86400
            if end < due and (clock is None or end > clock):
                due = end
        lift = patient.fever_lift_until
        if lift is not None and lift < due and (clock is None or lift > clock):
            due = lift
        if hourly and patient.deterioration_due < due:
            due = patient.deterioration_due
        if patient.neuro is not None and self.config.icans_rule:
            neuro = neuro_deadline(patient, clock, self.config)
            if neuro < due:
                due = neuro
        for rule, episode in patient.episodes.items():
            if (
                episode.above_since is not None
                or episode.below_since is not None
                or (episode.absent_since is not None or episode.back_since is not None)
            ):
                pending = episode.next_due(self._timing(rule, episode.grade))
                if pending < due:
                    due = pending
        return due

    def _catch_up(self, patient: Patient, until: float, outputs: Outputs) -> None:
        """Step the patient through each deadline up to `until`: an event at `until` comes
        after what time alone brings by then, whether a timer or the event got there first.

        Expiry and signal-loss deadlines are kept as cheap lower bounds; one that turns out
        early is made exact here without a step, so a step happens only when something does.
        A deadline that a step cannot move past its moment is a defect: it is reported by
        `_schedule`, never stepped again and again.
        """
        config = self.config
        due = self._next_due(patient)
        for _ in range(_MAX_STEPS_PER_CALL):
            if due > until:
                return
            clock = patient.clock
            at = due if clock is None or due > clock else clock
            changed = False
            if at >= patient.expiry_due or at >= patient.loss_due:
                if at >= patient.expiry_due:
                    changed = expire(patient, at, config)
                if at >= patient.loss_due:
                    changed = check_losses(patient, at, config) or changed
                due = self._next_due(patient)  # those two are exact now
            if changed or due <= at:
                if changed or not self._hourly_alone(patient, at):
                    self._step(patient, at, outputs, None, vitals=False)
                due = self._next_due(patient)
                if due <= at:
                    return  # stuck at this moment: `_schedule` reports it and moves on
        else:
            self._stalled("catch-up budget", until, patient)

    def _hourly_alone(self, patient: Patient, at: float) -> bool:
        """Score the hour due at `at` without the rest of a step, where that rest could change
        nothing; True if so. False leaves the moment to `_step` — having scored the hour or
        not: an evaluation moves `deterioration_due` past `at`, so `_step` does not score it
        again, and scoring first changes nothing else `_step` reads.

        On hourly charting most catch-up steps are this evaluation and nothing else. Why the
        rest of the step is idle then: every input of `_step` but time changes only in a step
        (events step; expiry and signal loss step when they change a value), and time enters
        it only through the deadlines `_next_due` weighs — none but the hour due now — and the
        NEWS2 floor's release, which `releases` rules out. So the patient is as its latest full
        step left it, and that step published no change (`_settled`): its episodes, the
        CRS baseline and the status key were decided on the state they now have. The same
        assessment and levels again leave each episode as it is (`Episode.step` changes nothing
        twice without a deadline), the floor as it is, the status key as the last one sent.
        What the evaluation itself changes is compared: the warning's open levels (medium,
        high) are what the step reads of it; its runs count hours, not moments, and its
        reasons are read only when a change is published."""
        warning = self._warning
        news2 = self._settled.get(patient.patient_id)
        if (
            warning is None
            or news2 is None
            or at < patient.deterioration_due
            or self._next_due(patient, hourly=False) <= at
            or self._news2_floor.releases(patient, at)
        ):
            return False
        state = patient.deterioration
        before = None if state is None else (state.medium.open, state.high.open)
        patient.clock = at
        warning.evaluate(patient, at, news2, oxygen_in_force(patient)[0], in_risk_period(patient, at, self.config))
        state = patient.deterioration
        assert state is not None  # evaluate always leaves the machines
        return (state.medium.open, state.high.open) == (before or (False, False))

    def _schedule(self, patient: Patient, after: float | None = None) -> None:
        """Put the patient's next deadline on the timer. Every deadline up to `after` (by
        default the patient's clock) has been honoured, so one still there is stuck."""
        due = self._next_due(patient)
        floor = patient.clock if after is None else after
        if floor is not None and due <= floor:
            due = self._stalled("deadline", floor, patient)
        if due < patient.scheduled:
            patient.scheduled = due
            timer = self._timer
            heapq.heappush(timer, (due, patient.patient_id))
            if len(timer) > 4 * len(self._patients) + 64:
                self._compact_timer()

    def _stalled(self, what: str, at: float, patient: Patient | None) -> float:
        """Report deadlines that would not advance past `at`, and return the patient's next
        deadline after `at`, so that the patient is still watched and nothing loops.

        Logged at ERROR once per kind of stall (the log says which rule and which deadline,
        never who or what values); every occurrence is counted in `stalls`.
        """
        stuck: list[tuple[str, float]] = []
        later = math.inf
        if patient is not None:
            for name, deadline in self._deadlines(patient):
                if deadline <= at:
                    stuck.append((name, deadline))
                elif deadline < later:
                    later = deadline
        for name, deadline in stuck or [(what, at)]:
            first = name not in self.stalls
            self.stalls[name] += 1
            if first:
                log.error(
                    "crsmon engine defect: the %s deadline at %s did not advance past %s (%s); "
                    "it is skipped so that monitoring goes on. Please report this with the "
                    "engine version; counted in crsmon_engine_stalls_total.",
                    name,
                    format_timestamp(moment(deadline)),
                    format_timestamp(moment(at)),
                    what,
                )
        return later

    def _deadlines(self, patient: Patient) -> list[tuple[str, float]]:
        """Every deadline `_next_due` weighs, by name (the slow path, for stall reports)."""
        named = [("values carried forward or held", patient.expiry_due), ("signal loss", patient.loss_due)]
        if patient.therapy_at is not None and (
            patient.clock is None or patient.therapy_at + self.config.risk_period_days * 86400 > patient.clock
        ):
            named.append(("risk period end", patient.therapy_at + self.config.risk_period_days * 86400))
        lift = patient.fever_lift_until
        if lift is not None and (patient.clock is None or lift > patient.clock):
            named.append(("fever no longer required", lift))
        if patient.deterioration_due < math.inf:
            named.append(("deterioration hourly evaluation", patient.deterioration_due))
        if patient.neuro is not None and self.config.icans_rule:
            neuro = neuro_deadline(patient, patient.clock, self.config)
            if neuro < math.inf:
                named.append(("neurological assessment due or ICANS watch end", neuro))
        for rule, episode in patient.episodes.items():
            named.extend(
                (f"{rule} {name}", deadline) for name, deadline in episode.pending(self._timing(rule, episode.grade))
            )
        return named

    def _compact_timer(self) -> None:
        """Drop entries superseded or of forgotten patients, which pile up when events honour
        deadlines before `advance_to` does: the timer stays as small as the ward."""
        patients = self._patients
        self._timer = [
            entry
            for entry in self._timer
            if (patient := patients.get(entry[1])) is not None and patient.scheduled == entry[0]
        ]
        heapq.heapify(self._timer)
