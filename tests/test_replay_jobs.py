"""`crsmon replay --jobs N` (monitor/replay_jobs.py) gives what one process gives.

On the 151 real stays, time-sorted and grouped, with statuses: the same multiset of outputs,
each patient's outputs in the same order; invalid lines reported with the same line numbers
and reasons, in line order.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.replay import input_lines, plan, replay
from monitor.replay_jobs import replay_jobs, share_out
from tests.test_real_records import DATA, stay_lines, time_sorted
from validation.physionet import stay_files


@pytest.fixture(scope="module")
def stays() -> dict[str, list[bytes]]:
    return stay_lines(stay_files(DATA))


def _single(path: Path, with_status: bool) -> tuple[list[dict], str]:
    out, err = io.BytesIO(), io.StringIO()
    replay(
        input_lines(path),
        Engine(EngineConfig(), statuses=with_status),
        out,
        err,
        with_status=with_status,
        known=plan(input_lines(path)),
    )
    return _outputs(out.getvalue()), err.getvalue()


def _jobs(path: Path, jobs: int, with_status: bool) -> tuple[list[dict], str]:
    out, err = io.BytesIO(), io.StringIO()
    replay_jobs(path, EngineConfig(), jobs, plan(input_lines(path)), out, err, with_status=with_status)
    return _outputs(out.getvalue()), err.getvalue()


def _outputs(data: bytes) -> list[dict]:
    outputs = [orjson.loads(line) for line in data.splitlines()]
    for output in outputs:
        output.pop("emitted_at", None)
    return outputs


def _by_patient(outputs: list[dict]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = defaultdict(list)
    for output in outputs:
        grouped[output["patient_id"]].append(orjson.dumps(output, option=orjson.OPT_SORT_KEYS))
    return dict(grouped)


def _assert_same(single: list[dict], parallel: list[dict]) -> None:
    assert len(parallel) == len(single)
    assert _by_patient(parallel) == _by_patient(single)  # the same outputs, in each patient's order


@pytest.mark.timeout(300)
@pytest.mark.parametrize("order", ["time-sorted", "grouped"])
def test_two_processes_give_what_one_gives_on_real_stays(stays, tmp_path: Path, order: str) -> None:
    lines = time_sorted(stays) if order == "time-sorted" else [line for own in stays.values() for line in own]
    path = tmp_path / "stays.jsonl"
    path.write_bytes(b"".join(lines))
    single, errors = _single(path, with_status=True)
    assert errors == ""
    assert any(output.get("rule") for output in single), "real stays and no alert"
    assert any("news2" in output and "rule" not in output for output in single), "no status"
    for jobs in (2, 3):
        parallel, errors = _jobs(path, jobs, with_status=True)
        assert errors == ""
        _assert_same(single, parallel)
    alerts_only, _ = _jobs(path, 2, with_status=False)
    _assert_same([output for output in single if "rule" in output], alerts_only)


def test_invalid_lines_are_reported_with_their_numbers_in_order(stays, tmp_path: Path) -> None:
    lines = time_sorted(dict(list(stays.items())[:12]))
    patient = orjson.loads(lines[0])["patient_id"]
    other = orjson.loads(lines[-1])["patient_id"]
    bad = [
        b"not json\n",
        b"[1, 2]\n",
        b"\n",
        b'{"ts": "2020-01-01T05:00:00Z", "heart_rate": 80}\n',
        b'{"patient_id": 7, "ts": "2020-01-01T05:00:00Z", "heart_rate": 80}\n',
        b'{"patient_id": "%s", "ts": "2020-01-01T05:00:00Z", "heart_rate": 999}\n' % patient.encode(),
        # invalid, and later than everything: time must not move for it in any process
        b'{"patient_id": "%s", "ts": "2020-01-09T00:00:00Z", "spo2": 101}\n' % other.encode(),
        b'{"patient_id": "%s", "ts": "not a time", "heart_rate": 80}\n' % other.encode(),
        b'{"patient_id": "%s", "type": "oxygen", "ts": "2020-01-01T06:00:00Z"}\n' % patient.encode(),
    ]
    mixed = list(lines)
    for offset, line in enumerate(bad):
        mixed.insert(7 + 40 * offset, line)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"".join(mixed))
    single, single_errors = _single(path, with_status=True)
    assert single_errors.count("\n") == len(bad) - 1  # the blank line is skipped
    for jobs in (2, 4):
        parallel, errors = _jobs(path, jobs, with_status=True)
        assert errors == single_errors
        _assert_same(single, parallel)


def test_patients_are_shared_out_by_their_lines() -> None:
    known = plan(
        [
            b'{"patient_id": "%s", "ts": "2020-01-01T00:00:00Z"}' % name
            for name, count in ((b"a", 5), (b"b", 3), (b"c", 2), (b"d", 1))
            for _ in range(count)
        ]
    )
    assert share_out(known, 2) == {"a": 0, "b": 1, "c": 1, "d": 0}  # 5 + 1 and 3 + 2 lines
    assert share_out(known, 1) == dict.fromkeys("abcd", 0)


@pytest.mark.timeout(120)
def test_the_command_line_replays_with_jobs(stays, tmp_path: Path) -> None:
    path = tmp_path / "few.jsonl"
    path.write_bytes(b"".join(time_sorted(dict(list(stays.items())[:20]))) + b"oops\n")
    runs = {}
    for jobs in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-m", "crsmon.cli", "replay", str(path), "--jobs", jobs], capture_output=True, check=True
        )
        runs[jobs] = done
    assert runs["2"].stderr == runs["1"].stderr
    assert runs["1"].stderr.startswith(b"line ")
    _assert_same(_outputs(runs["1"].stdout), _outputs(runs["2"].stdout))


def test_a_folder_of_stays_replays_with_jobs(stays, tmp_path: Path) -> None:
    folder = tmp_path / "stays"
    folder.mkdir()
    for patient_id, lines in list(stays.items())[:30]:
        (folder / f"{patient_id}.jsonl").write_bytes(b"".join(lines))
    single, errors = _single(folder, with_status=True)
    assert errors == "" and single
    parallel, errors = _jobs(folder, 2, with_status=True)
    assert errors == ""
    _assert_same(single, parallel)
