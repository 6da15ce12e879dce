"""One patient's course gathered from the engine's inputs and outputs, ready to draw.

Kept apart from the drawing so that what the report is made of (which readings, which episode
went from when to when at which severity, which clinical event) can be checked without
matplotlib, and so that `crsmon validate` can hand in the events and outputs it already holds.

Vital signs are drawn as measured (the VitalSigns inputs), not as the engine last knew them: a
case review wants the cuff reading at 14:32, not the status that carried it for an hour. When
only outputs are given (a saved run without its inputs), the statuses' `latest` values stand in.
A value of exactly 0 is the contract's "probe off / signal lost": a gap, never a reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from monitor.catalogue import CATALOGUE
from monitor.wire import Acknowledgement, Alert, PatientStatus, VitalSigns

#: The vital signs a report draws, in the catalogue's display order.
SIGNS: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE.in_display_order("vital_sign"))

Output = PatientStatus | Alert | Acknowledgement


@dataclass(slots=True)
class Segment:
    """A stretch of an episode at one severity."""

    start: datetime
    end: datetime
    severity: str


@dataclass(slots=True)
class Episode:
    episode_id: str
    rule: str
    changes: list[Alert] = field(default_factory=list)
    acks: list[Acknowledgement] = field(default_factory=list)

    @property
    def opened_at(self) -> datetime:
        return self.changes[0].observed_at

    @property
    def resolved_at(self) -> datetime | None:
        last = self.changes[-1]
        return last.observed_at if last.status == "resolved" else None

    def segments(self, until: datetime) -> list[Segment]:
        """Severity stretches from firing to resolution (or `until`, the end of the data)."""
        live = [change for change in self.changes if change.status != "resolved"]
        end = self.resolved_at or until
        return [
            Segment(change.observed_at, live[index + 1].observed_at if index + 1 < len(live) else end, change.severity)
            for index, change in enumerate(live)
        ]


@dataclass(slots=True)
class CaseCourse:
    """What a case report draws, all of one patient."""

    patient_id: str
    ward: str | None
    bed: str | None
    start: datetime
    end: datetime
    vitals: dict[str, tuple[list[datetime], list[float | None]]]
    statuses: list[PatientStatus]
    episodes: list[Episode]
    events: list[Any]  # ClinicalEvent models, in time order, but for labs and neuro assessments
    therapy: Any | None  # the latest therapy event at or before the end: day 0
    #: Lab results and bedside neurological assessments, in time order: lanes of their own, as on
    #: the dashboard, rather than lines through every panel (a panel of 13 tests would be 13 lines).
    labs: list[Any] = field(default_factory=list)
    neuro: list[Any] = field(default_factory=list)


def build_course(events: Iterable[Any], outputs: Iterable[Output], patient_id: str | None = None) -> CaseCourse:
    """Gather one patient's course; `patient_id` None takes the only patient in the input."""
    events = list(events)
    outputs = list(outputs)
    if patient_id is None:
        found = {item.patient_id for item in [*events, *outputs]}
        if len(found) != 1:
            raise ValueError(f"name the patient: the input holds {len(found)} patients")
        patient_id = found.pop()
    events = sorted((event for event in events if event.patient_id == patient_id), key=lambda item: item.ts)
    outputs = [item for item in outputs if item.patient_id == patient_id]
    vitals_in = [event for event in events if isinstance(event, VitalSigns)]
    clinical = [
        event
        for event in events
        if not isinstance(event, VitalSigns) and getattr(event, "type", None) not in ("lab", "neuro")
    ]
    labs = [event for event in events if getattr(event, "type", None) == "lab"]
    neuro = [event for event in events if getattr(event, "type", None) == "neuro"]
    statuses = sorted((item for item in outputs if isinstance(item, PatientStatus)), key=lambda item: item.ts)
    alerts = sorted((item for item in outputs if isinstance(item, Alert)), key=lambda item: item.observed_at)
    acks = [item for item in outputs if isinstance(item, Acknowledgement)]
    # A therapy given days before the data would stretch the page over empty days: the page
    # starts at the data, and at day 0 only when it is at most 12 hours earlier.
    # (The engine also reports a status at the therapy itself: not the start of the data either.)
    times = [
        item.ts for item in [*events, *([] if vitals_in else statuses)] if getattr(item, "type", None) != "therapy"
    ]
    times += [alert.observed_at for alert in alerts]
    if not times:
        raise ValueError(f"nothing about patient {patient_id} in the input")

    vitals: dict[str, tuple[list[datetime], list[float | None]]] = {}
    source = vitals_in or statuses
    for sign in SIGNS:
        xs, ys = [], []
        for item in source:
            value = getattr(item, sign) if isinstance(item, VitalSigns) else item.latest.get(sign)
            if value is None:
                continue
            xs.append(item.ts)
            ys.append(None if value == 0 else float(value))
        vitals[sign] = (xs, ys)

    episodes: dict[str, Episode] = {}
    for alert in alerts:
        episode = episodes.setdefault(alert.episode_id, Episode(alert.episode_id, alert.rule))
        if all(change.alert_id != alert.alert_id for change in episode.changes):
            episode.changes.append(alert)
    for ack in sorted(acks, key=lambda item: item.ts):
        if ack.episode_id in episodes:
            episodes[ack.episode_id].acks.append(ack)

    start, end = min(times), max(times)
    therapies = [event for event in clinical if event.type == "therapy" and event.ts <= end]
    if therapies and start - timedelta(hours=12) <= therapies[-1].ts < start:
        start = therapies[-1].ts
    newest_first: list[PatientStatus | VitalSigns | Alert] = [
        *reversed(statuses),
        *reversed(vitals_in),
        *reversed(alerts),
    ]
    located = next((item for item in newest_first if getattr(item, "ward", None)), None)
    return CaseCourse(
        patient_id=patient_id,
        ward=located.ward if located else None,
        bed=located.bed if located else None,
        start=start,
        end=end,
        vitals=vitals,
        statuses=statuses,
        episodes=sorted(episodes.values(), key=lambda episode: episode.opened_at),
        events=clinical,
        therapy=therapies[-1] if therapies else None,
        labs=labs,
        neuro=neuro,
    )
