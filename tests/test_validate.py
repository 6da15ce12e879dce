"""`crsmon validate` on real stays (tests/data/physionet2019), run as a hospital would run it.

The bedside scores are recomputed here independently, row by row from the files, and must
agree with the report; crsmon's figures must be consistent with each other; and a damaged
export — a bad row, an unknown column, a missing outcome — is named, counted, and does not stop
the run.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from monitor.rules.registry import CLINICAL_RULES
from monitor.scores.news2 import news2

DATA = Path(__file__).parent / "data" / "physionet2019"
FILES = sorted(DATA.glob("*.psv"))


def validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crsmon.cli", "validate", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, Path, str]:
    out = tmp_path_factory.mktemp("validation")
    done = validate(str(DATA), "--out", str(out), "--jobs", "2", "--sweep", "deterioration_high_open=3.2")
    assert done.returncode == 0, done.stderr
    return orjson.loads((out / "validation.json").read_bytes()), out, done.stderr


def rows(path: Path) -> list[dict[str, float]]:
    lines = path.read_text().splitlines()
    header = lines[0].split("|")
    return [{name: float(value) for name, value in zip(header, line.split("|"))} for line in lines[1:]]


def news2_flags(path: Path, threshold: int) -> tuple[int, int, float | None]:
    """Patient-hours (rows with a score input recorded), those at NEWS2 >= threshold, and the
    onset hour, written out the long way: each value carried forward for hours k to k + 3."""
    table = rows(path)
    last: dict[str, tuple[float, float]] = {}
    flagged = hours = 0
    onset = None
    first = table[0]["ICULOS"]
    for row in table:
        hour = row["ICULOS"]
        measured = any(
            not math.isnan(row[name]) and row[name] != 0
            for name in ("HR", "O2Sat", "Temp", "SBP", "MAP", "Resp", "FiO2", "PaCO2", "WBC")
        )
        hours += measured
        for name in ("HR", "O2Sat", "Temp", "SBP", "Resp", "FiO2"):
            if not math.isnan(row[name]) and not (row[name] == 0 and name != "FiO2"):
                last[name] = (hour, row[name])

        def value(name: str) -> float | None:
            seen = last.get(name)
            return seen[1] if seen and hour - seen[0] < 4 else None

        fio2 = value("FiO2")
        score = news2(
            respiratory_rate=value("Resp"),
            spo2=value("O2Sat"),
            on_oxygen=fio2 is not None and (fio2 / 100 if fio2 > 1 else fio2) > 0.21,
            systolic_bp=value("SBP"),
            heart_rate=value("HR"),
            temperature=value("Temp"),
        ).score
        flagged += measured and score >= threshold
        if onset is None and row["SepsisLabel"] == 1:
            onset = hour + 6 - first
    return hours, flagged, onset


def test_the_report_counts_the_stays_and_their_outcomes(report) -> None:
    figures, out, stderr = report
    septic = sum(1 for path in FILES if path.read_text().rstrip().endswith("|1"))
    assert figures["cohort"]["patients"] == len(FILES) == 151
    assert figures["cohort"]["septic"] == septic == 61
    assert figures["cohort"]["non_septic"] == 151 - septic
    assert figures["problems"] == {}
    assert "151 stays" in stderr and "report:" in stderr


def test_bedside_news2_agrees_with_a_score_computed_row_by_row(report) -> None:
    figures = report[0]
    for threshold in (5, 7):
        hours = flagged = 0
        for path in FILES:
            stay_hours, stay_flagged, _ = news2_flags(path, threshold)
            hours += stay_hours
            flagged += stay_flagged
        share = figures["detectors"][f"NEWS2 ≥ {threshold}"]["hours_flagged_share_all"]
        assert share["value"] == pytest.approx(flagged / hours)
        assert share["ci95"][0] <= share["value"] <= share["ci95"][1]


def test_onset_figures_count_the_septic_stays_with_twelve_hours_of_record_first(report) -> None:
    figures = report[0]
    counted = [path for path in FILES if (onset := news2_flags(path, 5)[2]) is not None and onset >= 12]
    assert figures["cohort"]["septic_onset_counted"] == len(counted)
    for name, detector in figures["detectors"].items():
        lead = detector["first_firing_lead_time"]
        assert lead["stays"] == len(counted)
        assert sum(lead["buckets"].values()) == len(counted)
        at_6 = detector["flagged_at_onset_minus_6h"]
        assert at_6["stays"] == len(counted)
        assert 0 <= at_6["value"] <= 1


def test_crsmon_figures_are_consistent_with_each_other(report) -> None:
    detectors = report[0]["detectors"]
    medium, high = detectors["crsmon ≥ medium"], detectors["crsmon ≥ high"]
    for figure in (
        "hours_flagged_share_all",
        "hours_flagged_share_non_septic",
        "flagged_at_onset_minus_6h",
        "flagged_at_onset_minus_0h",
    ):
        assert high[figure]["value"] <= medium[figure]["value"]
    by_rule = report[0]["crsmon_firings_by_rule"]
    assert by_rule and all(key.split()[0] in CLINICAL_RULES for key in by_rule)
    curve = report[0]["what_if"]["crsmon ≥ high, deterioration_high_open"]
    assert [point["value"] for point in curve] == [3.2, "default"]
    assert curve[0]["hours_flagged_share_non_septic"] <= curve[1]["hours_flagged_share_non_septic"]


def test_the_html_report_stands_alone(report) -> None:
    page = (report[1] / "validation.html").read_text()
    assert page.count("<svg") >= 2
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    for name in report[0]["detectors"]:
        assert name.replace("≥", "≥") in page


def test_a_damaged_export_is_named_counted_and_finished(tmp_path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for path in FILES[:6]:
        shutil.copy(path, folder / path.name)
    first, second, third = sorted(folder.glob("*.psv"))[:3]
    lines = first.read_text().splitlines()
    lines[3] = lines[3].replace("|", "|oops|", 1)  # a field too many
    fields = lines[4].split("|")
    fields[2] = "134"  # Temp outside the contract's 20–45 °C
    lines[4] = "|".join(fields)
    first.write_text("\n".join(lines) + "\n")
    header, *body = second.read_text().splitlines()
    second.write_text("\n".join([header + "|Ward"] + [line + "|5W" for line in body]) + "\n")
    header, *body = third.read_text().splitlines()
    keep = [i for i, name in enumerate(header.split("|")) if name != "SepsisLabel"]
    third.write_text("\n".join("|".join(line.split("|")[i] for i in keep) for line in [header, *body]) + "\n")
    (folder / "empty.psv").write_text("")
    out = tmp_path / "out"
    done = validate(str(folder), "--out", str(out), "--jobs", "1", "--sweep", "")
    assert done.returncode == 0, done.stderr
    problems = orjson.loads((out / "validation.json").read_bytes())["problems"]
    assert problems["bad row"]["count"] == 1
    assert "line 4" in problems["bad row"]["examples"][0]
    assert "134" in problems["row outside the contract's bounds"]["examples"][0]
    assert "'Ward'" in problems["unknown column"]["examples"][0]
    assert problems["missing outcome"]["count"] == 1
    assert problems["empty file"]["count"] == 1
    assert "unknown column" in done.stderr
    figures = orjson.loads((out / "validation.json").read_bytes())
    assert figures["cohort"]["patients"] == 6 and figures["cohort"]["outcome_unknown"] == 1


def test_json_lines_with_an_outcomes_file(tmp_path) -> None:
    from monitor.wire import encode
    from validation.physionet import EPOCH, ColumnMap, read_stay
    from validation.problems import Problems

    events, outcomes = [], {}
    for path in FILES[:12]:
        stay = read_stay(path, ColumnMap(), Problems())
        events.extend(encode(event, drop_none=True) for event in stay.events)
        if stay.onset_hour is not None:
            onset = stay.start.timestamp() + stay.onset_hour * 3600
            outcomes[stay.patient_id] = EPOCH.fromtimestamp(onset, EPOCH.tzinfo).isoformat()
        elif len(outcomes) < 10:
            outcomes[stay.patient_id] = None
    (tmp_path / "ward.jsonl").write_bytes(b"\n".join(events) + b"\nnot json\n")
    (tmp_path / "outcomes.json").write_bytes(orjson.dumps(outcomes))
    done = validate(
        str(tmp_path / "ward.jsonl"),
        "--outcomes",
        str(tmp_path / "outcomes.json"),
        "--out",
        str(tmp_path / "out"),
        "--sweep",
        "",
    )
    assert done.returncode == 0, done.stderr
    figures = orjson.loads((tmp_path / "out" / "validation.json").read_bytes())
    assert figures["cohort"]["patients"] == 12
    assert figures["cohort"]["outcome_unknown"] == 12 - len(outcomes)
    assert figures["problems"]["bad row"]["count"] == 1


def test_a_sweep_of_an_unknown_setting_says_what_is_wrong(tmp_path) -> None:
    done = validate(str(DATA), "--out", str(tmp_path), "--sweep", "news2_threshhold=4")
    assert done.returncode != 0
    assert "news2_threshhold" in done.stderr and "crsmon config" in done.stderr


def test_a_sweep_to_an_invalid_setting_says_why_before_the_run(tmp_path) -> None:
    done = validate(str(DATA), "--out", str(tmp_path), "--sweep", "deterioration_high_open=2.0")
    assert done.returncode != 0
    assert "deterioration_high_open=2.0" in done.stderr and "high_resolve" in done.stderr


def test_the_stays_to_review_are_written_out_and_drawn_on_request(tmp_path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for path in FILES[:12]:
        shutil.copy(path, folder / path.name)
    plain, drawn = tmp_path / "plain", tmp_path / "drawn"
    assert validate(str(folder), "--out", str(plain), "--sweep", "").returncode == 0
    figures = orjson.loads((plain / "validation.json").read_bytes())
    listed = {c["patient_id"] for c in figures["cases"]["crsmon ≥ high"]["non_septic_most_flagged"]}
    listed |= set(figures["cases"]["crsmon ≥ high"]["missed_6h_before_onset"])
    assert listed and set(figures["case_files"]) == listed
    for patient_id, files in figures["case_files"].items():
        lines = (plain / files["input"]).read_bytes().splitlines()
        assert lines and all(orjson.loads(line)["patient_id"] == patient_id for line in lines)
        assert f'href="{files["input"]}"' in (plain / "validation.html").read_text()
    done = validate(str(folder), "--out", str(drawn), "--sweep", "", "--case-reports")
    assert done.returncode == 0, done.stderr
    figures = orjson.loads((drawn / "validation.json").read_bytes())
    page = (drawn / "validation.html").read_text()
    for patient_id, files in figures["case_files"].items():
        assert (drawn / files["report"]).read_bytes()[:4] == b"\x89PNG"
        assert (drawn / files["report"]).with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
        assert f'href="{files["report"]}"' in page


def test_a_sweep_of_the_warning_s_thresholds_reuses_scores_and_gives_what_a_run_of_its_own_gives() -> None:
    from monitor.config import EngineConfig
    from validation.physionet import ColumnMap, read_stay
    from validation.problems import Problems
    from validation.run_stays import run_stays

    stays = [read_stay(path, ColumnMap(), Problems()) for path in FILES[:40]]
    config = EngineConfig()
    swept = run_stays(
        stays, Problems(), config, [("deterioration_high_open", 3.0), ("deterioration_medium_open", 2.4)]
    ).sweep
    for (name, value), flags in swept.items():
        own = run_stays(stays, Problems(), config.model_copy(update={name: value}), [])
        assert [stay.detectors["crsmon ≥ high"].hours.tolist() for stay in own.stays] == [
            per_stay["crsmon ≥ high"].hours.tolist() for per_stay in flags
        ], name
        assert [stay.detectors["crsmon ≥ medium"].hours.tolist() for stay in own.stays] == [
            per_stay["crsmon ≥ medium"].hours.tolist() for per_stay in flags
        ], name
        assert any(per_stay["crsmon ≥ high"].hours.any() for per_stay in flags)


def test_a_target_burden_is_met_and_written_as_a_configuration_the_worker_reads(tmp_path) -> None:
    """Site calibration: the thresholds it writes give, when the same stays are validated
    with the written file, the burden and sensitivity it reported, within a tenth of the
    target; the report marks them on its chart."""
    from monitor.config import load_config

    calibrated = tmp_path / "calibrated"
    done = validate(str(DATA), "--out", str(calibrated), "--jobs", "2", "--target-burden", "high=5%,medium=15%")
    assert done.returncode == 0, done.stderr
    figures = orjson.loads((calibrated / "validation.json").read_bytes())
    calibration = figures["calibration"]
    written = calibrated / calibration["config_file"]
    config = load_config(written)
    assert config.deterioration_high_open == calibration["levels"]["high"]["open"]
    assert config.deterioration_medium_open == calibration["levels"]["medium"]["open"]
    # both burdens are above the targets at the defaults (19 % and 5.5 %): both thresholds rise
    assert config.deterioration_medium_open > 1.801 and config.deterioration_high_open > 2.6
    assert (
        "clinical-config.json" in done.stderr
        and "calibrated crsmon ≥ high" in (calibrated / "validation.html").read_text()
    )
    replayed = tmp_path / "replayed"
    done = validate(str(DATA), "--out", str(replayed), "--jobs", "2", "--sweep", "", "--config", str(written))
    assert done.returncode == 0, done.stderr
    again = orjson.loads((replayed / "validation.json").read_bytes())["detectors"]
    for level, target in (("high", 0.05), ("medium", 0.15)):
        reported = calibration["levels"][level]
        seen = again[f"crsmon ≥ {level}"]
        for key in ("hours_flagged_share_non_septic", "flagged_at_onset_minus_6h"):
            assert seen[key]["value"] == reported[key]["value"], (level, key)
        assert abs(seen["hours_flagged_share_non_septic"]["value"] - target) <= 0.1 * target


def test_a_target_burden_that_is_not_one_says_how_to_write_it(tmp_path) -> None:
    done = validate(str(DATA), "--out", str(tmp_path), "--target-burden", "high=3")
    assert done.returncode != 0
    assert "high=3" in done.stderr and "LEVEL=N%" in done.stderr and "Traceback" not in done.stderr


def test_a_target_is_a_share_of_hours_or_firings_per_patient_day() -> None:
    from validation.calibration import Target, parse_targets

    assert parse_targets("high=3%, medium=12.5%,high=0.3/day") == [
        Target("high", "hours", 0.03),
        Target("medium", "hours", 0.125),
        Target("high", "firings", 0.3),
    ]
    for wrong in ("low=3%", "high=150%", "high=0%", ""):
        with pytest.raises(SystemExit):
            parse_targets(wrong)


def test_every_target_of_a_level_is_met_by_the_higher_of_their_thresholds() -> None:
    from monitor.config import EngineConfig
    from validation.calibration import choose, parse_targets

    curve = [
        {"value": t, "hours_flagged_share_non_septic": h, "firings_per_patient_day_non_septic": f}
        for t, h, f in ((2.0, 0.06, 0.4), (3.0, 0.03, 0.2), (4.0, 0.02, 0.1))
    ]
    opens, notes = choose(EngineConfig(), parse_targets("high=4.5%,high=0.15/day"), {"high": curve, "medium": []})
    assert opens == {"high": pytest.approx(3.5)} and not notes


def test_the_threshold_meeting_a_target_is_interpolated_between_the_points_around_it() -> None:
    from validation.calibration import threshold_for

    curve = [(2.0, 0.06), (2.5, 0.04), (3.0, 0.03), (3.5, 0.025)]
    assert threshold_for(curve, 0.035) == (pytest.approx(2.75), None)
    assert threshold_for(curve, 0.04) == (pytest.approx(2.5), None)
    value, note = threshold_for(curve, 0.01)
    assert value == 3.5 and note and "highest threshold tried" in note
