"""`crsmon validate` reads the lab results of a PhysioNet export (issue 20) and counts every
clinical rule of the registry, a rule added later included.

The lab stay (tests/data/physionet2019_labs/SOURCES.md) is read here a second time, column by
column with the file's own header, and what validate made of it must be those results at those
hours: the expected values come from the file, not from the code under test.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.episodes import Timing
from monitor.rules import registry
from monitor.wire import Alert, LabEvent, VitalSigns
from validation.physionet import EPOCH, ColumnMap, read_stay
from validation.problems import Problems

STAY = Path(__file__).parent / "data" / "physionet2019_labs" / "p107912.psv"
#: The lab columns of the PhysioNet 2019 files crsmon has a test for, and the test: written out
#: here from the challenge's column list and the catalogue, not read from validation/physionet.py.
LAB_COLUMNS = {
    "Creatinine": "creatinine",
    "Bilirubin_total": "bilirubin",
    "Platelets": "platelets",
    "WBC": "wbc",
    "Lactate": "lactate",
    "AST": "ast",
    "Fibrinogen": "fibrinogen",
}


def table(path: Path) -> list[dict[str, str]]:
    header, *lines = path.read_text().splitlines()
    return [dict(zip(header.split("|"), line.split("|"))) for line in lines]


def expected_results(path: Path) -> list[tuple[float, str, float]]:
    """(hours after the first row, test, value) of every lab result in the file, row order."""
    rows = table(path)
    first = float(rows[0]["ICULOS"])
    return [
        (float(row["ICULOS"]) - first, test, float(row[column]))
        for row in rows
        for column, test in LAB_COLUMNS.items()
        if row[column] != "NaN"
    ]


def validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crsmon.cli", "validate", *args], capture_output=True, text=True, timeout=300
    )


def test_every_lab_result_becomes_a_lab_message_at_its_row_s_hour() -> None:
    stay = read_stay(STAY, ColumnMap(), problems := Problems())
    assert stay is not None and not problems.counts
    expected = expected_results(STAY)
    assert len(expected) == 37  # counted in SOURCES.md
    got = [((event.ts - stay.start).total_seconds() / 3600, event.test, event.value) for event in stay.labs]
    assert sorted(got) == sorted(expected)
    assert [hour for hour, _, _ in got] == sorted(hour for hour, _, _ in got)
    assert all(isinstance(event, LabEvent) and event.patient_id == "p107912" for event in stay.labs)
    # the vital signs are what they were: one VitalSigns a row that measured one
    rows = table(STAY)
    assert len(stay.events) == sum(row["HR"] != "NaN" for row in rows) == 23
    assert all(isinstance(event, VitalSigns) for event in stay.events)


def test_the_engine_is_fed_vital_signs_and_labs_in_time_order_a_row_s_vital_signs_first() -> None:
    stay = read_stay(STAY, ColumnMap(), Problems())
    inputs = stay.inputs()
    assert len(inputs) == len(stay.events) + len(stay.labs)
    assert [event.ts for event in inputs] == sorted(event.ts for event in inputs)
    for before, after in zip(inputs, inputs[1:]):
        if before.ts == after.ts:  # a vital sign never follows a lab result of its own hour
            assert not (isinstance(before, LabEvent) and isinstance(after, VitalSigns))
    # rows 12-15 (ICULOS 14-17 of the file) hold labs and no vital signs: their labs still go in
    lab_only = [event for event in inputs if event.ts == EPOCH + timedelta(hours=15)]
    assert lab_only and all(isinstance(event, LabEvent) for event in lab_only)


def test_results_arrive_in_the_catalogue_s_units_and_the_engine_holds_them() -> None:
    stay = read_stay(STAY, ColumnMap(), Problems())
    last = {event.test: event for event in stay.labs}
    # PhysioNet's units are the catalogue's canonical ones but for the counts, which are
    # 10^3/µL: the same number in 10^9/L (10^3 per 10^-6 L).
    assert (last["platelets"].value, last["platelets"].unit, last["platelets"].received_unit) == (
        46.0,
        "10^9/L",
        "10^3/µL",
    )
    assert (last["lactate"].value, last["lactate"].unit) == (12.24, "mmol/L")
    assert (last["creatinine"].value, last["creatinine"].unit) == (2.44, "mg/dL")
    engine = Engine(EngineConfig())
    statuses = [status for event in stay.inputs() for status in engine.observe(event).statuses]
    labs = statuses[-1].labs
    assert labs is not None
    assert {test: value.value for test, value in labs.items()} == {test: event.value for test, event in last.items()}


def test_a_result_outside_its_bounds_is_dropped_alone_and_counted_by_reason(tmp_path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    rows = STAY.read_text().splitlines()
    header = rows[0].split("|")
    fields = rows[16].split("|")  # ICULOS 18: vital signs and seven labs
    assert fields[header.index("Creatinine")] == "2.54"
    fields[header.index("Creatinine")] = "224.5"  # µmol/L written where mg/dL is read
    fields[header.index("Platelets")] = "-3"
    rows[16] = "|".join(fields)
    (folder / STAY.name).write_text("\n".join(rows) + "\n")
    problems = Problems()
    stay = read_stay(folder / STAY.name, ColumnMap(), problems)
    assert problems.counts == {"lab result outside its plausible bounds": 2}
    assert (
        "creatinine 224.5 mg/dL outside 0–40 mg/dL" in problems.examples["lab result outside its plausible bounds"][0]
    )
    at = EPOCH + timedelta(hours=float(fields[header.index("ICULOS")]))
    that_hour = {event.test for event in stay.labs if event.ts == at}
    assert that_hour == {"ast", "lactate", "bilirubin", "wbc", "fibrinogen"}
    assert any(event.ts == at for event in stay.events)  # the row's vital signs stay
    assert len(stay.labs) == 37 - 2
    out = tmp_path / "out"
    done = validate(str(folder), "--out", str(out), "--jobs", "1", "--sweep", "")
    assert done.returncode == 0, done.stderr
    figures = orjson.loads((out / "validation.json").read_bytes())
    assert figures["problems"]["lab result outside its plausible bounds"]["count"] == 2
    assert figures["run"]["labs"] is True
    # every clinical rule on is a detector of its own, straight from the registry
    on = [rule.name for rule in registry.REGISTRY if rule.clinical and rule.enabled(EngineConfig())]
    assert {"crs", "deterioration"} <= set(on)  # and any rule registered since (aki)
    for rule in on:
        assert f"crsmon {rule} rule" in figures["detectors"]
    assert "crsmon news2 rule" not in figures["detectors"]  # off beside the deterioration warning


def test_no_labs_reads_none_and_leaves_the_rest_as_it_was(tmp_path) -> None:
    problems = Problems()
    with_labs = read_stay(STAY, ColumnMap(), Problems())
    without = read_stay(STAY, ColumnMap().without_labs(), problems)
    assert without.labs == [] and without.inputs() == without.events == with_labs.events
    assert not problems.counts  # the lab columns are ignored, not unknown
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(STAY, folder / STAY.name)
    done = validate(str(folder), "--out", str(tmp_path / "out"), "--jobs", "1", "--sweep", "", "--no-labs")
    assert done.returncode == 0, done.stderr
    figures = orjson.loads((tmp_path / "out" / "validation.json").read_bytes())
    assert figures["run"]["labs"] is False and figures["problems"] == {}
    assert "lab results not read (--no-labs)" in (tmp_path / "out" / "validation.html").read_text()
    for files in figures["case_files"].values():  # a stay to review is written as it was read
        lines = (tmp_path / "out" / files["input"]).read_bytes().splitlines()
        assert not any(orjson.loads(line).get("type") == "lab" for line in lines)


def test_a_column_map_naming_a_lab_crsmon_lacks_or_a_unit_it_refuses_says_so(tmp_path) -> None:
    wrong_unit = tmp_path / "unit.json"
    wrong_unit.write_bytes(orjson.dumps({"labs": {"Creat": ["creatinine", "mmol/L"]}}))
    with pytest.raises(SystemExit, match="does not accept the unit 'mmol/L'"):
        ColumnMap.from_file(wrong_unit)
    wrong_test = tmp_path / "test.json"
    wrong_test.write_bytes(orjson.dumps({"labs": {"Na": ["sodium", "mmol/L"]}}))
    with pytest.raises(SystemExit, match="'sodium', which is not a lab test"):
        ColumnMap.from_file(wrong_test)
    umol = tmp_path / "umol.json"
    umol.write_bytes(orjson.dumps({"labs": {"Creatinine": ["creatinine", "µmol/L"]}}))
    stay = read_stay(STAY, ColumnMap.from_file(umol), Problems())
    # a site exporting µmol/L: 2.54 "µmol/L" is 2.54 / 88.4 mg/dL, so only creatinine is read
    assert {event.test for event in stay.labs} == {"creatinine"}
    assert stay.labs[0].value == pytest.approx(2.19 / 88.4, abs=1e-4)


def _alert(rule: str, status: str, severity: str, at: datetime) -> Alert:
    return Alert(
        alert_id=f"{rule}-{status}",
        episode_id=f"p1:{rule}:1",
        patient_id="p1",
        status=status,
        severity=severity,
        rule=rule,
        reasons=["made up"],
        observed_at=at,
    )


def test_a_newly_registered_clinical_rule_gets_its_rows_without_an_edit(monkeypatch) -> None:
    """The `aki` rule (KDIGO by creatinine) is being added beside this work: validate's tables
    must take any rule the registry holds. A made-up rule registered here fires from hour 2 to
    hour 5 of a day: it is counted, as its own detector and in crsmon's levels."""
    from validation.command import summarise
    from validation.outcomes import StayResult, clinical_rules, flags_of_alerts
    from validation.report_html import render

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    alerts = [
        _alert("made_up", "firing", "medium", start + timedelta(hours=2)),
        _alert("made_up", "resolved", "medium", start + timedelta(hours=5)),
    ]
    unregistered, _ = flags_of_alerts(alerts, start.timestamp(), 24, ("made_up",))
    assert not unregistered["crsmon ≥ medium"].hours.any()  # not a clinical rule: not counted

    made_up = registry.Rule(name="made_up", timing=lambda config: Timing(0, 0, 0), level=lambda findings: None)
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, made_up))
    config = EngineConfig()
    rules = clinical_rules(config)
    # registration order, the made-up rule last; news2 is off beside the deterioration warning
    assert rules[:2] == ("crs", "deterioration") and rules[-1] == "made_up" and "news2" not in rules
    detectors, by_rule = flags_of_alerts(alerts, start.timestamp(), 24, rules)
    own = detectors["crsmon made_up rule"]
    assert own.hours.tolist() == [2 <= hour < 5 for hour in range(24)]
    assert (own.firings, own.first_at) == (1, 2.0)
    assert detectors["crsmon ≥ medium"].hours.tolist() == own.hours.tolist()
    assert not detectors["crsmon deterioration rule"].hours.any()
    assert by_rule == {("made_up", "medium"): 1}
    # An organ rule (read from labs or assessments, `ward_level=False`) has its own row only.
    organ = registry.Rule(
        name="made_up", timing=lambda config: Timing(0, 0, 0), level=lambda findings: None, ward_level=False
    )
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY[:-1], organ))
    alone, _ = flags_of_alerts(alerts, start.timestamp(), 24, rules)
    assert alone["crsmon made_up rule"].hours.tolist() == own.hours.tolist()
    assert not alone["crsmon ≥ medium"].hours.any()
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY[:-1], made_up))

    import numpy as np

    stay = StayResult("p1", "p1.psv", 24, np.ones(24, dtype=bool), None, True, detectors, by_rule)
    figures = summarise([stay], {}, {}, Problems(), config, "made up")
    row = figures["detectors"]["crsmon made_up rule"]
    assert row["firings_per_patient_day_all"]["value"] == 1.0  # one firing in one patient-day
    assert row["hours_flagged_share_all"]["value"] == pytest.approx(3 / 24)
    assert figures["crsmon_firings_by_rule"]["made_up medium"]["per_patient_day"] == 1.0
    assert "crsmon made_up rule" in render(figures)
    assert not math.isnan(row["firings_per_patient_day_non_septic"]["value"])
