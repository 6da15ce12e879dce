"""The per-patient window: event-time placement, lateness, duplicates, bytes, memory."""

import math
from pathlib import Path

import numpy as np
import pytest

from monitor.engine import Engine
from monitor.parameters import COUNT, HEART_RATE, SPO2
from monitor.patient_state import FORMAT_VERSION
from monitor.window import ABSENT, DUPLICATE, LATE, NEWEST, TOO_LATE, Window, WindowLimits
from tests.support.clinical import Bedside

T0 = 1_795_420_800.0  # 2026-11-23T00:00:00Z, a minute boundary


def row(heart_rate: float = ABSENT, spo2: float = ABSENT) -> tuple[float, ...]:
    values = [ABSENT] * (COUNT + 1)
    values[HEART_RATE], values[SPO2], values[COUNT] = heart_rate, spo2, 0.0
    return tuple(values)


def minute_of(window: Window, at: float) -> np.ndarray:
    minute = int(at // 60)
    return window.minutes_until(minute, 1)[0]


def test_a_set_up_to_five_minutes_late_is_placed_in_its_minute():
    window = Window(WindowLimits())
    for second in range(0, 400, 10):
        if second not in (100, 110, 120):
            assert window.add(T0 + second, row(80)) == NEWEST
    assert window.add(T0 + 100, row(200)) == LATE  # 290 s late
    assert list(window.times) == sorted(window.times)
    assert minute_of(window, T0 + 100)[HEART_RATE] == 80  # 80 ×4, 200: the median is 80
    assert window.add(T0 + 110, row(200)) == LATE
    assert window.add(T0 + 120, row(200)) == LATE  # 280 s late, the next minute
    assert minute_of(window, T0 + 100)[HEART_RATE] == 80  # 80 ×4, 200 ×2
    assert minute_of(window, T0 + 120)[HEART_RATE] == 80
    for second in range(400, 3600, 10):
        window.add(T0 + second, row(80))
    assert window.last_minute >= int((T0 + 120) // 60)  # sealed with the late samples in
    assert minute_of(window, T0 + 100)[HEART_RATE] == 80


def test_a_late_sample_changes_the_median_of_its_own_minute():
    window = Window(WindowLimits())
    for second in (0, 30, 60, 70, 90, 350):
        window.add(T0 + second, row(80 if second < 60 else 100))
    assert minute_of(window, T0 + 80)[HEART_RATE] == 100
    assert window.add(T0 + 80, row(60)) == LATE
    assert window.add(T0 + 85, row(60)) == LATE
    assert window.add(T0 + 88, row(60)) == LATE
    assert minute_of(window, T0 + 80)[HEART_RATE] == 80  # 100 ×3, 60 ×3: between the middle two
    assert minute_of(window, T0)[HEART_RATE] == 80


def test_sets_more_than_five_minutes_late_are_counted_and_ignored():
    window = Window(WindowLimits())
    window.add(T0 + 1000, row(80))
    assert window.add(T0 + 1000 - 301, row(150)) == TOO_LATE
    assert window.add(T0 + 1000 - 300, row(150)) == LATE  # exactly 5 minutes is still in time
    assert window.too_late == 1
    kept = [window.rows[i * (COUNT + 1) + HEART_RATE] for i in range(len(window.times))]
    assert kept == [150, 80]


def test_exact_duplicates_are_counted_and_ignored_late_or_not():
    window = Window(WindowLimits())
    window.add(T0, row(80, 97))
    window.add(T0 + 10, row(82, 96))
    assert window.add(T0 + 10, row(82, 96)) == DUPLICATE
    assert window.add(T0, row(80, 97)) == DUPLICATE  # a late duplicate
    assert window.add(T0 + 10, row(82)) == NEWEST  # same moment, other values: a second device
    assert window.duplicates == 2
    assert len(window.times) == 3


def test_the_engine_counts_duplicates_and_too_late_sets_and_ignores_them():
    bed = Bedside()
    bed.vitals(bed.at(10), heart_rate=80)
    statuses = len(bed.statuses)
    bed.vitals(bed.at(10), heart_rate=80)
    bed.vitals(bed.at(0), heart_rate=190)  # ten minutes late
    assert len(bed.statuses) == statuses
    assert bed.engine.counters(bed.patient_id) == {"too_late": 1, "duplicates": 1, "artifacts": 0, "gaps": 0}
    assert bed.status().latest["heart_rate"] == 80


def test_per_minute_medians_last_a_day_and_ignore_a_single_spike():
    window = Window(WindowLimits())
    for second in range(0, 26 * 3600, 5):
        heart_rate = 190.0 if second == 7200 + 25 else 70.0 + (second // 3600)
        window.add(T0 + second, row(heart_rate))
    end = int((T0 + 26 * 3600) // 60)
    minutes = window.minutes_until(end, 24 * 60)
    assert np.count_nonzero(~np.isnan(minutes[:, HEART_RATE])) >= 24 * 60 - 7  # all but the open minutes
    assert minutes[0, HEART_RATE] == 72  # the oldest minute kept: hour 2
    assert not np.any(minutes[:, HEART_RATE] == 190)


def test_a_gap_clears_the_minutes_it_spans():
    window = Window(WindowLimits(minutes=60))
    for second in range(0, 3600, 30):
        window.add(T0 + second, row(80))
    for second in range(3 * 3600, 3 * 3600 + 1200, 30):
        window.add(T0 + second, row(90))
    minutes = window.minutes_until(int((T0 + 3 * 3600 + 1200) // 60), 60)
    present = minutes[~np.isnan(minutes[:, HEART_RATE]), HEART_RATE]
    assert set(present) == {90}


def test_window_bytes_round_trip():
    window = Window(WindowLimits())
    for second in range(0, 7200, 7):
        window.add(T0 + second, row(70 + second % 13, 95 + second % 3))
    window.add(T0, row(1))  # too late, counted
    copy = Window.from_bytes(window.to_bytes(), WindowLimits())
    assert copy.to_bytes() == window.to_bytes()
    end = int((T0 + 7200) // 60)
    assert np.array_equal(copy.minutes_until(end, 120), window.minutes_until(end, 120), equal_nan=True)
    assert (copy.too_late, copy.duplicates) == (window.too_late, window.duplicates)


def test_patient_state_has_a_version_byte_and_refuses_unknown_versions():
    bed = Bedside()
    bed.therapy(bed.at(0))
    bed.vitals(bed.at(5), heart_rate=80, temperature=38.5)
    data = bed.engine.snapshot(bed.patient_id)
    assert data[0] == FORMAT_VERSION
    other = Engine()
    other.restore(bed.patient_id, data)
    assert other.snapshot(bed.patient_id) == data
    with pytest.raises(ValueError, match="unknown patient state format 99"):
        other.restore(bed.patient_id, bytes([99]) + data[1:])
    with pytest.raises(ValueError):
        other.restore(bed.patient_id, data[:40])
    with pytest.raises(ValueError):
        other.restore("MRN-someone-else", data)


def test_state_of_the_foundations_engine_format_1_is_still_read():
    legacy = bytes([1]) + (
        b'{"patient_id":"MRN-7","ward":"5-West","bed":"3","therapy_at":"2026-11-23T08:00:00Z",'
        b'"latest":{"temperature":38.6},"episode":["MRN-7:crs:2026-11-23T10:00:00Z","medium",1,null]}'
    )
    engine = Engine()
    engine.restore("MRN-7", legacy)
    bed = Bedside(engine, "MRN-7")
    bed.vitals(bed.at(130), temperature=38.9)
    assert bed.firing() == []  # the episode carried over is still the open one
    bed.discharge(bed.at(140))
    assert [(a.status, a.episode_id) for a in bed.alerts] == [("resolved", "MRN-7:crs:2026-11-23T10:00:00Z")]


def test_a_day_at_1_hz_stays_far_below_64_kb():
    window = Window(WindowLimits())
    for second in range(0, 86_400):
        window.add(T0 + second, (70.0 + second % 5, 120.0, 80.0, 93.0, 37.0, 97.0, 16.0, 0.0))
    assert window.size() < 40_000
    assert len(window.to_bytes()) < 40_000


def test_a_flood_at_one_moment_is_bounded_by_the_raw_row_limit():
    limits = WindowLimits(raw_rows_max=200)
    window = Window(limits)
    for n in range(5000):
        window.add(T0 + n * 0.001, row(60 + n % 90))
    assert len(window.times) <= limits.raw_rows_max + 1
    assert window.size() < 30_000
    assert window.too_late + len(window.times) + 1 >= 5000 - 60 * 200


def test_minutes_until_reports_nan_for_the_future_and_the_forgotten():
    window = Window(WindowLimits(minutes=30))
    window.add(T0, row(80))
    window.add(T0 + 3600, row(80))
    minutes = window.minutes_until(int(T0 // 60) + 120, 10)
    assert np.all(np.isnan(minutes))
    assert math.isinf(Window(WindowLimits()).watermark)


def test_minute_medians_equal_a_plain_median_of_each_minutes_readings():
    import random
    import statistics

    rng = random.Random(11)
    for _ in range(30):
        window = Window(WindowLimits(raw_rows_max=64, seal_delay_s=rng.choice([0, 120, 1800])))
        readings: dict[tuple[int, int], list[float]] = {}
        at = T0
        for _ in range(rng.randint(1, 300)):
            at += rng.choice([0.5, 1, 7, 30, 60, 61, 200])
            values = [ABSENT] * (COUNT + 1)
            values[COUNT] = 0.0
            for column in rng.sample(range(COUNT), rng.randint(1, 3)):
                values[column] = float(rng.choice([0, rng.randint(30, 140)]))
            if window.add(at, tuple(values)) in (NEWEST, LATE):
                for column in range(COUNT):
                    if values[column] > 0:
                        readings.setdefault((int(at // 60), column), []).append(values[column])
        end = int(at // 60)
        minutes = window.minutes_until(end, 1440)
        for (minute, column), values in readings.items():
            if minute > end - 1440:
                got = minutes[minute - end + 1439, column]
                assert abs(got - statistics.median(values)) < 0.006, (minute, column, values, got)


def test_hourly_sets_seal_alone_in_their_minute_as_the_general_path_would():
    """Charted hourly, each minute holds one set: sealed without numpy, to the same ring."""
    rows = [(3600.0 * hour + 17, (80.0 + hour, ABSENT, ABSENT, ABSENT, 37.25, 97.5, 18.0, 0.0)) for hour in range(30)]
    sparse, general = Window(WindowLimits()), Window(WindowLimits(seal_delay_s=0))
    for at, row in rows:
        sparse.add(at, row)
    for at, row in rows:  # the same sets, sealed in one numpy batch at the end
        general.times.append(at)
        general.rows.extend(row)
    general.watermark = rows[-1][0]  # so that it seals what the sparse window has sealed
    general._seal_due()  # noqa: SLF001 (the general path, in one batch)
    assert sparse.last_minute == general.last_minute == int(rows[-2][0] // 60)
    end = int(rows[-1][0] // 60)
    assert np.array_equal(sparse.minutes_until(end, 1440), general.minutes_until(end, 1440), equal_nan=True)
    assert sparse.holds_data_in(1200, 1200) and not sparse.holds_data_in(1681, 1739)
    assert sparse.holds_data_in(1740, 1740)  # the newest set, not sealed yet
    assert not sparse.holds_data_in(0, 0)  # older than the ring's day: gone


# -- hour_medians: the deterioration warning's day, with the hours that cannot change kept ------
def _hours_reference(window: Window, end_minute: int, hours: int, columns: tuple[int, ...]) -> np.ndarray:
    """The frozen way: the day of minutes (the replaced conversion) cut into hours, each
    reduced by the frozen hourly medians' per-lane median."""
    from tests.support import deterioration_reference as ref

    minutes = ref.minutes_until(window, end_minute, 60 * hours, slice(COUNT))
    padded = np.full((1440, COUNT), np.nan)  # ref.hourly_medians takes a whole day
    padded[1440 - 60 * hours :] = minutes
    return ref.hourly_medians(padded)[24 - hours :, list(columns)]


def _same(got: list, expected: np.ndarray) -> bool:
    got_array = np.array(got, dtype=float).reshape(expected.shape)
    return np.array_equal(got_array, expected, equal_nan=True) and np.array_equal(
        np.signbit(got_array), np.signbit(expected)
    )


@pytest.mark.parametrize("seed", range(8))
def test_hour_medians_equal_the_days_minutes_reduced_hour_by_hour(seed):
    """Every answer of `hour_medians`, hours kept from earlier calls or not, equals the day of
    minutes reduced afresh — through hourly charting, late and duplicate sets, several sets
    in a minute, a monitor's minutes, discarded and reinstated values, gaps longer than the
    ring, restarts from bytes, asking for earlier or later days and other columns."""
    from monitor.deterioration.features import CHANNEL_COLUMNS

    rng = np.random.default_rng(seed)
    limits = WindowLimits(minutes=int(rng.choice([1440, 1440, 180])))
    window = Window(limits)
    at = T0 + float(rng.integers(0, 3600))
    added: list[tuple[float, int, float]] = []  # (time, column, value) of sets still believable
    checks = 0
    for step in range(int(rng.integers(150, 300))):
        kind = rng.random()
        if kind < 0.6:  # charted hourly, give or take
            at += float(rng.normal(3600, 600)) if rng.random() < 0.9 else float(rng.integers(1, 400))
        elif kind < 0.7:
            at += float(rng.integers(1, 60))  # often a second set in the same minute
        elif kind < 0.75:
            at += float(rng.choice([6 * 3600, 26 * 3600, 3 * 86400]))  # gaps, some past the ring
        elif kind < 0.85:  # a monitor's minutes for a while
            for _ in range(int(rng.integers(5, 120))):
                at += float(rng.integers(20, 70))
                values = [
                    float(v) if rng.random() < 0.7 else ABSENT
                    for v in rng.normal(85, 15, COUNT + 1).round(1).clip(1, 300)
                ]
                values[COUNT] = 0.0
                window.add(at, tuple(values))
        values = [
            float(v) if rng.random() < 0.75 else ABSENT
            for v in rng.normal(85, 15, COUNT + 1).round(int(rng.choice([0, 2]))).clip(1, 300)
        ]
        values[COUNT] = 0.0
        when = at - float(rng.integers(1, 400)) if rng.random() < 0.15 else at
        window.add(when, tuple(values))
        if rng.random() < 0.05:
            window.add(when, tuple(values))  # a duplicate
        column = int(rng.integers(COUNT))
        if values[column] > 0:
            added.append((when, column, values[column]))
        if added and rng.random() < 0.15:  # a value taken out, then perhaps put back
            when, column, value = added[int(rng.integers(len(added)))]
            window.discard(column, when, value)
            if rng.random() < 0.5:
                window.reinstate(column, when, value)
        if rng.random() < 0.1:  # a restart: the kept hours are derived, never written
            window = Window.from_bytes(window.to_bytes(), limits)
        hour = int(window.watermark // 3600) + int(rng.choice([0, 0, 0, 1, 2, -1, -30]))
        columns = CHANNEL_COLUMNS if rng.random() < 0.85 else (0, COUNT - 1)
        hours = 24 if rng.random() < 0.9 else int(rng.integers(1, 24))
        got = window.hour_medians(hour * 60, hours, columns)
        assert _same(got, _hours_reference(window, hour * 60, hours, columns)), step
        checks += 1
    assert checks > 100


def test_hour_medians_forget_a_sealed_hour_whose_value_is_taken_out():
    from monitor.deterioration.features import CHANNEL_COLUMNS

    window = Window(WindowLimits())
    for hour in range(6):
        window.add(T0 + hour * 3600, row(80 + hour, 95))
    first = window.hour_medians(int(T0 // 60) + 5 * 60, 24, CHANNEL_COLUMNS)
    assert first[-5][0] == 81
    window.discard(HEART_RATE, T0 + 3600, 81)  # sealed long ago: the ring's minute changes
    again = window.hour_medians(int(T0 // 60) + 5 * 60, 24, CHANNEL_COLUMNS)
    assert math.isnan(again[-5][0])
    assert _same(again, _hours_reference(window, int(T0 // 60) + 5 * 60, 24, CHANNEL_COLUMNS))


def test_hour_medians_charted_hourly_compute_only_the_newest_hour_again(monkeypatch):
    """The point of keeping hours: once the engine's day is known, the next hour's call
    reads the window for the two hours that changed only (the new set's, and the hour before,
    whose set was raw then and is sealed now) — and a restart reads it all again."""
    from monitor.deterioration.features import CHANNEL_COLUMNS

    window = Window(WindowLimits())
    asked: list[int] = []
    sparse = Window._sparse_hour_medians  # noqa: SLF001  # counted, not changed

    def counting(self, end_minute, hours, columns):
        asked.append(hours)
        return sparse(self, end_minute, hours, columns)

    monkeypatch.setattr(Window, "_sparse_hour_medians", counting)
    for hour in range(40):
        window.add(T0 + hour * 3600 + 17, row(80 + hour % 7, 95))
        end = int(T0 // 60) + hour * 60 + 60
        got = window.hour_medians(end, 24, CHANNEL_COLUMNS)
        assert _same(got, _hours_reference(window, end, 24, CHANNEL_COLUMNS))
    assert asked[0] > 2 and set(asked[2:]) == {2}, asked
    restored = Window.from_bytes(window.to_bytes(), WindowLimits())
    restored.hour_medians(end, 24, CHANNEL_COLUMNS)
    assert asked[-1] > 2, asked


# -- the compact byte form (patient state format 3) -----------------------------------------
FORMAT_2_FIXTURE = Path(__file__).parent / "data" / "patient_state" / "format2-p103061-after-30-sets.bin"


def _engine_the_fixtures_were_written_by() -> Engine:
    """The fixtures hold the deterioration machines' state as the warning of their day left
    it (weights file version 1 and its thresholds): what they test is the byte format, so
    they are replayed under that warning, not under whatever model ships now."""
    from monitor.config import EngineConfig
    from monitor.deterioration.model import WEIGHTS_FILE

    version_1 = {
        "medium_open": 1.801,
        "medium_resolve": 1.801,
        "medium_persistence_h": 2,
        "medium_resolve_h": 4,
        "high_open": 2.6,
        "high_resolve": 2.528,
        "high_persistence_h": 2,
        "high_resolve_h": 1,
    }
    settings = {f"deterioration_{name}": value for name, value in version_1.items()}
    return Engine(EngineConfig(deterioration_weights=str(WEIGHTS_FILE.with_name("weights-v1.json")), **settings))


def _real_stay():
    from validation.physionet import ColumnMap, read_stay
    from validation.problems import Problems

    return read_stay(Path(__file__).parent / "data" / "physionet2019" / "p103061.psv", ColumnMap(), Problems())


def test_a_format_2_snapshot_of_the_previous_version_restores_and_goes_on_as_if_never_stopped():
    """A table written by the previous worker (format 2, committed as written) restores after
    an upgrade: the rest of the stay gives the alerts of a run that was never interrupted."""
    stay = _real_stay()
    stored = FORMAT_2_FIXTURE.read_bytes()
    assert stored[0] == 2
    uninterrupted = _engine_the_fixtures_were_written_by()
    for event in stay.events[:30]:
        uninterrupted.observe(event)
    restored = _engine_the_fixtures_were_written_by()
    restored.restore(stay.patient_id, stored)
    assert restored.snapshot(stay.patient_id) == uninterrupted.snapshot(stay.patient_id)
    expected = [alert for event in stay.events[30:] for alert in uninterrupted.observe(event).alerts]
    got = [alert for event in stay.events[30:] for alert in restored.observe(event).alerts]
    assert got == expected
    assert [(a.rule, a.status) for a in got] == [("deterioration", "resolved")]
    assert restored.snapshot(stay.patient_id) == uninterrupted.snapshot(stay.patient_id)


FORMAT_3_FIXTURE = Path(__file__).parent / "data" / "patient_state" / "format3-p100580-after-31-sets.bin"


def test_a_format_3_snapshot_with_open_machines_and_floors_reads_back_to_the_same_bytes():
    """Written when the deterioration machines and the NEWS2 floors were positional lists:
    the typed parts that replaced them read it, write the very same bytes, and the rest of the
    stay gives the alerts of a run that was never interrupted."""
    from validation.physionet import ColumnMap, read_stay
    from validation.problems import Problems

    stay = read_stay(Path(__file__).parent / "data" / "physionet2019" / "p100580.psv", ColumnMap(), Problems())
    stored = FORMAT_3_FIXTURE.read_bytes()
    assert stored[0] == 3
    restored = _engine_the_fixtures_were_written_by()
    restored.restore(stay.patient_id, stored)
    assert restored.snapshot(stay.patient_id) == stored
    uninterrupted = _engine_the_fixtures_were_written_by()
    for event in stay.events[:31]:
        uninterrupted.observe(event)
    assert uninterrupted.snapshot(stay.patient_id) == stored
    expected = [alert for event in stay.events[31:] for alert in uninterrupted.observe(event).alerts]
    got = [alert for event in stay.events[31:] for alert in restored.observe(event).alerts]
    assert got == expected
    assert [(a.rule, a.status, a.severity) for a in got] == [("deterioration", "updated", "medium")]


def test_a_patient_charted_hourly_is_written_in_under_a_kilobyte():
    """The worker writes such a patient on nearly every record: its snapshot is the changelog's
    cost per record (format 2 wrote ≈ 14.7 KB: the ring's whole day for 24 minutes of data)."""
    stay = _real_stay()
    engine = Engine()
    sizes = []
    for event in stay.events:
        engine.observe(event)
        sizes.append(len(engine.snapshot(stay.patient_id)))
    assert sizes[0] > 0 and max(sizes[24:]) < 1024, sizes
    assert sum(sizes) / len(sizes) < 1024


def test_the_ring_is_written_sparse_when_few_minutes_hold_data_and_dense_when_many_do():
    hourly = Window(WindowLimits())
    for hour in range(30):
        hourly.add(T0 + hour * 3600 + 17, row(80 + hour % 7, 95))
    dense = Window(WindowLimits())
    for second in range(0, 86_400, 20):
        dense.add(T0 + second, row(70 + second % 5, 97))
    for window in (hourly, dense):
        copy = Window.from_bytes(window.to_bytes(), WindowLimits())
        assert copy.to_bytes() == window.to_bytes()
        end = window.last_minute
        assert np.array_equal(copy.minutes_until(end, 1440), window.minutes_until(end, 1440), equal_nan=True)
    assert len(hourly.to_bytes()) < 1_000  # 24 minutes listed, not the day's 1,440
    assert 1440 * COUNT * 2 < len(dense.to_bytes()) < 1440 * COUNT * 2 + 2_000  # no offsets added


def test_a_sparse_ring_restores_into_a_shorter_window_keeping_its_newest_minutes():
    window = Window(WindowLimits())
    for hour in range(30):
        window.add(T0 + hour * 3600 + 17, row(80 + hour % 7, 95))
    shorter = Window.from_bytes(window.to_bytes(), WindowLimits(minutes=300))
    end = window.last_minute
    assert np.array_equal(shorter.minutes_until(end, 300), window.minutes_until(end, 300), equal_nan=True)
    assert shorter.first_minute == end - 299


def test_a_damaged_compact_state_is_refused_with_a_value_error():
    bed = Bedside()
    for minute in range(0, 600, 60):
        bed.vitals(bed.at(minute), heart_rate=80, temperature=37.0)
    data = bed.engine.snapshot(bed.patient_id)
    assert data[0] == FORMAT_VERSION == 3
    for damaged in (data[:-3], data[:1] + bytes(len(data) - 1), data + b"x"):
        with pytest.raises(ValueError):
            Engine().restore(bed.patient_id, damaged)


def test_a_dense_patients_snapshot_does_not_grow():
    """A day of monitoring, a set every 20 s: every minute holds data, so the ring stays
    dense (listing its minutes would only add to it), and the deflate does not grow it."""
    bed = Bedside()
    for second in range(0, 86_400, 20):
        bed.vitals(bed.at(second / 60), heart_rate=70 + second % 7, spo2=97, respiratory_rate=16)
    window = bed.engine._patients[bed.patient_id].window  # noqa: SLF001
    assert window.last_minute - window.first_minute > 1400
    assert len(bed.engine.snapshot(bed.patient_id)) < len(window.to_bytes())


# -- the ring taken only when many minutes hold data ---------------------------------------
def _dense(window: Window) -> Window:
    window._dense_ring()  # noqa: SLF001  # the ring at once, as a window with many minutes has it
    return window


@pytest.mark.parametrize("seed", range(16))
def test_a_window_listing_its_minutes_answers_as_one_holding_the_ring(seed):
    """The same operations through a window that lists its few minutes with data (until there
    are many) and one that holds the ring from the start: every read, the bytes and the ring
    itself agree, through hourly charting, late and duplicate sets, values taken out and put
    back (also where a minute had none), gaps past the ring, a monitor's minutes (which make
    the listing window take the ring), restarts from bytes and a shorter ring."""
    from monitor.deterioration.features import CHANNEL_COLUMNS

    rng = np.random.default_rng(1000 + seed)
    limits = WindowLimits(minutes=int(rng.choice([1440, 1440, 180])))
    listing, holding = Window(limits), _dense(Window(limits))
    at = T0 + float(rng.integers(0, 3600))
    added: list[tuple[float, int, float]] = []
    set_aside: list[tuple[float, int, float]] = []
    for step in range(int(rng.integers(100, 200))):
        kind = rng.random()
        burst = []
        if kind < 0.75:
            at += float(rng.normal(3600, 600)) if rng.random() < 0.9 else float(rng.integers(1, 400))
        elif kind < 0.85:
            at += float(rng.integers(1, 60))
        elif kind < 0.9:
            at += float(rng.choice([6 * 3600, 26 * 3600, 3 * 86400]))
        elif kind < 0.93:
            for _ in range(int(rng.integers(5, 60))):
                at += float(rng.integers(20, 70))
                burst.append((at, tuple([*rng.normal(85, 15, COUNT).round(1).clip(1, 300), 0.0])))
        values = [
            float(v) if rng.random() < 0.75 else ABSENT
            for v in rng.normal(85, 15, COUNT + 1).round(int(rng.choice([0, 2]))).clip(1, 300)
        ]
        if rng.random() < 0.3:  # a lone measurement (a temperature charted alone)
            values = [ABSENT] * COUNT + [0.0]
            values[int(rng.integers(COUNT))] = float(rng.integers(30, 200))
        values[COUNT] = 0.0
        when = at - float(rng.integers(1, 400)) if rng.random() < 0.15 else at
        taken_out = None
        if added and rng.random() < 0.3:
            taken_out = added[-1 - int(rng.integers(min(len(added), 20)))]  # recent: still in the ring
        put_back = rng.random() < 0.5
        later = set_aside.pop(int(rng.integers(len(set_aside)))) if set_aside and rng.random() < 0.3 else None
        restart = rng.random() < 0.15
        for window in (listing, holding):
            for moment, burst_values in burst:
                window.add(moment, burst_values)
            window.add(when, tuple(values))
            if taken_out is not None:
                window.discard(taken_out[1], taken_out[0], taken_out[2])
                if put_back:
                    window.reinstate(taken_out[1], taken_out[0], taken_out[2])
            if later is not None:  # put back steps later, perhaps after a restart
                window.reinstate(later[1], later[0], later[2])
        if taken_out is not None and not put_back:
            set_aside.append(taken_out)
        column = int(rng.integers(COUNT))
        if values[column] > 0:
            added.append((when, column, values[column]))
        if restart:
            listing = Window.from_bytes(listing.to_bytes(), limits)
            holding = _dense(Window.from_bytes(holding.to_bytes(), limits))
        assert listing.to_bytes() == holding.to_bytes(), step
        assert np.array_equal(listing.ring, holding.ring), step
        end = int(listing.watermark // 60) + int(rng.choice([0, 0, 30, -90]))
        assert np.array_equal(
            listing.minutes_until(end, limits.minutes), holding.minutes_until(end, limits.minutes), equal_nan=True
        ), step
        hour = int(listing.watermark // 3600) + int(rng.choice([0, 0, 1, -1, -30]))
        assert _same(
            listing.hour_medians(hour * 60, 24, CHANNEL_COLUMNS),
            np.array(holding.hour_medians(hour * 60, 24, CHANNEL_COLUMNS), dtype=float),
        ), step
    shorter = WindowLimits(minutes=120)
    assert np.array_equal(
        Window.from_bytes(listing.to_bytes(), shorter).ring, Window.from_bytes(holding.to_bytes(), shorter).ring
    )


def test_a_day_charted_hourly_holds_no_ring():
    window = Window(WindowLimits())
    for hour in range(30):
        window.add(T0 + hour * 3600 + 17, row(80 + hour % 7, 95))
    assert window.size() < 1_000  # the ring's day would be 20,160 bytes
    restored = Window.from_bytes(window.to_bytes(), WindowLimits())
    assert restored.size() < 1_000
