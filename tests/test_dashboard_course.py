"""What the patient view is sent about one patient's course, without broker or browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerting.dashboard.course import MISSING, SERIES, CourseBook
from alerting.dashboard.ward_view import WardView
from monitor.wire import Acknowledgement, Alert, PatientStatus, validate_input

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def status(
    at: datetime, *, score: int = 1, band: str = "low", grade: int = 0, patient_id: str = "MRN-1", **latest: float
) -> PatientStatus:
    return PatientStatus(
        patient_id=patient_id,
        ward="5-West",
        bed="12",
        ts=at,
        news2={"score": score, "band": band, "complete": True, "components": {}},
        crs={"grade": grade, "fever": grade > 0, "hypotension": False, "hypoxia": False, "risk_period": True},
        latest=latest or {"temperature": 37.0},
    )


def alert(change: str, severity: str, at: datetime, episode: str = "MRN-1:crs:x") -> Alert:
    return Alert(
        alert_id=f"{episode}#{change}#{severity}",
        episode_id=episode,
        patient_id="MRN-1",
        status=change,
        severity=severity,
        rule="crs",
        crs_grade=2,
        news2_score=6,
        reasons=[f"reason of {change}"],
        observed_at=at,
        emitted_at=at,
    )


def event(at: datetime, **fields) -> object:
    return validate_input({"patient_id": "MRN-1", "ts": at.isoformat().replace("+00:00", "Z"), **fields})


def test_every_sign_news2_and_grade_are_kept_per_minute_and_zero_is_a_gap() -> None:
    book = CourseBook(timedelta(hours=24))
    book.apply_status(
        status(
            T0,
            temperature=38.4,
            heart_rate=112,
            systolic_bp=88,
            diastolic_bp=55,
            mean_arterial_pressure=66,
            spo2=0,
            respiratory_rate=24,
            score=7,
            band="high",
            grade=2,
        )
    )
    book.apply_status(status(T0 + timedelta(seconds=30), heart_rate=118))  # same minute: HR only
    book.apply_status(status(T0 + MINUTE, temperature=38.9, spo2=95))
    course = book.course("MRN-1", 24)
    # sent in tenths, MISSING for no value: the page divides
    values = {
        name: [None if raw == MISSING else raw / course["scale"] for raw in column]
        for name, column in course["values"].items()
    }
    assert course["minutes"] == [int(T0.timestamp()) // 60, int(T0.timestamp()) // 60 + 1]
    assert values["temperature"] == [38.4, 38.9]
    assert values["heart_rate"] == [118, None]
    assert values["systolic_bp"][0] == 88 and values["diastolic_bp"][0] == 55
    assert values["mean_arterial_pressure"][0] == 66 and values["respiratory_rate"][0] == 24
    assert values["spo2"] == [None, 95]  # 0 is "probe off", never a reading
    assert values["news2"][0] == 1 and values["crs_grade"][0] == 0  # the last status of the minute wins
    assert course["news2_bands"][int(values["news2_band"][1])] == "low"
    assert set(values) == set(SERIES)


def test_the_default_span_is_the_last_hours_asked_and_all_starts_at_day_0() -> None:
    book = CourseBook(timedelta(days=14))
    book.apply_event(event(T0, type="therapy", therapy="car-t"))
    for hour in range(0, 72):
        book.apply_status(status(T0 + timedelta(hours=hour, minutes=30), temperature=37.0 + hour / 100))
    day = book.course("MRN-1", 24)
    assert len(day["minutes"]) == 24  # one status an hour: 24 rows in the last 24 h
    whole = book.course("MRN-1", None)
    assert len(whole["minutes"]) == 72
    assert whole["from"] == "2026-11-23T12:00:00Z" and whole["therapy"]["therapy"] == "car-t"
    assert book.course("MRN-2", 24) is None


def test_rows_older_than_the_window_are_dropped_and_memory_is_24_bytes_a_minute() -> None:
    book = CourseBook(timedelta(hours=24))
    for minute in range(0, 3 * 24 * 60):
        book.apply_status(status(T0 + minute * MINUTE, heart_rate=80))
    rows = len(book.patients["MRN-1"].vitals.minutes)
    assert 24 * 60 <= rows <= 25 * 60  # the front is trimmed once an hour
    assert book.nbytes == rows * 24


def test_an_episode_keeps_its_changes_reasons_and_who_acknowledged_in_any_order_of_arrival() -> None:
    view = WardView(timedelta(hours=6))
    view.apply_status(status(T0))
    view.apply_ack(
        Acknowledgement(
            episode_id="MRN-1:crs:x", patient_id="MRN-1", ts=T0 + 3 * MINUTE, by="rn-4411", source="dashboard"
        )
    )  # read before its alert
    view.apply_alert(alert("firing", "high", T0 + MINUTE))
    view.apply_alert(alert("firing", "high", T0 + MINUTE))  # delivered twice
    view.apply_alert(alert("updated", "critical", T0 + 5 * MINUTE))
    assert view.take_delta()["courses"] == ["MRN-1"]
    view.apply_alert(alert("resolved", "critical", T0 + 30 * MINUTE))
    assert view.take_delta()["courses"] == ["MRN-1"]
    [episode] = view.courses.course("MRN-1", 24)["episodes"]
    assert [change["status"] for change in episode["changes"]] == ["firing", "updated", "resolved"]
    assert episode["changes"][1]["reasons"] == ["reason of updated"]
    assert episode["acks"] == [{"by": "rn-4411", "at": "2026-11-23T12:03:00Z"}]
    assert (episode["opened_at"], episode["resolved_at"]) == ("2026-11-23T12:01:00Z", "2026-11-23T12:30:00Z")


def test_clinical_events_are_marks_in_time_order_once_each() -> None:
    view = WardView(timedelta(hours=6))
    view.apply_status(status(T0))
    for fields, minutes in (
        ({"type": "medication", "drug": "tocilizumab"}, 20),
        ({"type": "oxygen", "device": "nasal_cannula", "flow_l_min": 4}, 10),
        ({"type": "oxygen", "device": "nasal_cannula", "flow_l_min": 4}, 10),
        ({"type": "discharge"}, 40),
    ):
        view.apply_event(event(T0 + minutes * MINUTE, **fields))
    assert view.take_delta()["courses"] == ["MRN-1"]
    events = view.courses.course("MRN-1", 24)["events"]
    assert [e["type"] for e in events] == ["oxygen", "medication", "discharge"]
    assert events[0]["flow_l_min"] == 4 and events[1]["drug"] == "tocilizumab"


def test_a_clinical_event_newer_than_the_newest_status_ends_the_course_so_it_is_drawn() -> None:
    """The page draws the marks between `from` and `to`: a bedside assessment charted 40 minutes
    after a patient's last (hourly) observation must be inside them at once."""
    book = CourseBook(timedelta(hours=24))
    book.apply_status(status(T0))
    assert book.course("MRN-1", 24)["to"] == "2026-11-23T12:01:00Z"  # the end of the status's minute
    book.apply_event(event(T0 + 40 * MINUTE + timedelta(seconds=5), type="neuro", ice=8, by="rn-4411"))
    course = book.course("MRN-1", 24)
    assert course["to"] == "2026-11-23T12:41:00Z"
    assert course["from"] == "2026-11-22T12:41:00Z"  # still the last 24 h, now ending there
    assert [(e["ice"], e["by"]) for e in course["neuro"]] == [(8, "rn-4411")]  # the ICANS lane's
    assert len(course["minutes"]) == 1  # the rows are the statuses' own: no row is made up
    book.apply_event(event(T0 - 30 * MINUTE, type="oxygen", device="nasal_cannula"))  # older: no change
    assert book.course("MRN-1", 24)["to"] == "2026-11-23T12:41:00Z"


def test_an_acknowledgement_after_the_newest_status_ends_the_course_so_its_mark_is_drawn() -> None:
    """A nurse acknowledges minutes after a patient's last (hourly) observation: the page draws
    the mark only between `from` and `to`, so the course must reach the acknowledgement."""
    view = WardView(timedelta(hours=6))
    view.apply_status(status(T0))
    view.apply_alert(alert("firing", "high", T0))
    view.take_delta()
    acked_at = T0 + 17 * MINUTE + timedelta(seconds=40)
    view.apply_ack(
        Acknowledgement(episode_id="MRN-1:crs:x", patient_id="MRN-1", ts=acked_at, by="rn-4411", source="dashboard")
    )
    assert view.take_delta()["courses"] == ["MRN-1"]
    course = view.courses.course("MRN-1", 24)
    [episode] = course["episodes"]
    assert episode["acks"] == [{"by": "rn-4411", "at": "2026-11-23T12:17:40Z"}]
    assert course["from"] < episode["acks"][0]["at"] < course["to"] == "2026-11-23T12:18:00Z"
    assert len(course["minutes"]) == 1  # no row is made up for it


def test_a_course_outlives_its_tile_and_leaves_with_the_course_window() -> None:
    view = WardView(timedelta(hours=6), timedelta(hours=24))
    view.apply_status(status(T0, patient_id="MRN-1"))
    view.apply_status(status(T0 + timedelta(hours=7), patient_id="MRN-2"))
    assert view.take_delta()["removed"] == ["MRN-1"]  # the tile leaves after 6 h without a status
    assert sorted(view.courses.patient_ids()) == ["MRN-1", "MRN-2"]  # the course stays for review
    view.apply_status(status(T0 + timedelta(hours=25), patient_id="MRN-2"))
    view.take_delta()
    assert list(view.courses.patient_ids()) == ["MRN-2"]


@pytest.mark.parametrize("hours", [24, None])
def test_an_unknown_span_returns_only_what_is_kept(hours) -> None:
    book = CourseBook(timedelta(hours=2))
    for minute in range(0, 5 * 60):
        book.apply_status(status(T0 + minute * MINUTE))
    assert len(book.course("MRN-1", hours)["minutes"]) <= 3 * 60


def lab_status(at: datetime, labs: dict[str, tuple[float, str, datetime]], icans: dict | None = None) -> PatientStatus:
    return PatientStatus.model_validate(
        {
            **status(at).model_dump(),
            "labs": {test: {"value": value, "unit": unit, "at": when} for test, (value, unit, when) in labs.items()},
            "icans": icans,
        }
    )


def test_lab_results_are_kept_apart_from_the_marks_once_each_and_the_previous_one_is_the_trends() -> None:
    view = WardView(timedelta(hours=6))
    view.apply_status(status(T0))
    for minutes, test, value, unit in (
        (0, "creatinine", 88.4, "umol/L"),
        (240, "creatinine", 1.6, "mg/dL"),
        (240, "creatinine", 1.6, "mg/dL"),  # delivered twice
        (120, "platelets", 90, "10*9/L"),
        (480, "creatinine", 2.1, "mg/dL"),
    ):
        view.apply_event(event(T0 + minutes * MINUTE, type="lab", test=test, value=value, unit=unit))
    assert view.take_delta()["courses"] == ["MRN-1"]
    course = view.courses.course("MRN-1", 24)
    assert course["events"] == []  # no mark through every panel: a lane of their own
    assert [(lab["test"], lab["value"], lab["unit"]) for lab in course["labs"]] == [
        ("creatinine", 1.0, "mg/dL"),
        ("platelets", 90, "10^9/L"),
        ("creatinine", 1.6, "mg/dL"),
        ("creatinine", 2.1, "mg/dL"),
    ]  # 88.4 µmol/L is 1.0 mg/dL: in the canonical unit, once each
    # Without labs in the status, the trend compares the newest two results kept.
    assert course["lab_previous"] == {"creatinine": {"value": 1.6, "at": "2026-11-23T16:00:00Z"}}

    # The engine's status says which result is in force: here it has not yet read the 2.1.
    view.apply_status(
        lab_status(
            T0 + 300 * MINUTE,
            {"creatinine": (1.6, "mg/dL", T0 + 240 * MINUTE), "platelets": (90, "10^9/L", T0 + 120 * MINUTE)},
        )
    )
    course = view.courses.course("MRN-1", 24)
    assert course["lab_previous"] == {"creatinine": {"value": 1.0, "at": "2026-11-23T12:00:00Z"}}


def test_lab_results_leave_with_the_window_and_past_their_count() -> None:
    book = CourseBook(timedelta(hours=24))
    for hour in range(0, 48):
        book.apply_event(event(T0 + timedelta(hours=hour), type="lab", test="crp", value=float(hour), unit="mg/L"))
    kept = book.patients["MRN-1"].labs
    # From 24 h before the newest on, that moment included (as the clinical events are kept).
    assert [lab["value"] for lab in kept] == [float(hour) for hour in range(23, 48)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("alerting.dashboard.course.MAX_LABS", 10)
        for second in range(1, 30):
            book.apply_event(
                event(T0 + timedelta(hours=47, seconds=second), type="lab", test="crp", value=1.0, unit="mg/L")
            )
        assert len(book.patients["MRN-1"].labs) == 10
        assert book.patients["MRN-1"].labs[-1]["ts"] == "2026-11-25T11:00:29Z"  # the oldest went first


def test_the_icans_lane_has_each_change_of_grade_and_the_neuro_assessments() -> None:
    book = CourseBook(timedelta(hours=24))
    book.apply_status(status(T0))  # no neuro assessment yet: no ICANS at all
    grades = ((60, 0, 10), (61, 0, 10), (180, 1, 8), (181, 1, 8), (300, 2, 5))
    for minutes, grade, ice in grades:
        at = T0 + minutes * MINUTE
        book.apply_status(lab_status(at, {}, {"grade": grade, "ice": ice, "assessed_at": at}))
    book.apply_status(lab_status(T0 + 70 * MINUTE, {}, {"grade": 3, "ice": 2, "assessed_at": T0}))  # read late
    book.apply_event(event(T0 + 300 * MINUTE, type="neuro", ice=5, arousal="voice", by="rn-4411"))
    book.apply_event(
        event(
            T0 + 180 * MINUTE,
            type="neuro",
            ice_items={"orientation": 4, "naming": 3, "commands": 1, "writing": 0, "attention": 0},
        )
    )
    book.apply_event(event(T0 + 300 * MINUTE, type="neuro", ice=5, arousal="voice", by="rn-4411"))  # twice
    course = book.course("MRN-1", 24)
    assert [(change["at"], change["grade"], change["ice"]) for change in course["icans"]] == [
        ("2026-11-23T13:00:00Z", 0, 10),
        ("2026-11-23T15:00:00Z", 1, 8),
        ("2026-11-23T17:00:00Z", 2, 5),
    ]
    assert [(item["ts"], item["ice"]) for item in course["neuro"]] == [
        ("2026-11-23T15:00:00Z", 8),
        ("2026-11-23T17:00:00Z", 5),
    ]  # the items' total is the ICE
    assert course["neuro"][1]["arousal"] == "voice" and "patient_id" not in course["neuro"][1]
    # A span that starts between two changes starts with the grade then in force.
    short = book.course("MRN-1", 2)
    assert [(change["at"], change["grade"]) for change in short["icans"]] == [
        (short["from"], 1),
        ("2026-11-23T17:00:00Z", 2),
    ]
