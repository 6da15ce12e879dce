"""One patient's recent history in event time: raw observation sets, then per-minute medians.

Two resolutions keep a day of 1 Hz monitoring inside a few tens of kilobytes. Raw sets are kept
while they can still change: until they are older than the lateness allowance, a late set may
land among them. Then their minutes are sealed, each into one median per measurement, stored
as hundredths in a ring of unsigned 16-bit numbers (the largest contract value, 350, fits; 0
means no data). A median rather than a mean, so that a single spike in a minute does not move it.

Raw sets live in `array` buffers rather than Python objects (a float object costs 24 bytes, an
array slot 4 or 8), because appending to them is cheap enough to do for every vital sign.
Minutes are sealed in batches with numpy (`seal_delay_s` after they could be), because one
Python-level seal per set would cost more than everything else a sparse set costs.

The ring is allocated only when many minutes hold data. Charted vital signs fill one minute an
hour: a day of them is 24 minutes, listed with their minute numbers (≈ 0.5 KB), where the ring's
day of 1,440 minutes × 7 codes is 20 KB, most of an hourly patient's memory (600 development
stays: 29.5 → 10.3 KiB a patient in the engine, bench/state_size.py). Past `_LISTED_MAX` minutes
with data the window takes the ring for good; both forms read and write the same values
(tests/test_window.py runs the same operations through both).
"""

from __future__ import annotations

import math
import re
import struct
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from monitor.parameters import COUNT
from monitor.robust import nanmedian

#: Columns of a raw row: the measurements, then a code for on_oxygen and consciousness, so that
#: two sets differing only there are not mistaken for duplicates.
WIDTH = COUNT + 1
ABSENT = -1.0  # every contract measurement is ≥ 0; 0 itself is a gap, kept to tell duplicates apart
_SET_ASIDE = -2.0  # a sample held as implausible until it is confirmed or refuted
_SCALE = 100.0
_MAX_CODE = 65535

NEWEST, LATE, TOO_LATE, DUPLICATE = range(4)
#: Minutes with data a window lists (`Window._minutes`, `_listed`) before it takes the ring: the
#: list costs 22 bytes a minute and a bisection to reach one, the ring 14 bytes a minute of
#: the whole day and an index; 96 is four days of hourly charting (well past the day the
#: window keeps) and an hour and a half of monitoring.
_LISTED_MAX = 96
#: At most this many rows are sealed without numpy (`Window._seal_sparse`).
_SPARSE_ROWS = 8

#: The window's fields before its buffers: layout 1 (patient state format 2), and layout 2,
#: which adds how the ring's minutes are stored (_DENSE, or how many are listed by offset).
_HEADER = struct.Struct("<ddqqqqII")
_HEADER_2 = struct.Struct("<ddqqqqIII")
_DENSE = 0xFFFFFFFF
_OFFSET = np.dtype("<u4")  # a listed minute: minutes after the span's first
_ZERO_ROW = bytes(2 * COUNT)
_RING_ROW = struct.Struct(f"={COUNT}H")  # one minute of the ring, as numpy holds it
_NONZERO = re.compile(rb"[^\x00]")


@dataclass(frozen=True, slots=True)
class WindowLimits:
    """Shared by every patient's window, so each window carries one pointer, not four numbers."""

    minutes: int = 1440
    lateness_s: float = 300.0
    raw_rows_max: int = 512
    seal_delay_s: float = 1800.0


def _encode(value: float) -> int:
    """Hundredths, rounded half up, of a value as the raw buffer stores it (float32)."""
    stored = array("f", (value,))[0]
    return min(_MAX_CODE, max(1, int(stored * _SCALE + 0.5)))


def _codes(medians: np.ndarray) -> np.ndarray:
    """`_encode` for a whole block; NaN (no data) becomes 0."""
    scaled = np.floor(medians * _SCALE + 0.5)  # NaN stays NaN through floor and clip
    np.clip(scaled, 1, _MAX_CODE, out=scaled)
    scaled[np.isnan(scaled)] = 0
    return scaled.astype(np.uint16)


def _hour_medians(minutes: np.ndarray, hours: int) -> np.ndarray:
    """(hours, columns) medians of (60 × hours, columns) per-minute medians, hour by hour (NaN
    where an hour has none), as `nanmedian` computes them; charted hourly, most hours hold one
    value per column, which is placed as the sort would give it, (v + v) / 2."""
    width = minutes.shape[1]
    flat = minutes.ravel()
    where = np.flatnonzero(flat == flat)  # not NaN
    lane = (where // (60 * width)) * width + where % width  # (hour, column)
    out = np.full(hours * width, np.nan)
    out[lane] = flat[where]
    out = (out + out) / 2
    several = np.bincount(lane, minlength=hours * width) > 1
    if several.any():
        lanes = minutes.reshape(hours, 60, width).transpose(0, 2, 1).reshape(hours * width, 60)
        out[several] = nanmedian(lanes[several], axis=-1)
    return out.reshape(hours, width)


def _rows_with_data(codes: np.ndarray) -> np.ndarray:
    """The rows of a (minutes, COUNT) block of ring codes that hold any, ascending: from the
    non-zero cells of the flat block as booleans (several times faster than `any(axis=1)`)."""
    rows = np.flatnonzero(codes.ravel().astype(bool)) // codes.shape[1]
    if len(rows) > 1:
        rows = rows[np.concatenate(((True,), rows[1:] != rows[:-1]))]
    return rows


class Window:
    """Raw sets for the last few minutes plus a ring of per-minute medians for `minutes`."""

    __slots__ = (
        "limits",
        "times",
        "rows",
        "_ring",
        "_minutes",
        "_listed",
        "first_minute",
        "last_minute",
        "watermark",
        "sealed_until",
        "too_late",
        "duplicates",
        "_next_seal",
        "_hours",
    )

    def __init__(self, limits: WindowLimits) -> None:
        self.limits = limits
        self.times = array("d")
        self.rows = array("f")
        # The per-minute codes: the ring (minutes, COUNT), indexed by minute % minutes, once
        # many minutes hold data; until then None, and the minutes that may hold data are
        # listed, ascending, with their codes (COUNT a minute) — only minutes inside the ring's
        # day, [last_minute - minutes + 1, last_minute], as the ring would hold them.
        self._ring: np.ndarray | None = None
        self._minutes = array("q")
        self._listed = array("H")
        self.first_minute = -1  # the oldest minute the ring may hold; -1 before any
        self.last_minute = -1  # the latest minute sealed into the ring
        self.watermark = -math.inf  # the newest set's time
        self.sealed_until = -math.inf  # sets before this time can no longer be placed
        self.too_late = 0
        self.duplicates = 0
        self._next_seal = math.inf
        # hour_medians' hours that can no longer change: (columns, the first one's last
        # minute, one tuple an hour); derived, never written to bytes
        self._hours: tuple[tuple[int, ...], int, list[tuple[float, ...]]] | None = None

    # -- adding --------------------------------------------------------------------------
    def add(self, at: float, row: tuple[float, ...]) -> int:
        """Place one observation set; returns NEWEST, LATE, TOO_LATE or DUPLICATE.

        `row` has WIDTH values, ABSENT where the set has no such measurement.
        """
        times = self.times
        if at < self.sealed_until:
            self.too_late += 1
            return TOO_LATE
        if at >= self.watermark:
            if at == self.watermark and self._holds(len(times), at, row):
                self.duplicates += 1
                return DUPLICATE
            times.append(at)
            self.rows.extend(row)
            self.watermark = at
            if len(times) == 1:
                self._schedule_seal()
            if at >= self._next_seal or len(times) > self.limits.raw_rows_max:
                self._seal_due()
            return NEWEST
        if at < self.watermark - self.limits.lateness_s:
            self.too_late += 1
            return TOO_LATE
        place = bisect_right(times, at)
        if self._holds(place, at, row):
            self.duplicates += 1
            return DUPLICATE
        times.insert(place, at)
        self.rows[place * WIDTH : place * WIDTH] = array("f", row)
        if place == 0:
            self._schedule_seal()
        if len(times) > self.limits.raw_rows_max:
            self._seal_due()
        return LATE

    def _holds(self, end: int, at: float, row: tuple[float, ...]) -> bool:
        """Whether a set identical to `row` at `at` sits just before position `end`."""
        times, rows = self.times, self.rows
        candidate = array("f", row)
        index = end - 1
        while index >= 0 and times[index] == at:
            if rows[index * WIDTH : (index + 1) * WIDTH] == candidate:
                return True
            index -= 1
        return False

    # -- sealing minutes -----------------------------------------------------------------
    def _schedule_seal(self) -> None:
        if not self.times:
            self._next_seal = math.inf
            return
        first_minute_end = (self.times[0] // 60 + 1) * 60
        self._next_seal = first_minute_end + self.limits.lateness_s + self.limits.seal_delay_s

    def _seal_due(self) -> None:
        """Seal every minute no late set can reach; more while the raw buffer is too big."""
        limit = self.watermark - self.limits.lateness_s
        end = (limit // 60) * 60  # sets before the minute that holds `limit` can be sealed
        times = self.times
        if len(times) > self.limits.raw_rows_max:
            oldest_minute_end = (times[0] // 60 + 1) * 60
            end = max(end, oldest_minute_end)  # memory first: that minute takes no late sets now
        count = bisect_left(times, end)
        if count:
            if count > _SPARSE_ROWS or not self._seal_sparse(count):
                minutes, medians = self._minute_medians(0, count)
                self._write_minutes(minutes, medians)
            del times[:count]
            del self.rows[: count * WIDTH]
            self.sealed_until = max(self.sealed_until, end)
        self._schedule_seal()

    def _seal_sparse(self, count: int) -> bool:
        """Seal the first `count` rows without numpy when each is alone in its minute (charted
        vital signs, a cuff every hour): the minute's median is the row itself, and numpy's
        per-call cost is many times the work. False, having written nothing, otherwise."""
        times, rows = self.times, self.rows
        if count == 1:  # hourly charting: one row an hour, sealed as the next arrives
            minutes = [int(times[0] // 60)]
        else:
            minutes = [int(times[index] // 60) for index in range(count)]
            if any(later <= earlier for earlier, later in zip(minutes, minutes[1:])):
                return False
        if self.last_minute >= 0 and minutes[0] <= self.last_minute:
            return False  # a minute sealed before: the general path merges nothing either, but
            # keeps its rules for it in one place
        size = self.limits.minutes
        previous = self.last_minute
        if self._ring is None and len(self._minutes) + len(minutes) <= _LISTED_MAX:
            for index, minute in enumerate(minutes):  # after every minute listed: no gap to clear
                self._list(
                    minute,
                    array(
                        "H",
                        [
                            0
                            if value <= 0
                            else (
                                code
                                if 1 <= (code := int(value * _SCALE + 0.5)) <= _MAX_CODE
                                else (1 if code < 1 else _MAX_CODE)
                            )
                            for value in rows[index * WIDTH : index * WIDTH + COUNT]
                        ],
                    ),
                )
            self._sealed_through(minutes[0], minutes[-1])
            return True
        ring = self._dense_ring()
        for index, minute in enumerate(minutes):
            if previous >= 0 and minute - previous > 1:  # minutes without data are empty
                gap_start, gap_end = previous + 1, min(minute, previous + 1 + size)
                first, last = gap_start % size, (gap_end - 1) % size + 1
                if gap_end - gap_start >= size:
                    ring[:] = 0
                elif last > first:
                    ring[first:last] = 0
                else:
                    ring[first:] = 0
                    ring[:last] = 0
            # `_encode` of each value (hundredths, at least 1, at most _MAX_CODE), inline: no
            # call per value
            ring[minute % size] = [
                0
                if value <= 0
                else (code if 1 <= (code := int(value * _SCALE + 0.5)) <= _MAX_CODE else (1 if code < 1 else _MAX_CODE))
                for value in rows[index * WIDTH : index * WIDTH + COUNT]
            ]
            previous = minute
        self._sealed_through(minutes[0], minutes[-1])
        return True

    def _sealed_through(self, oldest: int, newest: int) -> None:
        """Minutes from `oldest` to `newest` were sealed: the span of the ring's day follows,
        and listed minutes that fell out of it go (the ring overwrites them)."""
        if self.first_minute < 0:
            self.first_minute = oldest
        if newest > self.last_minute:
            self.last_minute = newest
        kept_from = self.last_minute - self.limits.minutes + 1
        if kept_from > self.first_minute:
            self.first_minute = kept_from
        if self._ring is None and self._minutes and self._minutes[0] < kept_from:
            gone = bisect_left(self._minutes, kept_from)
            del self._minutes[:gone]
            del self._listed[: gone * COUNT]

    # -- the two forms of the per-minute codes -----------------------------------------------
    def _list(self, minute: int, codes: array) -> None:
        """Give a listed minute these codes (COUNT of them), adding it in order if new."""
        place = bisect_left(self._minutes, minute)
        if place < len(self._minutes) and self._minutes[place] == minute:
            self._listed[place * COUNT : (place + 1) * COUNT] = codes
        else:
            self._minutes.insert(place, minute)
            self._listed[place * COUNT : place * COUNT] = codes

    def _dense_ring(self) -> np.ndarray:
        """The ring, taken now (for good) if the minutes were listed."""
        if self._ring is None:
            ring = np.zeros((self.limits.minutes, COUNT), dtype=np.uint16)
            if self._minutes:
                minutes = np.frombuffer(self._minutes.tobytes(), dtype=np.int64)
                ring[minutes % self.limits.minutes] = np.frombuffer(self._listed.tobytes(), dtype=np.uint16).reshape(
                    len(minutes), COUNT
                )
            self._ring = ring
            self._minutes, self._listed = array("q"), array("H")
        return self._ring

    def _listed_between(self, low: int, high: int) -> tuple[int, int]:
        """Positions [start, stop) of the listed minutes from `low` to `high`."""
        return bisect_left(self._minutes, low), bisect_right(self._minutes, high)

    @property
    def ring(self) -> np.ndarray:
        """The per-minute codes as the ring (minutes, COUNT), for readers outside the window
        (tests): the window's own, or one built from its listed minutes (a copy)."""
        if self._ring is not None:
            return self._ring
        ring = np.zeros((self.limits.minutes, COUNT), dtype=np.uint16)
        if self._minutes:
            minutes = np.frombuffer(self._minutes.tobytes(), dtype=np.int64)
            ring[minutes % self.limits.minutes] = np.frombuffer(self._listed.tobytes(), dtype=np.uint16).reshape(
                len(minutes), COUNT
            )
        return ring

    def _minute_medians(
        self,
        start: int,
        stop: int,
        columns: slice | tuple[int, ...] = slice(COUNT),
    ) -> tuple[np.ndarray, np.ndarray]:
        """The minutes of raw rows [start, stop) and each one's medians of `columns`
        (minutes, columns): each column's medians are its own, so readers that want a few
        columns ask only for those."""
        count = stop - start
        times = np.frombuffer(self.times[start:stop], dtype=np.float64)
        block = np.frombuffer(self.rows[start * WIDTH : stop * WIDTH], dtype=np.float32)
        block = block.reshape(count, WIDTH)[:, columns].astype(np.float64)
        block[block <= 0] = np.nan  # absent, a gap (0), or held as implausible
        minute_of_row = times // 60  # whole numbers as floats; only the firsts are converted
        starts_minute = np.empty(count, dtype=bool)
        starts_minute[0] = True
        np.not_equal(minute_of_row[1:], minute_of_row[:-1], out=starts_minute[1:])
        firsts = starts_minute.nonzero()[0]
        minutes = minute_of_row[firsts].astype(np.int64)
        if len(firsts) == count:  # one set a minute: the medians are the sets
            return minutes, block
        if np.add.reduceat(~np.isnan(block), firsts, axis=0).max() <= 1:
            # sparse input from several devices (numerics, a cuff, a thermometer): at most one
            # reading of each measurement a minute, so that reading is the minute's median
            return minutes, np.fmax.reduceat(block, firsts, axis=0)
        group = np.cumsum(starts_minute) - 1
        position = np.arange(count) - firsts[group]
        padded = np.full((len(firsts), int(position.max()) + 1, block.shape[1]), np.nan)
        padded[group, position] = block
        return minutes, nanmedian(padded, axis=1)

    def _write_minutes(self, minutes: np.ndarray, medians: np.ndarray) -> None:
        size = self.limits.minutes
        newest = int(minutes[-1])
        keep = minutes > newest - size
        codes = _codes(medians[keep])
        if self._ring is None and len(self._minutes) + len(codes) <= _LISTED_MAX:
            # Listed minutes all lie at or before last_minute: none in the minutes the ring
            # would clear below; those written may include earlier ones, overwritten as there.
            for minute, row in zip(minutes[keep].tolist(), codes):
                self._list(minute, array("H", row.tobytes()))
            self._sealed_through(int(minutes[0]), newest)
            return
        ring = self._dense_ring()
        start = self.last_minute + 1 if self.last_minute >= 0 else int(minutes[0])
        if newest - start + 1 >= size:
            ring[:] = 0
        elif newest >= start:  # minutes without data are empty
            first, end = start % size, newest % size + 1
            if end > first:
                ring[first:end] = 0
            else:
                ring[first:] = 0
                ring[:end] = 0
        ring[minutes[keep] % size] = codes
        self._sealed_through(int(minutes[0]), newest)

    # -- correcting ----------------------------------------------------------------------
    def discard(self, column: int, at: float, value: float) -> None:
        """Take out one measurement the engine does not believe (yet), so trends do not see it.

        A raw set is corrected in place. Once its minute is sealed, the minute's median is
        cleared only if it is that very value (a sparse measurement such as NIBP has one reading
        a minute); a median of many readings already ignores one outlier.
        """
        self._replace(column, at, (value, _encode(value)), (_SET_ASIDE, 0))

    def reinstate(self, column: int, at: float, value: float) -> None:
        """Put back a measurement taken out by `discard`, once it is believed after all."""
        self._replace(column, at, (_SET_ASIDE, 0), (value, _encode(value)))

    def _replace(self, column: int, at: float, old: tuple[float, int], new: tuple[float, int]) -> None:
        """Where the measurement at `at` is `old` (a raw value, or a sealed minute's code),
        make it `new`."""
        if at >= self.sealed_until:
            index = bisect_left(self.times, at)
            while index < len(self.times) and self.times[index] == at:
                cell = index * WIDTH + column
                if abs(self.rows[cell] - old[0]) < 1e-3:
                    self.rows[cell] = new[0]
                    return
                index += 1
            return
        minute = int(at // 60)
        if self.last_minute - self.limits.minutes < minute <= self.last_minute:
            if self._ring is not None:
                slot = minute % self.limits.minutes
                if self._ring[slot, column] != old[1]:
                    return
                self._ring[slot, column] = new[1]
            else:
                start, stop = self._listed_between(minute, minute)
                if stop > start:
                    if self._listed[start * COUNT + column] != old[1]:
                        return
                    self._listed[start * COUNT + column] = new[1]
                elif old[1] == 0:  # a minute without data reads as zeros, as in the ring
                    codes = array("H", bytes(2 * COUNT))
                    codes[column] = new[1]
                    self._list(minute, codes)
                else:
                    return
            if self._hours is not None:
                self._forget_hours_from(minute, column)

    # -- reading -------------------------------------------------------------------------
    def holds_data_in(self, first_minute: int, last_minute: int) -> bool:
        """Whether any set may lie in these minutes (a cheap test before `minutes_until`):
        False only when they lie outside the span of sealed minutes and hold no raw set — the
        minutes just before a set charted an hour after the last."""
        if self.last_minute >= first_minute and self.last_minute - self.limits.minutes < last_minute:
            return True
        times = self.times
        index = bisect_left(times, first_minute * 60)
        return index < len(times) and times[index] < (last_minute + 1) * 60

    def minutes_until(self, end_minute: int, count: int, columns: slice | tuple[int, ...] = slice(COUNT)) -> np.ndarray:
        """Per-minute medians of the `count` minutes up to and including `end_minute`, as a
        (count, columns) float array with NaN where there is no data. Minutes not yet sealed
        are computed from the raw sets, so the newest data counts too."""
        width = COUNT if isinstance(columns, slice) else len(columns)
        result = np.full((count, width), np.nan)
        first = end_minute - count + 1
        size = self.limits.minutes
        low = max(first, self.last_minute - size + 1)
        high = min(end_minute, self.last_minute)
        if high >= low and self._ring is None:
            start, stop = self._listed_between(low, high)
            if stop > start:
                codes = np.frombuffer(self._listed[start * COUNT : stop * COUNT], dtype=np.uint16).reshape(
                    stop - start, COUNT
                )[:, columns]
                rows = np.frombuffer(self._minutes[start:stop], dtype=np.int64) - first
                block = codes / _SCALE
                block[codes == 0] = np.nan
                result[rows] = block
        elif high >= low:
            assert self._ring is not None
            start, stop = low % size, high % size + 1
            # the ring's minutes as one or two slices (where it wraps), never a gather
            pieces = (
                ((start, stop, low - first),)
                if stop > start
                else ((start, size, low - first), (0, stop, low - first + size - start))
            )
            for start, stop, offset in pieces:
                codes = self._ring[start:stop, columns]
                if np.count_nonzero(codes) * 8 < codes.size:
                    # sparse (hourly charting): convert only the cells that hold a value (found
                    # in a flat boolean array: numpy's nonzero is several times slower on 2-D
                    # or on uint16)
                    flat = codes.ravel()
                    where = np.flatnonzero(flat.astype(bool))
                    rows, cells = np.divmod(where, codes.shape[1])
                    result[rows + offset, cells] = flat[where] / _SCALE
                else:
                    block = codes / _SCALE
                    block[codes == 0] = np.nan
                    result[offset : offset + len(codes)] = block
        times = self.times
        start = bisect_left(times, first * 60)
        stop = bisect_left(times, (end_minute + 1) * 60)
        if stop > start:
            minutes, medians = self._minute_medians(start, stop, columns)
            result[minutes - first] = medians
        return result

    def hour_medians(self, end_minute: int, hours: int, columns: tuple[int, ...]) -> list[tuple[float, ...]]:
        """Per hour, oldest first, the median of each of `columns`' per-minute medians over the
        60 minutes ending `end_minute - 60 × (hours − 1 − i)` (NaN where none): bit for bit what
        `minutes_until(end_minute, 60 × hours, columns)` cut into hours and reduced by
        `nanmedian` gives, for a fraction of its cost on the hourly scoring's days.

        An hour is computed from the window only when its minutes can still change; the others
        come from the hours kept by the previous call (derived state: never written to bytes,
        empty after `from_bytes`, cut back to the hour before a sealed minute that `_replace`
        changes in one of `columns`). An hour
        is final once all its minutes lie before `sealed_until` (no late set can land there,
        and sealing writes only later minutes) and it is still wholly inside the ring's day (a
        minute leaves only by falling out of it, checked when the hour is read back). An hour
        after both the sealed minutes and the newest set holds no data yet and costs nothing.
        """
        # Hour i ends at minute base + 60 i. The hours that can hold data are those before
        # `held`; the hours still wholly in the ring's day start at `inside`; of those, the
        # ones before `final` can no longer change.
        base = end_minute - 60 * (hours - 1)
        kept_from = self.last_minute - self.limits.minutes + 1  # the ring's oldest minute
        held = self.hours_holding_data(end_minute, hours)
        inside = max(0, -((base - kept_from - 59) // 60))
        final = 0 if self.sealed_until == -math.inf else min(held, (int(self.sealed_until // 60) - 1 - base) // 60 + 1)
        empty = (math.nan,) * len(columns)
        out = [empty] * hours
        kept, start, stop = self._hours, 0, 0  # out[start:stop] from the kept hours
        if kept is not None and kept[0] == columns and (base - kept[1]) % 60 == 0:
            offset = (base - kept[1]) // 60  # kept hour j is hour j − offset here
            start = max(inside, -offset)
            stop = min(held, len(kept[2]) - offset)
            if stop > start:
                out[start:stop] = kept[2][start + offset : stop + offset]
            else:
                start = stop = 0
        # what is left: before the kept hours, or after them (both: all of it afresh)
        low, high = (stop, held) if start == 0 else (0, start) if stop >= held else (0, held)
        if high > low:
            medians = self._sparse_hour_medians(base + 60 * (high - 1), high - low, columns)
            if medians is None:  # several sets in a minute, or many minutes with data
                minutes = self.minutes_until(base + 60 * (high - 1), 60 * (high - low), columns)
                medians = [tuple(row) for row in _hour_medians(minutes, high - low).tolist()]
            out[low:high] = medians
        self._hours = (columns, base + 60 * inside, out[inside:final]) if final > inside else None
        return out

    def hours_holding_data(self, end_minute: int, hours: int) -> int:
        """How many of the `hours` hours ending with `end_minute` (oldest first, as
        `hour_medians` gives them) can hold data: those after them end after the newest minute
        the window has (sealed or raw), and `hour_medians` gives them as NaN."""
        base = end_minute - 60 * (hours - 1)
        newest = max(self.last_minute, int(self.watermark // 60) if self.times else -1)
        return min(hours, max(0, (newest + 59 - base) // 60 + 1))

    def _forget_hours_from(self, minute: int, column: int) -> None:
        """A sealed minute of `column` changed (`_replace`): `hour_medians` forgets the kept
        hour holding it and the later ones (the earlier ones stand)."""
        assert self._hours is not None
        columns, first_last, kept = self._hours
        if column not in columns:
            return
        hour = -((first_last - minute) // 60)  # kept hour j holds minutes first_last + 60 j − 59 …
        if hour < len(kept):
            self._hours = (columns, first_last, kept[:hour]) if hour > 0 else None

    def _sparse_hour_medians(
        self,
        end_minute: int,
        hours: int,
        columns: tuple[int, ...],
    ) -> list[tuple[float, ...]] | None:
        """`hour_medians`' hours computed afresh, in plain Python where the data is sparse
        (numpy's per-call cost is many times the work on a few values an hour): the same
        per-minute values `minutes_until` would give — a ring code over 100, a lone raw set's
        own value (a raw set overrides the ring's minute, as there) — and the same median of
        an hour's values, the middle two of the sorted values added and halved. A lone value
        is its own median: (v + v) / 2 is v exactly for every value here (positive, from
        float32 or a code over 100: doubling cannot overflow, halving cannot go subnormal).
        None where a minute holds several raw sets or the hours hold many values: numpy's
        work, then."""
        first = end_minute - 60 * hours + 1
        width = len(columns)
        places = tuple(enumerate(columns))
        nan = math.nan
        flat = [nan] * (hours * width)  # (hour, position in columns)
        several: dict[int, list[float]] = {}  # the values of slots holding more than one
        # raw sets first: one a minute, or leave it to numpy
        times = self.times
        start = bisect_left(times, first * 60)
        stop = bisect_left(times, (end_minute + 1) * 60)
        raw_minutes: set[int] = set()
        if stop > start:
            rows = self.rows
            for index in range(start, stop):
                minute = int(times[index] // 60)
                if minute in raw_minutes:
                    return None
                raw_minutes.add(minute)
                slot = (minute - first) // 60 * width
                base = index * WIDTH
                for position, column in places:
                    value = rows[base + column]
                    if value > 0:
                        held = flat[slot + position]
                        if held != held:
                            flat[slot + position] = value
                        elif slot + position in several:
                            several[slot + position].append(value)
                        else:
                            several[slot + position] = [held, value]
        size = self.limits.minutes
        low = max(first, self.last_minute - size + 1)
        high = min(end_minute, self.last_minute)
        if high >= low and self._ring is None:
            limit = 4 * hours  # minutes with data; beyond a few an hour, numpy's
            listed = self._listed
            start, stop = self._listed_between(low, high)
            for position_of_minute in range(start, stop):
                base = position_of_minute * COUNT
                if not any(listed[base : base + COUNT]):
                    continue  # a minute whose values were all taken out: no data, as in the ring
                limit -= 1
                if limit < 0:
                    return None
                minute = self._minutes[position_of_minute]
                if minute in raw_minutes:
                    continue
                slot = (minute - first) // 60 * width
                for position, column in places:
                    code = listed[base + column]
                    if code:
                        value = code / _SCALE
                        held = flat[slot + position]
                        if held != held:
                            flat[slot + position] = value
                        elif slot + position in several:
                            several[slot + position].append(value)
                        else:
                            several[slot + position] = [held, value]
        elif high >= low:
            begin, end = low % size, high % size + 1
            pieces = ((begin, end, low),) if end > begin else ((begin, size, low), (0, end, low + size - begin))
            ring = self._ring
            assert ring is not None
            limit = 4 * hours  # minutes with data; beyond a few an hour, numpy's
            row_bytes = 2 * COUNT
            for begin, end, minute_of_begin in pieces:
                # the minutes holding data, found as non-zero bytes of the ring's rows
                data = ring[begin:end].tobytes()
                found_at = _NONZERO.search(data)
                while found_at is not None:
                    row = found_at.start() // row_bytes
                    limit -= 1
                    if limit < 0:
                        return None
                    minute = minute_of_begin + row
                    if minute not in raw_minutes:
                        codes = _RING_ROW.unpack_from(data, row * row_bytes)
                        slot = (minute - first) // 60 * width
                        for position, column in places:
                            code = codes[column]
                            if code:
                                value = code / _SCALE
                                held = flat[slot + position]
                                if held != held:
                                    flat[slot + position] = value
                                elif slot + position in several:
                                    several[slot + position].append(value)
                                else:
                                    several[slot + position] = [held, value]
                    found_at = _NONZERO.search(data, (row + 1) * row_bytes)
        for slot, found in several.items():
            found.sort()
            count = len(found)
            flat[slot] = (found[(count - 1) // 2] + found[count // 2]) / 2
        return [tuple(flat[hour : hour + width]) for hour in range(0, hours * width, width)]

    # -- bytes ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The window as bytes (layout 2): only the ring's minutes that may hold data, and of
        those, where few hold any (charted vital signs: one minute an hour), only the ones
        that do, each with its offset. A day charted hourly is then 24 minutes, not 1,440;
        a day at 1 Hz stays the dense block it was (the offsets would only add to it)."""
        if self.last_minute < 0:
            ring_minutes, ring, form = 0, b"", _DENSE
        elif self._ring is None:
            ring_minutes, ring, form = self._listed_bytes()
        else:
            ring_minutes = self.last_minute - self.first_minute + 1
            size = self.limits.minutes
            start = self.first_minute % size
            # the span's rows, oldest first, as one or two slices (where it wraps)
            pieces = (
                (self._ring[start : start + ring_minutes],)
                if start + ring_minutes <= size
                else (self._ring[start:], self._ring[: start + ring_minutes - size])
            )
            held = [_rows_with_data(piece) for piece in pieces]
            kept = sum(len(rows) for rows in held)
            if kept * (_OFFSET.itemsize + _RING_ROW.size) < ring_minutes * _RING_ROW.size:
                form = kept
                offsets = held[0] if len(pieces) == 1 else np.concatenate((held[0], held[1] + len(pieces[0])))
                rows = np.concatenate([piece[where] for piece, where in zip(pieces, held)])
                ring = offsets.astype(_OFFSET).tobytes() + rows.tobytes()
            else:
                form = _DENSE
                ring = b"".join(piece.tobytes() for piece in pieces)
        header = _HEADER_2.pack(
            self.watermark,
            self.sealed_until,
            self.first_minute,
            self.last_minute,
            self.too_late,
            self.duplicates,
            len(self.times),
            ring_minutes,
            form,
        )
        return header + self.times.tobytes() + self.rows.tobytes() + ring

    def _listed_bytes(self) -> tuple[int, bytes, int]:
        """`to_bytes`' span, ring bytes and form from the listed minutes: the very bytes the
        ring would give (minutes whose codes are all 0 hold no data there)."""
        ring_minutes = self.last_minute - self.first_minute + 1
        start, stop = self._listed_between(self.first_minute, self.last_minute)
        if (stop - start) * (_OFFSET.itemsize + _RING_ROW.size) < ring_minutes * _RING_ROW.size:
            # the usual case, in plain Python (numpy's per-call cost is most of the work on a
            # few dozen minutes): unless a minute's codes are all 0 (found as an aligned run of
            # zero bytes), they are the listed ones as they are
            raw = self._listed[start * COUNT : stop * COUNT].tobytes()
            found = raw.find(_ZERO_ROW)
            while found != -1 and found % _RING_ROW.size:
                found = raw.find(_ZERO_ROW, found + 1)
            if found == -1:
                first = self.first_minute
                listed_offsets = array("I", [minute - first for minute in self._minutes[start:stop]])
                return ring_minutes, listed_offsets.tobytes() + raw, stop - start
        minutes = np.frombuffer(self._minutes[start:stop], dtype=np.int64)
        codes = np.frombuffer(self._listed[start * COUNT : stop * COUNT], dtype=np.uint16).reshape(stop - start, COUNT)
        with_data = codes.any(axis=1)
        if not with_data.all():
            minutes, codes = minutes[with_data], codes[with_data]
        offsets = minutes - self.first_minute
        if len(minutes) * (_OFFSET.itemsize + _RING_ROW.size) < ring_minutes * _RING_ROW.size:
            return ring_minutes, offsets.astype(_OFFSET).tobytes() + codes.tobytes(), len(minutes)
        span = np.zeros((ring_minutes, COUNT), dtype=np.uint16)
        span[offsets] = codes
        return ring_minutes, span.tobytes(), _DENSE

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, limits: WindowLimits, layout: int = 2) -> "Window":
        """A window from `to_bytes`' bytes (`layout` 2), or from layout 1, the dense span that
        patient state format 2 carried; ValueError for bytes that do not add up."""
        window = cls(limits)
        layout_header = _HEADER_2 if layout == 2 else _HEADER
        try:
            fields = layout_header.unpack_from(data)
        except struct.error:
            raise ValueError("patient state is truncated (window header)") from None
        (
            window.watermark,
            window.sealed_until,
            first_minute,
            last_minute,
            window.too_late,
            window.duplicates,
            rows,
            ring_minutes,
        ) = fields[:8]
        form = fields[8] if layout == 2 else _DENSE
        offset = layout_header.size
        window.times.frombytes(bytes(data[offset : offset + 8 * rows]))
        offset += 8 * rows
        window.rows.frombytes(bytes(data[offset : offset + 4 * WIDTH * rows]))
        offset += 4 * WIDTH * rows
        if form == _DENSE:
            offsets = None
            stored = ring_minutes
        else:
            stored = form
            if stored > ring_minutes:
                raise ValueError("patient state is damaged (window minutes)")
            offsets = np.frombuffer(bytes(data[offset : offset + _OFFSET.itemsize * stored]), dtype=_OFFSET).astype(
                np.int64
            )
            offset += _OFFSET.itemsize * stored
        ring = np.frombuffer(bytes(data[offset : offset + 2 * COUNT * stored]), dtype=np.uint16)
        if (
            len(window.times) != rows
            or len(ring) != COUNT * stored
            or len(data) != (offset + 2 * COUNT * stored)
            or (offsets is not None and len(offsets) != stored)
        ):
            raise ValueError("patient state is truncated or too long (window)")
        if ring_minutes:
            kept = min(ring_minutes, limits.minutes)  # a shorter configured window keeps the newest
            first_kept = last_minute - kept + 1
            codes = ring.reshape(stored, COUNT)
            if offsets is None:
                minutes = np.arange(first_kept, last_minute + 1)
                codes = codes[-kept:]
            else:
                if len(offsets) and (offsets.min() < 0 or offsets.max() >= ring_minutes):
                    raise ValueError("patient state is damaged (window minute offsets)")
                minutes = last_minute - ring_minutes + 1 + offsets
                inside = minutes >= first_kept
                minutes, codes = minutes[inside], codes[inside]
            held = np.flatnonzero(codes.any(axis=1)) if len(codes) else codes[:0, 0]
            if len(held) <= _LISTED_MAX:
                window._minutes = array("q", minutes[held].astype(np.int64).tobytes())
                window._listed = array("H", np.ascontiguousarray(codes[held]).tobytes())
            else:
                ring = window._dense_ring()
                ring[minutes % limits.minutes] = codes
            window.first_minute, window.last_minute = first_kept, last_minute
        window._schedule_seal()
        return window

    def size(self) -> int:
        """Bytes held by the buffers, for the memory benchmark."""
        ring = 0 if self._ring is None else self._ring.nbytes
        return (
            self.times.buffer_info()[1] * self.times.itemsize
            + self.rows.buffer_info()[1] * self.rows.itemsize
            + ring
            + self._minutes.buffer_info()[1] * self._minutes.itemsize
            + self._listed.buffer_info()[1] * self._listed.itemsize
        )
