"""What the ward dashboard shows, decided without a broker or a browser: the WardView rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerting.dashboard.history import TRENDED
from alerting.dashboard.ward_view import WardView
from monitor.wire import Acknowledgement, Alert, PatientStatus

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def status(patient_id: str, at: datetime, **latest: float) -> PatientStatus:
    return PatientStatus(
        patient_id=patient_id,
        ward="5-West",
        bed="12",
        ts=at,
        news2={"score": 3, "band": "low", "complete": True, "components": {}},
        crs={"grade": 0, "fever": False, "hypotension": False, "hypoxia": False, "risk_period": True},
        latest=latest,
    )


def alert(episode_id: str, status_: str, severity: str, emitted: datetime, patient_id: str = "MRN-1") -> Alert:
    return Alert(
        alert_id=f"{episode_id}#{status_}#{severity}",
        episode_id=episode_id,
        patient_id=patient_id,
        status=status_,
        severity=severity,
        rule="crs",
        reasons=["temperature 38.9 °C >= 38.0"],
        observed_at=emitted,
        emitted_at=emitted,
    )


def ack(episode_id: str, at: datetime, by: str = "rn-4411") -> Acknowledgement:
    return Acknowledgement(episode_id=episode_id, patient_id="MRN-1", ts=at, by=by, source="dashboard")


def column(points: list[list], sign: str) -> list:
    return [point[1 + TRENDED.index(sign)] for point in points]


@pytest.fixture
def view() -> WardView:
    return WardView(timedelta(hours=6))


def test_history_keeps_one_point_per_minute_the_last_value_winning(view: WardView) -> None:
    for second, temperature in ((0, 37.0), (20, 37.5), (59, 38.1), (60, 38.4)):
        view.apply_status(status("MRN-1", T0 + timedelta(seconds=second), temperature=temperature))
    points = view.snapshot()["patients"][0]["points"]
    assert [point[0] for point in points] == [int(T0.timestamp()) // 60, int(T0.timestamp()) // 60 + 1]
    assert column(points, "temperature") == [38.1, 38.4]


def test_a_sign_missing_from_a_later_status_in_the_minute_keeps_its_value(view: WardView) -> None:
    view.apply_status(status("MRN-1", T0, temperature=37.0, spo2=97))
    view.apply_status(status("MRN-1", T0 + timedelta(seconds=10), temperature=37.2))
    points = view.snapshot()["patients"][0]["points"]
    assert column(points, "spo2") == [97] and column(points, "temperature") == [37.2]


def test_zero_is_a_gap_in_the_line_not_a_reading(view: WardView) -> None:
    view.apply_status(status("MRN-1", T0, spo2=0, heart_rate=80))
    points = view.snapshot()["patients"][0]["points"]
    assert column(points, "spo2") == [None] and column(points, "heart_rate") == [80]


def test_history_covers_six_hours_and_no_more(view: WardView) -> None:
    for minute in range(0, 7 * 60, 30):
        view.apply_status(status("MRN-1", T0 + timedelta(minutes=minute), heart_rate=60 + minute / 10))
    points = view.snapshot()["patients"][0]["points"]
    newest = points[-1][0]
    assert newest - points[0][0] < 6 * 60
    assert newest - points[0][0] >= 6 * 60 - 30  # nothing inside the window was dropped


def test_a_delta_carries_each_changed_patient_once_with_the_points_it_changed(view: WardView) -> None:
    view.apply_status(status("MRN-1", T0, heart_rate=80))
    view.apply_status(status("MRN-2", T0, heart_rate=90))
    assert {p["patient_id"] for p in view.take_delta()["patients"]} == {"MRN-1", "MRN-2"}
    assert view.take_delta() is None

    for second in range(0, 120, 10):
        view.apply_status(status("MRN-1", T0 + timedelta(minutes=5, seconds=second), heart_rate=100 + second))
    delta = view.take_delta()
    [changed] = delta["patients"]
    assert changed["patient_id"] == "MRN-1"
    assert changed["latest"] == {"heart_rate": 210.0}
    assert [point[0] - int(T0.timestamp()) // 60 for point in changed["points"]] == [5, 6]


def test_resolved_alerts_leave_and_their_patient_is_told(view: WardView) -> None:
    view.apply_alert(alert("E1", "firing", "high", T0))
    assert [a["episode_id"] for a in view.take_delta()["alerts"]] == ["E1"]
    view.apply_alert(alert("E1", "resolved", "high", T0 + timedelta(minutes=30)))
    delta = view.take_delta()
    assert delta["resolved"] == ["E1"] and delta["alerts"] == []
    assert view.snapshot()["alerts"] == []


def test_an_acknowledgement_marks_its_episode_until_the_severity_changes(view: WardView) -> None:
    view.apply_alert(alert("E1", "firing", "medium", T0))
    view.apply_ack(ack("E1", T0 + timedelta(minutes=2)))
    [shown] = view.snapshot()["alerts"]
    assert shown["acknowledged"] == {"by": "rn-4411", "ts": "2026-11-23T12:02:00Z"}

    view.apply_alert(alert("E1", "updated", "medium", T0 + timedelta(minutes=5)))  # e.g. grade only
    assert view.snapshot()["alerts"][0]["acknowledged"] is not None

    view.apply_alert(alert("E1", "updated", "critical", T0 + timedelta(minutes=9)))
    [shown] = view.snapshot()["alerts"]
    assert shown["acknowledged"] is None and shown["severity"] == "critical"
    assert shown["opened_at"] == "2026-11-23T12:00:00Z"


def test_an_acknowledgement_read_before_its_alert_still_counts(view: WardView) -> None:
    """After a restart the two topics are read side by side, in no particular order."""
    view.apply_ack(ack("E1", T0 + timedelta(minutes=2)))
    view.apply_alert(alert("E1", "firing", "high", T0))
    assert view.snapshot()["alerts"][0]["acknowledged"]["by"] == "rn-4411"


def test_a_patient_silent_for_the_whole_window_leaves_unless_an_alert_is_open(view: WardView) -> None:
    view.apply_status(status("MRN-1", T0, heart_rate=80))
    view.apply_status(status("MRN-2", T0, heart_rate=80))
    view.apply_alert(alert("E2", "firing", "high", T0, patient_id="MRN-2"))
    view.take_delta()
    view.apply_status(status("MRN-3", T0 + timedelta(hours=6, minutes=1), heart_rate=80))
    delta = view.take_delta()
    assert delta["removed"] == ["MRN-1"]
    assert {p["patient_id"] for p in view.snapshot()["patients"]} == {"MRN-2", "MRN-3"}


def test_orphan_acknowledgements_are_forgotten_once_old(view: WardView) -> None:
    view.apply_ack(ack("gone", T0))
    view.forget_orphan_acks(T0 + timedelta(minutes=1))
    view.apply_alert(alert("gone", "firing", "high", T0 - timedelta(minutes=1)))
    assert view.snapshot()["alerts"][0]["acknowledged"] is None
