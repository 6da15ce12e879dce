"""validate's faster paths give what the straightforward ones give, on real stays
(tests/data/physionet2019).

- A row's VitalSigns: the wire's fast path for plain vital signs, against pydantic.
- The figures' hours and bootstrap sums: counted once per run, against counting per figure.
- A chunk's results pickled as bytes: back as they were made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import validation.physionet as physionet
from monitor.wire import encode
from validation.figures import Bootstrap, StayHours
from validation.outcomes import Flags, StayResult
from validation.physionet import ColumnMap, read_stay, stay_files
from validation.problems import Problems

DATA = Path(__file__).parent / "data" / "physionet2019"


def _read_all() -> list:
    return [read_stay(path, ColumnMap(), Problems()) for path in stay_files(DATA)]


def test_a_row_s_vital_signs_by_the_fast_path_are_pydantic_s(monkeypatch) -> None:
    fast = _read_all()
    monkeypatch.setattr(physionet, "plain_vitals", lambda document: None)  # pydantic only
    slow = _read_all()
    assert sum(len(stay.events) for stay in fast) > 4000
    for quick, straight in zip(fast, slow):
        assert quick.events == straight.events, quick.patient_id
        assert [event.model_fields_set for event in quick.events] == [
            event.model_fields_set for event in straight.events
        ], quick.patient_id
        assert [encode(event) for event in quick.events] == [encode(event) for event in straight.events], (
            quick.patient_id
        )
        assert np.array_equal(quick.grid, straight.grid, equal_nan=True)


def test_a_timestamp_the_wire_s_text_would_round_goes_to_pydantic() -> None:
    at, text = physionet._timestamp(1.0000001)  # noqa: SLF001
    assert text is None and at.microsecond % 1000 != 0
    assert physionet._vital_signs({"heart_rate": 80.0, "patient_id": "p1"}, 1.0000001).ts == at  # noqa: SLF001


@pytest.fixture(scope="module")
def results() -> list[tuple[StayResult, np.ndarray]]:
    """Each real stay with a made-up detector flagging every third hour from a stay's own
    offset, so that stays differ in length, flags and patient-hours."""
    out = []
    for index, stay in enumerate(_read_all()):
        result = StayResult(
            stay.patient_id, stay.source, stay.hours, stay.measured(), stay.onset_hour, stay.outcome_known
        )
        out.append((result, (np.arange(stay.hours) + index) % 3 == 0))
    return out


def test_flagged_patient_hours_counted_at_once_are_those_counted_stay_by_stay(results) -> None:
    stays = [stay for stay, _ in results]
    flags = [Flags(hours, 0, None) for _, hours in results]
    hours = StayHours.of(stays)
    assert hours.patient.tolist() == [float(stay.measured.sum()) for stay in stays]
    expected = [float((flag.hours & stay.measured).sum()) for flag, stay in zip(flags, stays)]
    assert hours.flagged(flags).tolist() == expected
    assert len(set(expected)) > 10


def test_ratios_from_kept_resampled_sums_are_those_summed_afresh(results) -> None:
    stays = [stay for stay, _ in results]
    hours = StayHours.of(stays)
    flagged = hours.flagged([Flags(flag, 0, None) for _, flag in results])
    firsts = np.array([float(flag[0]) for _, flag in results])
    kept = Bootstrap()
    for numerator, denominator in (
        (flagged, hours.patient),
        (firsts, hours.patient / 24),
        (flagged, hours.patient),
        (firsts[:40], hours.patient[:40]),
    ):
        picks = kept.draws(len(numerator))
        straight = numerator[picks].sum(axis=1) / denominator[picks].sum(axis=1)
        low, high = np.percentile(straight, [2.5, 97.5])
        assert kept.ratio(numerator, denominator)["ci95"] == [float(low), float(high)]
    # the same content gives the sums kept; another content its own
    assert kept.resampled_sums(hours.patient.copy()) is kept.resampled_sums(hours.patient)
    assert not np.array_equal(kept.resampled_sums(flagged), kept.resampled_sums(hours.patient))


def test_a_chunk_s_results_cross_processes_as_they_were_made() -> None:
    import pickle

    from monitor.config import EngineConfig
    from validation.run_stays import run_stays

    stays = _read_all()[:24]
    made = run_stays(stays, Problems(), EngineConfig(), [("deterioration_high_open", 3.0)])
    back = pickle.loads(pickle.dumps(made))

    def plain(flags: Flags) -> tuple:
        return flags.hours.dtype.str, flags.hours.tolist(), flags.firings, flags.first_at

    assert any(stay.detectors["crsmon ≥ medium"].firings for stay in made.stays)
    for mine, theirs in zip(made.stays, back.stays):
        assert (
            theirs.patient_id,
            theirs.source,
            theirs.hours,
            theirs.onset_hour,
            theirs.outcome_known,
            theirs.by_rule,
        ) == (mine.patient_id, mine.source, mine.hours, mine.onset_hour, mine.outcome_known, mine.by_rule)
        assert (theirs.measured.dtype, theirs.measured.tolist()) == (mine.measured.dtype, mine.measured.tolist())
        assert {name: plain(f) for name, f in theirs.detectors.items()} == {
            name: plain(f) for name, f in mine.detectors.items()
        }
    for key, per_stay in made.sweep.items():
        assert [{n: plain(f) for n, f in d.items()} for d in back.sweep[key]] == [
            {n: plain(f) for n, f in d.items()} for d in per_stay
        ]
    for label, flags in made.bedside_sweep.items():
        assert [plain(f) for f in back.bedside_sweep[label]] == [plain(f) for f in flags]
