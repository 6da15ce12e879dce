"""The offline harness's definitions (bench/deterioration/metrics.py): what a firing, a
flagged hour and a caught septic stay are — the figures of issue 12 rest on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.deterioration import bedside, metrics
from bench.deterioration.data import COLUMNS, Stay


def _stay(hours: int, onset: int | None = None, measured: list[bool] | None = None) -> Stay:
    values = np.full((hours, len(COLUMNS)), np.nan)
    values[:, 0] = 80.0
    mask = np.ones(hours, dtype=bool) if measured is None else np.array(measured)
    values[~mask] = np.nan
    return Stay("p", values, onset, mask)


def test_a_firing_is_a_passage_into_flagged_and_the_first_hour_counts() -> None:
    assert metrics.firings(np.array([0, 1, 1, 0, 1, 0], dtype=bool)) == 2
    assert metrics.firings(np.array([1, 1, 0], dtype=bool)) == 1
    assert metrics.firings(np.zeros(5, dtype=bool)) == 0


def test_burden_counts_patient_hours_with_data_only() -> None:
    stay = _stay(48, measured=[False] * 24 + [True] * 24)
    flags = np.zeros(48, dtype=bool)
    flags[30:36] = True
    f = metrics.figures(metrics.summarise([stay], [flags]))
    assert f["firings_per_day"] == 1.0  # one firing in 24 patient-hours
    assert f["hours_flagged"] == 6 / 24


def test_a_septic_stay_counts_when_flagged_six_hours_before_onset() -> None:
    early = _stay(20, onset=10)  # onset < 12 h after the first record: not counted
    late = _stay(30, onset=20)
    flags_late = np.zeros(30, dtype=bool)
    flags_late[14] = True  # onset − 6
    s = metrics.summarise([early, late], [np.ones(20, dtype=bool), flags_late])
    f = metrics.figures(s)
    assert f["septic_n"] == 1 and f["sens_6"] == 1.0 and f["sens_3"] == 0.0


def test_carry_forward_holds_a_value_four_hours() -> None:
    column = np.array([20.0] + [np.nan] * 6)
    carried = bedside.carry_forward(column, 4)
    assert np.all(carried[:5] == 20.0) and np.all(np.isnan(carried[5:]))


def test_bootstrap_interval_brackets_the_figure() -> None:
    rng = np.random.default_rng(3)
    stays, flags = [], []
    for index in range(60):
        stays.append(_stay(48))
        flags.append(rng.random(48) < 0.1)
    s = metrics.summarise(stays, flags)
    f, ci = metrics.figures(s), metrics.bootstrap(s, reps=300)
    assert ci["hours_flagged"][0] <= f["hours_flagged"] <= ci["hours_flagged"][1]
    assert ci["hours_flagged"][0] < ci["hours_flagged"][1]


def test_the_split_folders_hold_every_stay_once_as_links_to_the_originals(tmp_path) -> None:
    from bench.deterioration.split_folders import write_split_folders

    source = Path(__file__).parent / "data" / "physionet2019"
    counts = write_split_folders(source, tmp_path)
    fit = {p.name for p in (tmp_path / "fit").iterdir()}
    held = {p.name for p in (tmp_path / "held").iterdir()}
    assert not fit & held and fit | held == {p.name for p in source.glob("*.psv")}
    assert counts == {"fit": len(fit), "held": len(held)} and held
    link = next((tmp_path / "held").iterdir())
    assert link.is_symlink() and link.resolve() == (source / link.name).resolve()


def test_the_threshold_search_steps_every_stay_at_once_as_one_stay_at_a_time() -> None:
    """The search's machine over all stays at once (fitting._Padded) flags the hours the
    one-stay-at-a-time machine flags, and counts the burden as metrics does."""
    from bench.deterioration.fitting import _Padded, _single_level

    rng = np.random.default_rng(4)
    stays, scores = [], []
    for index in range(80):
        hours = int(rng.integers(1, 90))
        measured = rng.random(hours) < 0.8
        stays.append(_stay(hours, measured=measured.tolist()))
        scores.append(np.where(rng.random(hours) < 0.05, np.inf, rng.gamma(2.0, 1.0, hours)))
    padded = _Padded(stays, scores)
    for open_at, resolve_below, persistence, resolve in ((2.5, 2.5, 2, 1), (2.0, 1.4, 3, 4), (3.0, 2.55, 1, 2)):
        one = _single_level(scores, open_at, resolve_below, persistence, resolve)
        together = padded.flags(open_at, resolve_below, persistence, resolve)
        order = sorted(range(len(scores)), key=lambda i: -len(scores[i]))
        for row, i in enumerate(order):
            assert together[row, : len(scores[i])].tolist() == one[i].tolist()
            assert not together[row, len(scores[i]) :].any()
        f = metrics.figures(metrics.summarise(stays, one))
        fires, hours_flagged = padded.burden(together)
        assert fires == pytest.approx(f["firings_per_day"]) and hours_flagged == pytest.approx(f["hours_flagged"])


def test_the_engine_counts_each_episodes_closing_hour() -> None:
    """An alert open after hour h's evaluation stays open a minute into hour h + 1, so the
    engine flags that hour too, and a one-hour gap between episodes is no gap."""
    from bench.deterioration.fitting import engine_hours

    flags = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0], dtype=bool)
    assert engine_hours(flags).astype(int).tolist() == [0, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    together = np.vstack([flags, flags[::-1]])
    assert engine_hours(together).tolist() == [engine_hours(flags).tolist(), engine_hours(flags[::-1]).tolist()]


def _noisy_stays(seed: int) -> tuple[list[Stay], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    stays, scores = [], []
    for index in range(120):
        hours = int(rng.integers(24, 90))
        onset = int(rng.integers(14, hours)) if index % 6 == 0 else None
        stays.append(_stay(hours, onset=onset))
        base = rng.gamma(2.0, 1.0, hours)
        if onset is not None:
            base[max(0, onset - 8) : onset + 1] += 2.0
        scores.append(base)
    return stays, scores


def test_a_search_counting_the_closing_hour_keeps_the_engines_hours_within_its_limits() -> None:
    """The machine's own hours under the limits are not the engine's: searched on them, the
    engine's hours exceed the limit; searched on the engine's (closing_hour), they do not."""
    from bench.deterioration.fitting import _single_level, choose_level, engine_hours

    stays, scores = _noisy_stays(7)
    others = [i for i, s in enumerate(stays) if not s.septic]
    limits = (5.0, 0.05)

    def engine_share(chosen: tuple[float, float, int, int]) -> float:
        flags = _single_level([scores[i] for i in others], *chosen)
        s = metrics.summarise([stays[i] for i in others], [engine_hours(f) for f in flags])
        return metrics.figures(s)["hours_flagged"]

    machine, _ = choose_level(stays, scores, limits, "high")
    engine, log = choose_level(stays, scores, limits, "high", closing_hour=True)
    assert engine_share(machine) > limits[1] >= engine_share(engine)
    assert not any("over the limits" in line for line in log)


def test_the_search_prefers_dynamics_within_the_limits_to_more_septic_stays_caught(monkeypatch) -> None:
    """Scores of +inf (the NEWS2 floor) cannot be thresholded away: dynamics whose floor hours
    alone exceed the limits are over them at every threshold, and lose to any within, however
    many septic stays their long hysteresis holds an alert open for."""
    from bench.deterioration import fitting

    monkeypatch.setattr(fitting, "PERSISTENCE", (2,))
    monkeypatch.setattr(fitting, "RESOLVE", (1, 4))
    monkeypatch.setattr(fitting, "RESOLVE_RATIO", (1.0,))
    rng = np.random.default_rng(8)
    stays, scores = [], []
    for index in range(60):
        onset = 30 if index % 6 == 0 else None
        stays.append(_stay(48, onset=onset))
        hours = np.arange(48)
        # NEWS2 ≥ 7 two hours in twelve; before a septic onset, 9 and 8 hours ahead of it
        floor = (hours % 12 < 2) if onset is None else (hours == onset - 9) | (hours == onset - 8)
        scores.append(np.where(floor, np.inf, rng.gamma(2.0, 0.5, 48)))
    chosen, log = fitting.choose_level(stays, scores, (5.0, 0.20), "high", closing_hour=True)
    assert "over the limits" in log[1] and "catches 100.0% at −6 h" in log[1]  # resolve 4 h
    assert "over the limits" not in log[0]
    assert chosen[3] == 1


def test_news2_emergency_burden_is_scored_as_crsmon_validate_scores_it() -> None:
    """bedside_burden's NEWS2 ≥ 7 flags the hours validate's bedside NEWS2 ≥ 7 flags (its
    carry of four hours), on the sample stays, so `high` is held to the burden it is compared with."""
    from bench.deterioration.bedside import news2_total
    from bench.deterioration.data import read_folder
    from bench.deterioration.fitting import VALIDATE_CARRY_H
    from validation.bedside import scores
    from validation.physionet import ColumnMap, read_stay
    from validation.problems import Problems

    folder = Path(__file__).parent / "data" / "physionet2019"
    flagged = 0
    for stay in read_folder(folder):
        theirs = read_stay(folder / f"{stay.patient}.psv", ColumnMap(), Problems())
        assert theirs is not None
        validate = scores(theirs, 240.0)["NEWS2"] >= 7
        ours = news2_total(stay, VALIDATE_CARRY_H) >= 7
        assert ours.tolist() == validate.tolist(), stay.patient
        flagged += int(ours.sum())
    assert flagged  # the sample has emergency hours to compare
