"""The engine: one event in, the patient's new status and alert state changes out.

The worker and `crsmon replay` both drive this class, so a behaviour proven in replay is the
behaviour in production. It is deterministic in event time: it never reads the clock, and the
publishing shell stamps `emitted_at`.

This is the foundation's minimal engine: fever ≥ 38.0 °C in a patient inside the CRS risk
period fires a `crs` episode, which resolves when a temperature below the threshold is
measured or the patient is discharged. Scores, trends and grading come with the full engine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

import orjson

from monitor.config import EngineConfig
from monitor.wire import (
    Acknowledgement,
    Alert,
    CrsAssessment,
    DischargeEvent,
    InputEvent,
    News2,
    PatientStatus,
    TherapyEvent,
    VitalSigns,
    format_timestamp,
    parse_timestamp,
)

STATE_FORMAT_VERSION = 1
_ALERT_ID_NAMESPACE = uuid.UUID("5b0c7f8e-3f0e-4d53-9f1e-6b1d2f7c9a10")


@dataclass(slots=True)
class Outputs:
    """What one step of the engine produced.

    `durable` is True when the patient's state changed in a way that must survive a crash
    (an episode opened, changed or closed): the worker persists state then, and otherwise only
    on a cadence.
    """

    statuses: list[PatientStatus] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    durable: bool = False

    def extend(self, other: "Outputs") -> None:
        self.statuses.extend(other.statuses)
        self.alerts.extend(other.alerts)
        self.durable = self.durable or other.durable


def alert_id_for(episode_id: str, change: int) -> str:
    """Derived from the episode and its change number, so reprocessing repeats the same id."""
    return str(uuid.uuid5(_ALERT_ID_NAMESPACE, f"{episode_id}#{change}"))


@dataclass(slots=True)
class _Episode:
    episode_id: str
    severity: str
    changes: int = 0
    acknowledged_by: str | None = None


@dataclass(slots=True)
class _Patient:
    patient_id: str
    ward: str | None = None
    bed: str | None = None
    therapy_at: datetime | None = None
    latest: dict[str, float] = field(default_factory=dict)
    last_status_at: datetime | None = None
    last_assessment: tuple | None = None
    crs_episode: _Episode | None = None

    def to_bytes(self) -> bytes:
        episode = self.crs_episode
        body = {
            "patient_id": self.patient_id, "ward": self.ward, "bed": self.bed,
            "therapy_at": format_timestamp(self.therapy_at) if self.therapy_at else None,
            "latest": self.latest,
            "episode": None if episode is None else [
                episode.episode_id, episode.severity, episode.changes, episode.acknowledged_by
            ],
        }
        return bytes([STATE_FORMAT_VERSION]) + orjson.dumps(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> "_Patient":
        if not data or data[0] != STATE_FORMAT_VERSION:
            raise ValueError(f"unknown patient state format {data[:1]!r}")
        body = orjson.loads(data[1:])
        patient = cls(body["patient_id"], body["ward"], body["bed"])
        patient.therapy_at = parse_timestamp(body["therapy_at"]) if body["therapy_at"] else None
        patient.latest = body["latest"]
        if body["episode"]:
            patient.crs_episode = _Episode(*body["episode"])
        return patient


class Engine:
    """Per-patient state plus the rules that turn events into status and alerts."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._patients: dict[str, _Patient] = {}

    # -- state ---------------------------------------------------------------------------
    def patients(self) -> Iterable[str]:
        return self._patients.keys()

    def snapshot(self, patient_id: str) -> bytes | None:
        """The patient's state as bytes (a version byte first), or None if not tracked."""
        patient = self._patients.get(patient_id)
        return None if patient is None else patient.to_bytes()

    def restore(self, patient_id: str, data: bytes) -> None:
        """Adopt state written by `snapshot`, e.g. after a rebalance or restart."""
        self._patients[patient_id] = _Patient.from_bytes(data)

    def forget(self, patient_id: str) -> None:
        self._patients.pop(patient_id, None)

    # -- events --------------------------------------------------------------------------
    def observe(self, event: InputEvent | Acknowledgement) -> Outputs:
        """Apply one contract-valid event in event time."""
        if isinstance(event, Acknowledgement):
            return self._acknowledge(event)
        patient = self._patients.get(event.patient_id)
        if patient is None:
            if isinstance(event, DischargeEvent):
                return Outputs()
            patient = self._patients[event.patient_id] = _Patient(event.patient_id)
        if isinstance(event, VitalSigns):
            return self._observe_vitals(patient, event)
        if isinstance(event, TherapyEvent):
            patient.therapy_at = event.ts
            return Outputs(durable=True)
        if isinstance(event, DischargeEvent):
            outputs = Outputs(durable=True)
            if patient.crs_episode is not None:
                outputs.alerts.append(self._change(patient, "resolved", event.ts, ["discharged"]))
            self.forget(patient.patient_id)
            return outputs
        return Outputs()

    def advance_to(self, now: datetime) -> Outputs:
        """Let event time pass without events. The minimal engine has no timed rules yet."""
        return Outputs()

    # -- rules ---------------------------------------------------------------------------
    def _observe_vitals(self, patient: _Patient, vitals: VitalSigns) -> Outputs:
        patient.ward = vitals.ward or patient.ward
        patient.bed = vitals.bed or patient.bed
        for name, value in vitals.measurements().items():
            if value != 0:  # a 0 is a probe off, not a reading
                patient.latest[name] = value
        outputs = Outputs()
        in_risk_period = self._in_risk_period(patient, vitals.ts)
        temperature = vitals.temperature or None
        fever = temperature is not None and temperature >= self.config.fever_celsius
        if fever and in_risk_period and patient.crs_episode is None:
            patient.crs_episode = _Episode(
                f"{patient.patient_id}:crs:{format_timestamp(vitals.ts)}", "medium"
            )
            outputs.alerts.append(self._change(
                patient, "firing", vitals.ts,
                [f"temperature {temperature:.1f} °C >= {self.config.fever_celsius:.1f}"],
            ))
        elif temperature is not None and not fever and patient.crs_episode is not None:
            outputs.alerts.append(self._change(
                patient, "resolved", vitals.ts,
                [f"temperature {temperature:.1f} °C < {self.config.fever_celsius:.1f}"],
            ))
            patient.crs_episode = None
        outputs.durable = bool(outputs.alerts)
        status = self._status(patient, vitals.ts, fever, in_risk_period)
        if status is not None:
            outputs.statuses.append(status)
        return outputs

    def _in_risk_period(self, patient: _Patient, at: datetime) -> bool:
        if patient.therapy_at is None:
            return False
        return timedelta(0) <= at - patient.therapy_at <= timedelta(days=self.config.risk_period_days)

    def _change(self, patient: _Patient, status: str, at: datetime, reasons: list[str]) -> Alert:
        episode = patient.crs_episode
        assert episode is not None
        episode.changes += 1
        return Alert(
            alert_id=alert_id_for(episode.episode_id, episode.changes),
            episode_id=episode.episode_id, patient_id=patient.patient_id,
            ward=patient.ward, bed=patient.bed, status=status, severity=episode.severity,
            rule="crs", crs_grade=1, news2_score=None, reasons=reasons, observed_at=at,
        )

    def _status(self, patient: _Patient, at: datetime, fever: bool, risk: bool) -> PatientStatus | None:
        assessment = (fever, risk)
        due = (
            patient.last_status_at is None
            or assessment != patient.last_assessment
            or (at - patient.last_status_at).total_seconds() >= self.config.status_interval_s
        )
        if not due:
            return None
        patient.last_status_at = at
        patient.last_assessment = assessment
        return PatientStatus(
            patient_id=patient.patient_id, ward=patient.ward, bed=patient.bed, ts=at,
            news2=News2(score=0, band="low", complete=False, components={}),
            crs=CrsAssessment(
                grade=1 if fever and risk else 0, fever=fever, hypotension=False,
                hypoxia=False, risk_period=risk,
            ),
            latest=dict(patient.latest),
        )

    def _acknowledge(self, ack: Acknowledgement) -> Outputs:
        patient = self._patients.get(ack.patient_id)
        if patient and patient.crs_episode and patient.crs_episode.episode_id == ack.episode_id:
            patient.crs_episode.acknowledged_by = ack.by
            return Outputs(durable=True)
        return Outputs()
