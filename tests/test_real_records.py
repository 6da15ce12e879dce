"""Real ICU records (151 PhysioNet/CinC 2019 stays, tests/data/physionet2019/SOURCES.md).

The engine met real patients for the first time in issue 7 and hung on the 19th. These tests
replay real stays as a hospital would export them — grouped by patient, one file per stay, or
sorted by time — and check that every run ends, that nothing valid is refused, that the alerts
make sense episode by episode, and that the order of the file changes nothing.
"""

from __future__ import annotations

import io
import random
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.replay import input_lines, plan, replay
from monitor.wire import encode
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems

DATA = Path(__file__).parent / "data" / "physionet2019"


def stay_lines(paths: list[Path]) -> dict[str, list[bytes]]:
    """Each stay's rows as VitalSigns JSON lines, as a gateway would have sent them."""
    problems = Problems()
    stays = {}
    for path in paths:
        stay = read_stay(path, ColumnMap(), problems)
        assert stay is not None
        stays[stay.patient_id] = [encode(event, drop_none=True) + b"\n" for event in stay.events]
    assert not problems.counts, problems.summary_lines()
    return stays


@pytest.fixture(scope="module")
def stays() -> dict[str, list[bytes]]:
    return stay_lines(stay_files(DATA))


class Watched(Engine):
    """The engine, noting the most patients it held at once."""

    most = 0

    def observe(self, event):
        outputs = super().observe(event)
        self.most = max(self.most, len(self._patients))
        return outputs


def run_replay(lines: list[bytes], engine: Engine | None = None) -> tuple[list[dict], str]:
    out, err = io.BytesIO(), io.StringIO()
    invalid = replay(lines, engine or Engine(), out, err, known=plan(lines))
    assert invalid == 0, err.getvalue()
    alerts = [orjson.loads(line) for line in out.getvalue().splitlines()]
    for alert in alerts:
        alert.pop("emitted_at")
    return alerts, err.getvalue()


def canonical(alerts: list[dict]) -> list[bytes]:
    return sorted(orjson.dumps(alert, option=orjson.OPT_SORT_KEYS) for alert in alerts)


def time_sorted(stays: dict[str, list[bytes]]) -> list[bytes]:
    lines = [line for own in stays.values() for line in own]
    return sorted(lines, key=lambda line: orjson.loads(line)["ts"])  # stable


@pytest.mark.timeout(120)
def test_every_real_stay_replays_to_the_end_with_sensible_episodes(stays) -> None:
    grouped = [line for own in stays.values() for line in own]
    alerts, errors = run_replay(grouped)
    assert errors == ""
    assert alerts, "151 ICU stays, a third of them septic, and no alert at all"
    open_episodes: dict[tuple[str, str], str] = {}
    changes: dict[str, int] = defaultdict(int)
    for alert in alerts:
        key = (alert["patient_id"], alert["rule"])
        assert alert["reasons"], alert
        if alert["status"] == "firing":
            assert key not in open_episodes, f"a second {alert['rule']} episode opened: {alert}"
            open_episodes[key] = alert["episode_id"]
        else:
            assert open_episodes.get(key) == alert["episode_id"], f"a change of no open episode: {alert}"
            if alert["status"] == "resolved":
                del open_episodes[key]
        changes[alert["episode_id"]] += 1
        assert changes[alert["episode_id"]] < 200, "an episode that keeps changing"
    per_patient = defaultdict(int)
    for patient_id, _ in open_episodes:
        per_patient[patient_id] += 1
    assert max(per_patient.values(), default=0) <= 3  # crs, news2, signal_loss


@pytest.mark.timeout(120)
def test_a_file_grouped_by_patient_gives_the_alerts_of_the_same_events_sorted_by_time(stays) -> None:
    grouped_engine, sorted_engine = Watched(), Watched()
    grouped, _ = run_replay([line for own in stays.values() for line in own], grouped_engine)
    by_time, _ = run_replay(time_sorted(stays), sorted_engine)
    assert canonical(grouped) == canonical(by_time)
    assert grouped_engine.most == 1  # one stay at a time, however long the file
    assert sorted_engine.most > 100  # every stay starts on the same day: all open at once
    assert list(grouped_engine.patients()) == list(sorted_engine.patients()) == []


@pytest.mark.timeout(120)
def test_a_folder_of_per_stay_files_gives_the_alerts_of_one_grouped_file(stays, tmp_path) -> None:
    chosen = random.Random(5).sample(sorted(stays), 30)
    for patient_id in chosen:
        (tmp_path / f"{patient_id}.jsonl").write_bytes(b"".join(stays[patient_id]))
    folder, _ = run_replay(list(input_lines(tmp_path)))
    grouped, _ = run_replay([line for patient_id in sorted(chosen) for line in stays[patient_id]])
    assert canonical(folder) == canonical(grouped)
    assert folder


@pytest.mark.parametrize("ward_rule", ["deterioration", "news2"])
def test_the_stay_that_hung_the_engine_ends_in_a_few_steps_per_record(stays, ward_rule) -> None:
    class Counting(Engine):
        steps = 0

        def _step(self, *args, **kwargs):
            self.steps += 1
            super()._step(*args, **kwargs)

    # The hang was the NEWS2 rule's; the deterioration rule (the default) must end as well.
    engine = Counting(EngineConfig(deterioration_rule=ward_rule == "deterioration"))
    lines = stays["p100049"]
    alerts, _ = run_replay(lines, engine)
    assert engine.steps <= 4 * len(lines)
    assert not engine.stalls
    assert any(alert["rule"] == ward_rule for alert in alerts)


def test_an_engine_that_builds_no_statuses_gives_the_same_alerts(stays) -> None:
    lines = [line for patient_id in sorted(stays)[:40] for line in stays[patient_id]]
    with_statuses, _ = run_replay(lines, Engine())
    without, _ = run_replay(lines, Engine(statuses=False))
    assert with_statuses == without and without
