"""What the dashboard knows about the ward, and what changed since browsers were last told.

A pure, single-threaded object: the Kafka follower applies messages to it, the broadcaster asks
it for a snapshot (a browser that connects) or a delta (every flush). It does no I/O, so every
rule of what the page shows is tested without a broker or a browser.

Deltas are idempotent: a patient's entry carries the whole current status and the history
points it changed, an alert carries its whole current state. A browser that receives a change
it already has (because its snapshot was taken between a change and its flush) is unharmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerting.dashboard.alert_board import AlertBoard
from alerting.dashboard.course import CourseBook
from alerting.dashboard.history import BUCKET_SECONDS, TRENDED, VitalHistory
from monitor.wire import Acknowledgement, Alert, ClinicalEvent, PatientStatus


@dataclass(slots=True)
class _Patient:
    status: PatientStatus
    history: VitalHistory
    changed_from_minute: int | None = None  # the oldest history minute changed since the last delta


def describe_status(status: PatientStatus) -> dict[str, Any]:
    """A status as a tile shows it: the wire form, which clients already know."""
    return status.model_dump(mode="json")


class WardView:
    """Latest status and recent history per patient, and the open alerts."""

    def __init__(self, history: timedelta, course_window: timedelta = timedelta(days=14)) -> None:
        self.window_minutes = max(1, int(history.total_seconds() // BUCKET_SECONDS))
        self.history = history
        self.patients: dict[str, _Patient] = {}
        self.alerts = AlertBoard()
        self.courses = CourseBook(course_window)
        self._changed_courses: set[str] = set()
        self._changed_patients: set[str] = set()
        self._removed_patients: set[str] = set()
        self._changed_episodes: set[str] = set()
        self._newest_status_at: datetime | None = None

    # -- what comes in -------------------------------------------------------------------------

    def apply_status(self, status: PatientStatus) -> None:
        """The latest status read is the patient's current one, whatever its event time: the
        worker publishes a patient's statuses in the order it assessed them."""
        patient = self.patients.get(status.patient_id)
        if patient is None:
            patient = self.patients[status.patient_id] = _Patient(status, VitalHistory(self.window_minutes))
        patient.status = status
        self.courses.apply_status(status)
        minute = patient.history.record(status.ts, status.latest)
        if minute is not None and (patient.changed_from_minute is None or minute < patient.changed_from_minute):
            patient.changed_from_minute = minute
        self._changed_patients.add(status.patient_id)
        self._removed_patients.discard(status.patient_id)
        if self._newest_status_at is None or status.ts > self._newest_status_at:
            self._newest_status_at = status.ts

    def apply_alert(self, alert: Alert) -> None:
        self.alerts.apply_alert(alert)
        self._changed_episodes.add(alert.episode_id)
        if self.courses.apply_alert(alert):
            self._changed_courses.add(alert.patient_id)

    def apply_ack(self, ack: Acknowledgement) -> None:
        self.alerts.apply_ack(ack)
        self._changed_episodes.add(ack.episode_id)
        if self.courses.apply_ack(ack):
            self._changed_courses.add(ack.patient_id)

    def apply_event(self, event: ClinicalEvent) -> None:
        """A clinical event (therapy, oxygen, vasopressor, drug, discharge): only the patient
        view shows them, as marks on the course."""
        if self.courses.apply_event(event):
            self._changed_courses.add(event.patient_id)

    # -- what goes out -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything a browser needs to draw the ward from nothing."""
        return {
            "type": "snapshot",
            "history_minutes": self.window_minutes,
            "trended": list(TRENDED),
            "patients": [self._describe_patient(patient, patient.history.points) for patient in self.patients.values()],
            "alerts": [self.alerts.describe(episode_id) for episode_id in self.alerts.open],
        }

    def take_delta(self) -> dict[str, Any] | None:
        """What changed since the last call, or None when nothing did; forgets stale patients
        first, so that the delta also carries who left."""
        self._forget_stale()
        if not (self._changed_patients or self._removed_patients or self._changed_episodes or self._changed_courses):
            return None
        patients = []
        for patient_id in self._changed_patients:
            patient = self.patients[patient_id]
            since = patient.changed_from_minute
            points = [] if since is None else patient.history.since(since)
            patients.append(self._describe_patient(patient, points))
            patient.changed_from_minute = None
        alerts, resolved = [], []
        for episode_id in self._changed_episodes:
            if episode_id in self.alerts.open:
                alerts.append(self.alerts.describe(episode_id))
            else:
                resolved.append(episode_id)
        # `courses`: patients whose episodes or clinical events changed; a page showing one of
        # them fetches its course again (vital signs it follows from `patients` itself).
        delta = {
            "type": "delta",
            "patients": patients,
            "removed": sorted(self._removed_patients),
            "alerts": alerts,
            "resolved": resolved,
            "courses": sorted(self._changed_courses),
        }
        self._changed_patients.clear()
        self._removed_patients.clear()
        self._changed_episodes.clear()
        self._changed_courses.clear()
        return delta

    def open_episode(self, episode_id: str) -> Alert | None:
        """The current state of an open episode, for acknowledging it."""
        episode = self.alerts.open.get(episode_id)
        return None if episode is None else episode.alert

    def _describe_patient(self, patient: _Patient, points: list[list]) -> dict[str, Any]:
        tile = describe_status(patient.status)
        tile["points"] = points
        return tile

    def _forget_stale(self) -> None:
        """A patient whose newest status is a whole history window older than the ward's newest
        has left (discharged, moved, or monitoring ended) unless an alert of theirs is open: an
        open alert must stay in front of the nurses until the worker resolves it."""
        if self._newest_status_at is None:
            return
        cutoff = self._newest_status_at - self.history
        with_alerts = {episode.alert.patient_id for episode in self.alerts.open.values()}
        for patient_id in [
            patient_id
            for patient_id, patient in self.patients.items()
            if patient.status.ts < cutoff and patient_id not in with_alerts
        ]:
            del self.patients[patient_id]
            self._changed_patients.discard(patient_id)
            self._removed_patients.add(patient_id)
        # A course outlives its tile: a patient who left may still be reviewed, and after a
        # restart one partition may be read hours ahead of another. It goes with its window.
        self.courses.forget_older_than(self._newest_status_at - self.courses.window)

    def forget_orphan_acks(self, before: datetime) -> None:
        """Drop acknowledgements of episodes that are not open and older than `before`.

        Call it only once the topics have been read to their end: before that, an
        acknowledgement may be waiting for its alert, read later from the other topic.
        """
        self.alerts.forget_acks_before(before)
