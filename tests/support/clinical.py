"""Building contract events for engine tests: a patient, a clock, and short calls per event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.engine import Engine, Outputs
from monitor.wire import Acknowledgement, Alert, PatientStatus, validate_input

START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


class Bedside:
    """One patient's events, sent through the real decoder to an engine, with the outputs kept."""

    def __init__(self, engine: Engine | None = None, patient_id: str = "MRN-000123", start: datetime = START) -> None:
        self.engine = engine or Engine()
        self.patient_id = patient_id
        self.now = start
        self.alerts: list[Alert] = []
        self.statuses: list[PatientStatus] = []

    def at(self, minutes: float) -> datetime:
        return START + timedelta(minutes=minutes)

    def _keep(self, outputs: Outputs) -> Outputs:
        self.alerts.extend(outputs.alerts)
        self.statuses.extend(outputs.statuses)
        return outputs

    def event(self, when: datetime, **fields: Any) -> Outputs:
        document = {"patient_id": self.patient_id, "ts": when.isoformat(), **fields}
        return self._keep(self.engine.observe(validate_input(document)))

    def vitals(self, when: datetime, **measurements: Any) -> Outputs:
        return self.event(when, **measurements)

    def therapy(self, when: datetime, therapy: str = "car-t") -> Outputs:
        return self.event(when, type="therapy", therapy=therapy)

    def oxygen(self, when: datetime, device: str, flow_l_min: float | None = None) -> Outputs:
        extra = {} if flow_l_min is None else {"flow_l_min": flow_l_min}
        return self.event(when, type="oxygen", device=device, **extra)

    def vasopressor(self, when: datetime, count: int, vasopressin: bool = False) -> Outputs:
        return self.event(when, type="vasopressor", count=count, vasopressin=vasopressin)

    def medication(self, when: datetime, drug: str) -> Outputs:
        return self.event(when, type="medication", drug=drug)

    def discharge(self, when: datetime) -> Outputs:
        return self.event(when, type="discharge")

    def acknowledge(self, when: datetime, episode_id: str, by: str = "rn-4411") -> Outputs:
        return self._keep(
            self.engine.observe(Acknowledgement(episode_id=episode_id, patient_id=self.patient_id, ts=when, by=by))
        )

    def advance(self, when: datetime) -> Outputs:
        return self._keep(self.engine.advance_to(when))

    def status(self) -> PatientStatus:
        return self.statuses[-1]

    def firing(self, rule: str | None = None) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing" and rule in (None, a.rule)]
