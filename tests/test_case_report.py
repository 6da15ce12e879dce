"""`crsmon report`: known courses run through the real engine and drawn; the checks read what the
figure holds (lines, spans, marks, bands, labels), not its pixels."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerting.case_report.command import case_from_file
from alerting.case_report.render import render_case_report
from monitor.organs.easix import m_easix
from monitor.wire import IcansAssessment

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def crs_course_with_tocilizumab_signal_loss_and_discharge() -> list[dict]:
    """Therapy at T0; from T0+1h monitored every minute; fever from T0+4h, hypotension from T0+5h,
    a nasal cannula at T0+6h, tocilizumab at T0+7h (fever gone by T0+8h), the SpO2 probe off
    T0+10h–T0+10h20, discharge at T0+13h. A second patient, P2, runs alongside."""
    lines: list[dict] = [{"patient_id": "P1", "ts": stamp(T0), "type": "therapy", "therapy": "car-t"}]
    clinical = {
        T0 + 6 * HOUR: {"type": "oxygen", "device": "nasal_cannula", "flow_l_min": 3},
        T0 + 7 * HOUR: {"type": "medication", "drug": "tocilizumab"},
        T0 + 10 * HOUR + 30 * MINUTE: {"type": "oxygen", "device": "room_air"},
        T0 + 13 * HOUR: {"type": "discharge"},
    }
    at = T0 + HOUR
    while at < T0 + 13 * HOUR:
        for when, event in clinical.items():
            if when == at:
                lines.append({"patient_id": "P1", "ts": stamp(at), **event})
        minute = int((at - T0) / MINUTE)
        vitals = {
            "patient_id": "P1",
            "ts": stamp(at),
            "ward": "5-West",
            "bed": "12",
            "heart_rate": 80 if at < T0 + 4 * HOUR else 112,
            "respiratory_rate": 16,
            "spo2": 0 if T0 + 10 * HOUR <= at < T0 + 10 * HOUR + 20 * MINUTE else 97,
        }
        if minute % 30 == 0:
            vitals["temperature"] = 38.8 if T0 + 4 * HOUR <= at < T0 + 8 * HOUR else 37.0
        if minute % 15 == 0:
            systolic = 85 if T0 + 5 * HOUR <= at < T0 + 9 * HOUR else 122
            vitals.update(
                systolic_bp=systolic,
                diastolic_bp=systolic * 0.6,
                mean_arterial_pressure=round(systolic * 0.6 + systolic * 0.4 / 3),
            )
        lines.append(vitals)
        lines.append({"patient_id": "P2", "ts": stamp(at), "heart_rate": 130, "spo2": 91})
        at += MINUTE
    lines.append({"patient_id": "P1", "ts": stamp(T0 + 13 * HOUR), "type": "discharge"})
    lines.append({"patient_id": "P2", "ts": stamp(T0 + 14 * HOUR), "heart_rate": 129})
    return lines


def write_lines(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    source = write_lines(folder / "ward.jsonl", crs_course_with_tocilizumab_signal_loss_and_discharge())
    events, outputs = case_from_file(str(source), "P1", None, io.StringIO())
    return render_case_report(events, outputs, folder / "P1.png", folder / "P1.pdf")


def test_the_vital_signs_are_drawn_as_measured_of_this_patient_only(drawn) -> None:
    temperature = drawn.lines["temperature"]
    assert max(v for v in temperature.values if not math.isnan(v)) == 38.8
    heart_rate = [v for v in drawn.lines["heart_rate"].values if not math.isnan(v)]
    assert set(heart_rate) == {80.0, 112.0}  # P2's 130 is not on P1's page
    assert set(drawn.lines) == {
        "temperature",
        "heart_rate",
        "systolic_bp",
        "diastolic_bp",
        "mean_arterial_pressure",
        "spo2",
        "respiratory_rate",
    }
    assert max(drawn.lines["heart_rate"].times) < T0 + 13 * HOUR  # nothing after the discharge


def test_a_lost_signal_is_a_gap_in_its_line_and_a_low_priority_span(drawn) -> None:
    spo2 = drawn.lines["spo2"]
    lost = [value for at, value in zip(spo2.times, spo2.values) if T0 + 10 * HOUR <= at < T0 + 10 * HOUR + 20 * MINUTE]
    assert lost and all(math.isnan(value) for value in lost)
    heart_rate = drawn.lines["heart_rate"]
    assert not any(
        math.isnan(value)
        for at, value in zip(heart_rate.times, heart_rate.values)
        if T0 + 10 * HOUR <= at < T0 + 10 * HOUR + 20 * MINUTE
    )
    [loss] = [span for span in drawn.spans if span[0] == "signal_loss"]
    assert loss[1] == "low"
    assert T0 + 10 * HOUR <= loss[2] <= T0 + 10 * HOUR + 10 * MINUTE
    assert T0 + 10 * HOUR + 20 * MINUTE <= loss[3] <= T0 + 11 * HOUR


def test_the_crs_episode_spans_the_fever_and_ends_by_the_discharge(drawn) -> None:
    crs = sorted((span for span in drawn.spans if span[0] == "crs"), key=lambda span: span[2])
    assert crs, "the fever in the risk period opens a CRS episode"
    assert T0 + 4 * HOUR <= crs[0][2] <= T0 + 4 * HOUR + 30 * MINUTE
    assert crs[-1][3] <= T0 + 13 * HOUR
    assert {span[1] for span in crs} & {"high", "critical"}, "hypotension with fever is high priority"
    grades = {value for _, _, value in drawn.bands["crs"]}
    assert "2" in grades and "0" in grades
    assert {value for _, _, value in drawn.bands["news2"]} >= {"low"}


def test_clinical_events_are_marks_at_their_times_in_words(drawn) -> None:
    marks = {text: at for at, text in drawn.marks}
    assert marks["Tocilizumab"] == T0 + 7 * HOUR
    assert marks["O₂ nasal cannula 3 L/min"] == T0 + 6 * HOUR
    assert marks["O₂ off (room air)"] == T0 + 10 * HOUR + 30 * MINUTE
    assert marks["Discharge"] == T0 + 13 * HOUR
    assert marks["CAR-T (day 0)"] == T0  # therapy an hour before the data: the page starts at day 0
    assert "day 0" in drawn.texts


def test_the_page_is_legible_printed_a4_with_units_and_times(drawn) -> None:
    assert drawn.smallest_font_pt >= 7
    labels = " ".join(drawn.axis_labels)
    for unit in ("(°C)", "(/min)", "(mmHg)", "(%)", "time (UTC)"):
        assert unit in labels
    assert any(text.startswith("Case report — patient P1 — 5-West · bed 12") for text in drawn.texts)
    assert any("Tocilizumab" in text for text in drawn.texts if text[:1].isdigit())  # the events list
    png = drawn.png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1753, 1240)  # A4 landscape at 150 dpi
    assert drawn.pdf.read_bytes()[:5] == b"%PDF-"


def test_a_recorded_run_without_inputs_is_drawn_from_its_statuses(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "ward.jsonl", crs_course_with_tocilizumab_signal_loss_and_discharge())
    events, outputs = case_from_file(str(source), "P1", None, io.StringIO())
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text(
        "".join(item.model_dump_json() + "\n" for item in outputs)
        + json.dumps(
            {
                "record": "ack",
                "episode_id": next(o.episode_id for o in outputs if getattr(o, "rule", "") == "crs"),
                "patient_id": "P1",
                "ts": stamp(T0 + 5 * HOUR),
                "by": "rn-4411",
                "source": "dashboard",
            }
        )
        + "\n"
    )
    events, outputs = case_from_file(str(recorded), "P1", None, io.StringIO())
    assert events == []
    drawn = render_case_report(events, outputs, tmp_path / "r.png", tmp_path / "r.pdf")
    assert max(v for v in drawn.lines["temperature"].values if not math.isnan(v)) == 38.8
    assert drawn.acks == [(T0 + 5 * HOUR, "rn-4411")]
    assert any(span[0] == "crs" for span in drawn.spans)


def test_crsmon_report_writes_png_and_pdf_and_says_so(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "ward.jsonl", crs_course_with_tocilizumab_signal_loss_and_discharge())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crsmon.cli",
            "report",
            "P1",
            "--from",
            str(source),
            "--out",
            str(tmp_path / "out" / "P1"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "P1.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "P1.pdf").stat().st_size > 5_000
    assert "P1.png" in done.stdout and "P1.pdf" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "crsmon.cli", "report", "P9", "--from", str(source), "--out", str(tmp_path / "P9")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "nothing about patient P9" in missing.stderr


def with_labs_and_neuro(lines: list[dict]) -> list[dict]:
    """P1's course with a morning panel (creatinine in µmol/L, platelets, CRP), a repeat of two
    tests after tocilizumab, and two bedside assessments (ICE 10, then 6 and drowsy)."""
    extra = (
        [
            {"patient_id": "P1", "ts": stamp(T0 + 2 * HOUR), "type": "lab", "test": test, "value": value, "unit": unit}
            for test, value, unit in (("creatinine", 88.4, "umol/L"), ("platelets", 150, "10*9/L"), ("crp", 12, "mg/L"))
        ]
        + [
            {"patient_id": "P1", "ts": stamp(T0 + 9 * HOUR), "type": "lab", "test": test, "value": value, "unit": unit}
            for test, value, unit in (("creatinine", 1.9, "mg/dL"), ("crp", 140, "mg/L"))
        ]
        + [
            {"patient_id": "P1", "ts": stamp(T0 + 3 * HOUR), "type": "neuro", "ice": 10, "arousal": "alert"},
            {"patient_id": "P1", "ts": stamp(T0 + 8 * HOUR), "type": "neuro", "ice": 6, "arousal": "spontaneous"},
        ]
    )
    return sorted(lines + extra, key=lambda line: line["ts"])


def test_labs_and_neuro_assessments_are_lanes_of_their_own_not_event_marks(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "ward.jsonl", with_labs_and_neuro(crs_course_with_tocilizumab_signal_loss_and_discharge())
    )
    events, outputs = case_from_file(str(source), "P1", None, io.StringIO())
    drawn = render_case_report(events, outputs, tmp_path / "P1.png", tmp_path / "P1.pdf")
    assert drawn.labs == [(T0 + 2 * HOUR, "creatinine,platelets,crp"), (T0 + 9 * HOUR, "creatinine,crp")]
    # The results written beside their marker, in the catalogue's words and precision (canonical unit).
    assert "Creat 1.00, Plt 150, CRP 12.0" in drawn.texts
    assert "Creat 1.90, CRP 140.0" in drawn.texts
    assert drawn.ice == [(T0 + 3 * HOUR, "10"), (T0 + 8 * HOUR, "6")]
    assert not [text for _, text in drawn.marks if text in ("lab", "neuro")]  # no line through every panel
    assert "labs" in drawn.axis_labels and "ICANS\ngrade, ICE" in drawn.axis_labels
    assert drawn.smallest_font_pt >= 7


def test_the_icans_band_follows_the_grade_of_the_recorded_statuses(tmp_path: Path) -> None:
    """A recorded run of a worker that grades ICANS (issue 21): the band is its grade over time."""
    source = write_lines(
        tmp_path / "ward.jsonl", with_labs_and_neuro(crs_course_with_tocilizumab_signal_loss_and_discharge())
    )
    events, outputs = case_from_file(str(source), "P1", None, io.StringIO())
    graded = []
    for output in outputs:
        if getattr(output, "record", None) == "status" and output.ts >= T0 + 3 * HOUR:
            grade, ice, assessed = (1, 6, T0 + 8 * HOUR) if output.ts >= T0 + 8 * HOUR else (0, 10, T0 + 3 * HOUR)
            output = output.model_copy(update={"icans": IcansAssessment(grade=grade, ice=ice, assessed_at=assessed)})
        graded.append(output)
    drawn = render_case_report(events, graded, tmp_path / "g.png", tmp_path / "g.pdf")
    runs = [(start, end, value) for start, end, value in drawn.bands["icans"]]
    assert [value for _, _, value in runs] == ["0", "1"]
    assert abs(runs[0][0] - (T0 + 3 * HOUR)) <= MINUTE and abs(runs[1][0] - (T0 + 8 * HOUR)) <= MINUTE
    assert runs[1][1] <= T0 + 13 * HOUR + 15 * MINUTE


def test_m_easix_before_therapy_is_written_in_the_header_as_a_risk_context_not_a_band(tmp_path: Path, drawn) -> None:
    """LDH, CRP and platelets two hours before the CAR-T infusion: the engine's m-EASIX is written
    on the page with what it was computed from; a patient without them has no such line."""
    panel = {"ldh": (480.0, "U/L"), "crp": (24.0, "mg/L"), "platelets": (84.0, "10^9/L")}
    before = [
        {"patient_id": "P1", "ts": stamp(T0 - 2 * HOUR), "type": "lab", "test": test, "value": value, "unit": unit}
        for test, (value, unit) in panel.items()
    ]
    lines = sorted(crs_course_with_tocilizumab_signal_loss_and_discharge() + before, key=lambda line: line["ts"])
    source = write_lines(tmp_path / "ward.jsonl", lines)
    events, outputs = case_from_file(str(source), "P1", None, io.StringIO())
    [risk] = {output.risk for output in outputs if getattr(output, "risk", None) is not None}  # the engine's
    assert risk.m_easix == pytest.approx(m_easix(480.0, 24.0, 84.0), abs=0.01)
    report = render_case_report(events, outputs, tmp_path / "P1.png", tmp_path / "P1.pdf")
    [line] = [text for text in report.texts if text.startswith("m-EASIX")]
    newest = T0 - 2 * HOUR
    assert line.startswith(
        f"m-EASIX {risk.m_easix:.1f} before therapy (LDH, CRP, platelets, latest {newest:%d %b %H:%M} UTC)"
    )
    assert "not an alarm" in line
    assert not re.search(r"\b(low|high|medium)\b", line, re.I), "no band the clinical reference does not give"
    assert report.smallest_font_pt >= 7
    assert not [text for text in drawn.texts if text.startswith("m-EASIX")]  # P1 without the panel
