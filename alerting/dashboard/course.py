"""One patient's course, as the patient view draws it: every vital sign, NEWS2 and the CRS grade
minute by minute, the alert episodes with their changes and acknowledgements, and the clinical
events (therapy, oxygen, vasopressors, drugs, discharge).

Why a store of its own rather than the tiles' history: a tile needs four signs over six hours,
the patient view needs ten series over a day by default and the whole 14-day risk period on
request. Kept as Python lists of floats (as the tiles' history is) 14 days of one patient would
cost several megabytes; here each series is a column of 16-bit integers in tenths (0.1 °C,
0.1 /min, 0.1 mmHg, 0.1 %), one row per minute: 24 bytes a minute with the minute itself,
34 KB a day, 0.48 MB for 14 days. Tenths are the precision every sign is shown with.

A row holds the last value of each sign seen in its minute, as the tiles' history does; a value
of exactly 0 (probe off, signal lost, per the contract) is a gap, never a reading.

Labs and neurological assessments arrive hours apart, not every minute: a minute column for
each of 13 tests would be almost all MISSING. They are kept as lists of the events themselves
(`type: lab`, `type: neuro` from `clinical-events`), and the ICANS grade as the list of its
changes read from the statuses: all bounded by the same window, and by a count as well, so that
a flood of one patient's results cannot grow the dashboard without end.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from monitor.catalogue import CATALOGUE
from monitor.wire import (
    Acknowledgement,
    Alert,
    ClinicalEvent,
    IcansAssessment,
    PatientStatus,
    format_timestamp,
)

#: The vital signs of the course, in the order the page draws them.
COURSE_SIGNS: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE.in_display_order("vital_sign"))
NEWS2_BANDS: tuple[str, ...] = ("low", "low_medium", "medium", "high")
#: Every column of a course: the signs, then NEWS2 (score and band index) and the CRS grade.
SERIES: tuple[str, ...] = (*COURSE_SIGNS, "news2", "news2_band", "crs_grade")

MISSING = -32768  # no value in this minute
_MISSING = MISSING
TENTHS = 10
_TENTHS = TENTHS
_TRIM_SLACK_MINUTES = 60  # trim the front once an hour, not at every minute
_BYTES_PER_ROW = 4 + 2 * len(SERIES)
#: At most this many lab results and neurological assessments per patient (13 tests hourly for
#: 14 days are 4,368; a ward draws far fewer). Past it the oldest go first.
MAX_LABS = 5000
MAX_NEURO = 2000
#: The ICANS grade's changes kept per patient (a grade changes a few times a day at most).
MAX_ICANS_CHANGES = 2000
#: Event types drawn in lanes of their own rather than as marks through every panel.
LANE_EVENT_TYPES = ("lab", "neuro")


def _minute(ts: datetime) -> int:
    return int(ts.timestamp() // 60)


def _parse(stamp: str) -> datetime:
    """A timestamp as the course keeps it (the wire's RFC 3339 with a `Z`)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _at_minute(minute: int) -> str:
    return format_timestamp(datetime.fromtimestamp(minute * 60, timezone.utc))


def _row_of(status: PatientStatus) -> list[int]:
    latest = status.latest
    row = []
    for name in COURSE_SIGNS:
        value = latest.get(name)
        row.append(_MISSING if value is None or value == 0 else round(value * _TENTHS))
    row.append(status.news2.score * _TENTHS)
    row.append(NEWS2_BANDS.index(status.news2.band) * _TENTHS)
    row.append(status.crs.grade * _TENTHS)
    return row


class VitalCourse:
    """Minute rows over a sliding window that ends at the newest row."""

    def __init__(self, window_minutes: int) -> None:
        self.window_minutes = window_minutes
        self.minutes = array("i")
        self.columns = [array("h") for _ in SERIES]

    def record(self, status: PatientStatus) -> None:
        """Fold a status into its minute: later values in a minute replace earlier ones, signs
        a status does not carry keep the value they had in that minute."""
        minute = _minute(status.ts)
        if self.minutes and minute <= self.minutes[-1] - self.window_minutes:
            return  # older than the window: a late message from a partition read after a restart
        row = _row_of(status)
        if self.minutes and self.minutes[-1] == minute:
            index = len(self.minutes) - 1
        elif not self.minutes or minute > self.minutes[-1]:
            self.minutes.append(minute)
            for column, value in zip(self.columns, row):
                column.append(value)
            self._trim()
            return
        else:
            index = bisect_left(self.minutes, minute)
            if index == len(self.minutes) or self.minutes[index] != minute:
                self.minutes.insert(index, minute)
                for column in self.columns:
                    column.insert(index, _MISSING)
        for column, value in zip(self.columns, row):
            if value != _MISSING:
                column[index] = value

    def since(self, first_minute: int) -> tuple[list[int], dict[str, list[int]]]:
        """The minutes from `first_minute` on, and each series over them in tenths, MISSING
        where the minute has no value: 14 days are 200,000 numbers, and `tolist()` of the
        stored integers is what keeps opening them under the patient view's 300 ms."""
        start = bisect_left(self.minutes, first_minute)
        values = {name: column[start:].tolist() for name, column in zip(SERIES, self.columns)}
        return self.minutes[start:].tolist(), values

    @property
    def newest_minute(self) -> int | None:
        return self.minutes[-1] if self.minutes else None

    @property
    def nbytes(self) -> int:
        """What the rows take (the arrays' buffers): what grows with the window."""
        return len(self.minutes) * _BYTES_PER_ROW

    def _trim(self) -> None:
        oldest_kept = self.minutes[-1] - self.window_minutes + 1
        if self.minutes[0] >= oldest_kept - _TRIM_SLACK_MINUTES:
            return
        cut = bisect_left(self.minutes, oldest_kept)
        del self.minutes[:cut]
        for column in self.columns:
            del column[:cut]


@dataclass(slots=True)
class EpisodeTrace:
    """Every state change of one alert episode and every acknowledgement of it."""

    episode_id: str
    rule: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    last_at: datetime | None = None
    resolved: bool = False

    def add_change(self, alert: Alert) -> bool:
        if any(change["alert_id"] == alert.alert_id for change in self.changes):
            return False  # at-least-once delivery: the same change read twice
        self.changes.append(
            {
                "alert_id": alert.alert_id,
                "status": alert.status,
                "severity": alert.severity,
                "at": format_timestamp(alert.observed_at),
                "crs_grade": alert.crs_grade,
                "news2_score": alert.news2_score,
                "reasons": list(alert.reasons),
            }
        )
        self.changes.sort(key=lambda change: change["at"])
        self.resolved = self.resolved or alert.status == "resolved"
        if self.last_at is None or alert.observed_at > self.last_at:
            self.last_at = alert.observed_at
        return True

    def add_ack(self, ack: Acknowledgement) -> bool:
        entry = {"by": ack.by, "at": format_timestamp(ack.ts)}
        if entry in self.acks:
            return False
        self.acks.append(entry)
        self.acks.sort(key=lambda item: item["at"])
        return True

    def describe(self) -> dict[str, Any]:
        first = self.changes[0] if self.changes else None
        return {
            "episode_id": self.episode_id,
            "rule": self.rule,
            "opened_at": first["at"] if first else None,
            "resolved_at": self.changes[-1]["at"] if self.resolved else None,
            "changes": self.changes,
            "acks": self.acks,
        }


@dataclass(slots=True)
class PatientCourse:
    vitals: VitalCourse
    episodes: dict[str, EpisodeTrace] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    therapy: dict[str, Any] | None = None  # the latest therapy event: day 0, kept whatever its age
    labs: list[dict[str, Any]] = field(default_factory=list)  # {ts, test, value, unit}, in time order
    neuro: list[dict[str, Any]] = field(default_factory=list)  # the neuro events as sent, in time order
    icans: list[dict[str, Any]] = field(default_factory=list)  # {at, grade, ice}: each change of the grade
    status: PatientStatus | None = None
    newest_at: datetime | None = None

    def touch(self, at: datetime) -> None:
        if self.newest_at is None or at > self.newest_at:
            self.newest_at = at


class CourseBook:
    """The course of every patient the dashboard follows, bounded by a window of event time."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.window_minutes = max(1, int(window.total_seconds() // 60))
        self.patients: dict[str, PatientCourse] = {}
        self._pending_acks: dict[str, list[Acknowledgement]] = {}

    def _patient(self, patient_id: str) -> PatientCourse:
        course = self.patients.get(patient_id)
        if course is None:
            course = self.patients[patient_id] = PatientCourse(VitalCourse(self.window_minutes))
        return course

    # -- what comes in -------------------------------------------------------------------------

    def apply_status(self, status: PatientStatus) -> None:
        course = self._patient(status.patient_id)
        course.vitals.record(status)
        if course.status is None or status.ts >= course.status.ts:
            course.status = status
        if status.icans is not None:
            _record_icans(course.icans, format_timestamp(status.ts), status.icans)
        course.touch(status.ts)

    def apply_alert(self, alert: Alert) -> bool:
        """True when the patient's episodes changed (the page then asks for the course again)."""
        course = self._patient(alert.patient_id)
        trace = course.episodes.get(alert.episode_id)
        if trace is None:
            trace = course.episodes[alert.episode_id] = EpisodeTrace(alert.episode_id, alert.rule)
            for ack in self._pending_acks.pop(alert.episode_id, []):
                trace.add_ack(ack)
        course.touch(alert.observed_at)
        changed = trace.add_change(alert)
        self._prune(course)
        return changed

    def apply_ack(self, ack: Acknowledgement) -> bool:
        course = self.patients.get(ack.patient_id)
        trace = course.episodes.get(ack.episode_id) if course else None
        if trace is None:
            # `alert-acks` and `alerts` are separate topics: the ack may be read first.
            pending = self._pending_acks.setdefault(ack.episode_id, [])
            if len(pending) < 8:
                pending.append(ack)
            return False
        return trace.add_ack(ack)

    def apply_event(self, event: ClinicalEvent) -> bool:
        course = self._patient(event.patient_id)
        if event.type == "lab":
            described = {"ts": format_timestamp(event.ts), "test": event.test, "value": event.value, "unit": event.unit}
            if not _insert_once(course.labs, described, MAX_LABS):
                return False
        elif event.type == "neuro":
            described = event.model_dump(mode="json", exclude_none=True, exclude={"patient_id", "type"})
            if not _insert_once(course.neuro, described, MAX_NEURO):
                return False
        else:
            described = event.model_dump(mode="json", exclude_none=True)
            if described in course.events:
                return False
            course.events.append(described)
            course.events.sort(key=lambda item: item["ts"])
        if event.type == "therapy" and (course.therapy is None or described["ts"] >= course.therapy["ts"]):
            course.therapy = described
        course.touch(event.ts)
        self._prune(course)
        return True

    def forget(self, patient_id: str) -> None:
        self.patients.pop(patient_id, None)

    def forget_older_than(self, cutoff: datetime) -> None:
        """Drop patients of whom nothing newer than `cutoff` was read, and acknowledgements that
        never found their episode: the book's memory follows the ward, not the topics' length."""
        for patient_id in [
            patient_id
            for patient_id, course in self.patients.items()
            if course.newest_at is None or course.newest_at < cutoff
        ]:
            del self.patients[patient_id]
        for episode_id in [
            episode_id for episode_id, acks in self._pending_acks.items() if all(ack.ts < cutoff for ack in acks)
        ]:
            del self._pending_acks[episode_id]

    def _prune(self, course: PatientCourse) -> None:
        if course.newest_at is None:
            return
        cutoff = course.newest_at - self.window
        stamp = format_timestamp(cutoff)
        if course.events and course.events[0]["ts"] < stamp:
            course.events = [event for event in course.events if event["ts"] >= stamp]
        for kept in (course.labs, course.neuro):
            if kept and kept[0]["ts"] < stamp:
                del kept[: bisect_left(kept, stamp, key=_ts)]
        # The grade in force at the cutoff stays: it is the band's first colour.
        in_force = bisect_right(course.icans, stamp, key=lambda change: change["at"]) - 1
        if in_force > 0:
            del course.icans[:in_force]
        for episode_id in [
            episode_id
            for episode_id, trace in course.episodes.items()
            if trace.resolved and trace.last_at is not None and trace.last_at < cutoff
        ]:
            del course.episodes[episode_id]

    # -- what goes out -------------------------------------------------------------------------

    def course(self, patient_id: str, hours: float | None) -> dict[str, Any] | None:
        """The course over the last `hours` (of event time, ending at the newest row), or with
        `hours` None the whole risk period: from the latest therapy (day 0) on, as far as the
        window keeps it. None for a patient the dashboard does not know."""
        course = self.patients.get(patient_id)
        if course is None:
            return None
        newest = course.vitals.newest_minute
        if newest is None:
            newest = _minute(course.newest_at) if course.newest_at else 0
        latest_events = [kept[-1]["ts"] for kept in (course.events, course.labs, course.neuro) if kept]
        latest_events.extend(trace.acks[-1]["at"] for trace in course.episodes.values() if trace.acks)
        if latest_events:
            # The course ends at its newest event when that is newer than the newest status: an
            # assessment or a lab result charted between a patient's hourly observations, a
            # discharge after the last status, or an acknowledgement made at the bedside minutes
            # after it, is drawn when it is read, not with the next status (an hour later).
            newest = max(newest, _minute(_parse(max(latest_events))))
        if hours is None:
            first = newest - self.window_minutes + 1
            if course.therapy is not None:
                therapy_minute = _minute(_parse(course.therapy["ts"]))
                first = max(first, therapy_minute)
        else:
            first = newest - max(1, int(hours * 60)) + 1
        minutes, values = course.vitals.since(first)
        first_stamp = _at_minute(first)
        events = [event for event in course.events if event["ts"] >= first_stamp]
        labs = [lab for lab in course.labs if lab["ts"] >= first_stamp]
        neuro = [assessment for assessment in course.neuro if assessment["ts"] >= first_stamp]
        # The ICANS grade from the change in force at the span's start on.
        icans = [change for change in course.icans if change["at"] >= first_stamp]
        earlier = [change for change in course.icans if change["at"] < first_stamp]
        if earlier:
            icans.insert(0, {**earlier[-1], "at": first_stamp})
        episodes = [
            trace.describe()
            for trace in course.episodes.values()
            if trace.last_at is None
            or trace.last_at >= datetime.fromtimestamp(first * 60, timezone.utc)
            or not trace.resolved
        ]
        episodes.sort(key=lambda episode: episode["opened_at"] or "")
        return {
            "patient_id": patient_id,
            "status": course.status.model_dump(mode="json") if course.status else None,
            "from": first_stamp,
            "to": _at_minute(newest + 1),
            "hours": hours,
            "kept_hours": self.window_minutes / 60,
            "therapy": course.therapy,
            "series": list(SERIES),
            "news2_bands": list(NEWS2_BANDS),
            "minutes": minutes,
            "values": values,
            "scale": TENTHS,
            "missing": MISSING,
            "events": events,
            "episodes": episodes,
            "labs": labs,
            "lab_previous": _previous_labs(course),
            "neuro": neuro,
            "icans": icans,
        }

    @property
    def nbytes(self) -> int:
        """Bytes held by the minute rows of every patient (the part that grows with time)."""
        return sum(course.vitals.nbytes for course in self.patients.values())

    def patient_ids(self) -> Iterable[str]:
        return self.patients.keys()


def _insert_once(kept: list[dict[str, Any]], item: dict[str, Any], limit: int) -> bool:
    """Put `item` into `kept` in time order unless it is there already (at-least-once delivery);
    past `limit` the oldest goes. False when it was a repeat."""
    if not kept or item["ts"] > kept[-1]["ts"]:
        kept.append(item)  # the usual case: results arrive in time order
    else:
        index = bisect_left(kept, item["ts"], key=_ts)
        while index < len(kept) and kept[index]["ts"] == item["ts"]:
            if kept[index] == item:
                return False
            index += 1
        kept.insert(index, item)
    if len(kept) > limit:
        del kept[: len(kept) - limit]
    return True


def _ts(entry: dict[str, Any]) -> str:
    return entry["ts"]


def _record_icans(changes: list[dict[str, Any]], at: str, icans: IcansAssessment) -> None:
    """Keep a status's ICANS grade (and ICE) when it differs from the one in force before it.
    Statuses of one patient arrive in order (one partition); an older one, read late, is ignored."""
    if changes and at < changes[-1]["at"]:
        return
    if changes and (changes[-1]["grade"], changes[-1].get("ice")) == (icans.grade, icans.ice):
        return
    changes.append({"at": at, "grade": icans.grade, "ice": icans.ice})
    if len(changes) > MAX_ICANS_CHANGES:
        del changes[: len(changes) - MAX_ICANS_CHANGES]


def _previous_labs(course: PatientCourse) -> dict[str, dict[str, Any]]:
    """For each test, the result before the latest one, the trend mark's comparison: the latest
    is the status's (what the engine holds in force), else the newest result kept here."""
    latest_at: dict[str, str] = {}
    if course.status is not None and course.status.labs:
        latest_at = {test: format_timestamp(lab.at) for test, lab in course.status.labs.items()}
    previous: dict[str, dict[str, Any]] = {}
    newest: dict[str, dict[str, Any]] = {}
    for lab in course.labs:  # in time order: the last one written wins
        test = lab["test"]
        if test in latest_at:
            if lab["ts"] < latest_at[test]:
                previous[test] = {"value": lab["value"], "at": lab["ts"]}
        else:
            if test in newest:
                previous[test] = {"value": newest[test]["value"], "at": newest[test]["ts"]}
            newest[test] = lab
    return previous
