"""The worker benchmark still runs end to end. Its figures are not checked: performance is
measured by running bench/worker.py and reading what it prints, never by a timed test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import FIGURES

pytestmark = pytest.mark.kafka

BENCHMARK = Path(__file__).resolve().parent.parent / "bench" / "worker.py"


def test_quick_benchmark_completes_and_prints_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--quick",
            "--patients",
            "200",
            "--takeover-patients",
            "200",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    table = result.stdout
    missing = [figure for figure in FIGURES if figure not in table]
    assert not missing, f"figures not printed: {missing}\n{table}"
    rows = {line.split("  ")[0].strip(): line for line in table.splitlines()}
    broken = [rows[figure] for figure in FIGURES if "failed:" in rows[figure] or "not measured" in rows[figure]]
    assert not broken, "\n".join(broken) + "\n" + result.stderr[-4000:]


def test_the_backlog_benchmark_runs_on_the_shipped_stays_and_prints_every_figure(tmp_path: Path) -> None:
    """bench/backlog.py on 20 of the stays the tests ship (its figures are read, not checked)."""
    stays = Path(__file__).resolve().parent / "data" / "physionet2019"
    result = subprocess.run(
        [sys.executable, "-m", "bench.backlog", str(stays), "--stays", "20", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCHMARK.parent.parent,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for figure in (
        "baseline: sets/s",
        "worker: sets/s",
        "worker: longest pause",
        "changelog bytes per input record",
        "worker RSS per patient",
        "worker / baseline",
    ):
        assert figure in result.stdout, f"{figure!r} not printed:\n{result.stdout}"
    assert "INCOMPLETE" not in result.stdout, result.stdout


def test_the_ice_form_round_trip_benchmark_runs_and_prints_its_percentiles(kafka) -> None:
    """bench/ice_round_trip.py, two submits on the session's broker (its figures are read, not checked)."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARK.parent / "ice_round_trip.py"), "--rounds", "2", "--broker", kafka.bootstrap],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["rounds"] == 2
    for step in ("answered", "course", "status"):
        assert 0 < figures[step]["p50_ms"] <= figures[step]["p95_ms"] <= figures[step]["max_ms"], figures
