"""One patient's recent history in event time: raw observation sets, then per-minute medians.

Two resolutions keep a day of 1 Hz monitoring inside a few tens of kilobytes. Raw sets are kept
only while they can still change: until they are older than the lateness allowance, a late
set may land among them. Then each minute is sealed into one median per measurement, stored as
hundredths in a ring of unsigned 16-bit numbers (the largest contract value, 350, fits; 0 means
no data). A median rather than a mean, so that a single spike in a minute does not move it.

Raw sets live in `array` buffers rather than Python objects (a float object costs 24 bytes,
an array slot 4), and appending to them is cheap enough to do for every vital sign.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from monitor.parameters import COUNT

#: Columns of a raw row: the measurements, then a code for on_oxygen and consciousness, so that
#: two sets differing only there are not mistaken for duplicates.
WIDTH = COUNT + 1
ABSENT = -1.0  # every contract measurement is ≥ 0; 0 itself is a gap, kept to tell duplicates apart
_SET_ASIDE = -2.0  # a sample held as implausible until it is confirmed or refuted
_SCALE = 100.0
_MAX_CODE = 65535

NEWEST, LATE, TOO_LATE, DUPLICATE = range(4)

_HEADER = struct.Struct("<ddqqqqII")


@dataclass(frozen=True, slots=True)
class WindowLimits:
    """Shared by every patient's window, so each window carries one pointer, not four numbers."""

    minutes: int = 1440
    lateness_s: float = 300.0
    raw_rows_max: int = 1024


def _median(values: list[float]) -> float:
    values.sort()
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _encode(value: float) -> int:
    return min(_MAX_CODE, max(1, int(value * _SCALE + 0.5)))


class Window:
    """Raw sets for the last few minutes plus a ring of per-minute medians for `minutes`."""

    __slots__ = ("limits", "times", "rows", "ring", "first_minute", "last_minute", "watermark",
                 "sealed_until", "too_late", "duplicates", "_next_seal")

    def __init__(self, limits: WindowLimits) -> None:
        self.limits = limits
        self.times = array("d")
        self.rows = array("f")
        self.ring = array("H", bytes(2 * COUNT * limits.minutes))
        self.first_minute = -1  # the first minute ever sealed; -1 before any
        self.last_minute = -1  # the latest minute sealed into the ring
        self.watermark = -math.inf  # the newest set's time
        self.sealed_until = -math.inf  # sets before this time can no longer be placed
        self.too_late = 0
        self.duplicates = 0
        self._next_seal = math.inf

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
        self.rows[place * WIDTH:place * WIDTH] = array("f", row)
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
            if rows[index * WIDTH:(index + 1) * WIDTH] == candidate:
                return True
            index -= 1
        return False

    # -- sealing minutes -----------------------------------------------------------------
    def _schedule_seal(self) -> None:
        if not self.times:
            self._next_seal = math.inf
            return
        first_minute_end = (math.floor(self.times[0] / 60) + 1) * 60
        self._next_seal = first_minute_end + self.limits.lateness_s

    def _seal_due(self) -> None:
        """Seal every minute no late set can reach, and more while the raw buffer is too big."""
        limit = self.watermark - self.limits.lateness_s
        while self.times:
            minute = math.floor(self.times[0] / 60)
            if (minute + 1) * 60 > limit and len(self.times) <= self.limits.raw_rows_max:
                break
            self._seal(minute)
        self._schedule_seal()

    def _seal(self, minute: int) -> None:
        end_time = (minute + 1) * 60
        count = bisect_left(self.times, end_time)
        self._write_minute(minute, self._medians(0, count))
        del self.times[:count]
        del self.rows[:count * WIDTH]
        self.sealed_until = max(self.sealed_until, float(end_time))

    def _medians(self, start: int, stop: int) -> list[float | None]:
        rows = self.rows
        medians: list[float | None] = []
        for column in range(COUNT):
            values = [value for index in range(start, stop)
                      if (value := rows[index * WIDTH + column]) > 0]
            medians.append(_median(values) if values else None)
        return medians

    def _write_minute(self, minute: int, medians: list[float | None]) -> None:
        minutes = self.limits.minutes
        if self.last_minute >= 0 and minute - self.last_minute > 1:
            self._clear_minutes(self.last_minute + 1, minute - 1)
        self.first_minute = max(self.first_minute if self.first_minute >= 0 else minute,
                                minute - minutes + 1)
        slot = (minute % minutes) * COUNT
        self.ring[slot:slot + COUNT] = array(
            "H", [0 if value is None else _encode(value) for value in medians]
        )
        self.last_minute = max(self.last_minute, minute)

    def _clear_minutes(self, first: int, last: int) -> None:
        minutes = self.limits.minutes
        if last - first + 1 >= minutes:
            self.ring = array("H", bytes(2 * COUNT * minutes))
            return
        for minute in range(first, last + 1):
            slot = (minute % minutes) * COUNT
            self.ring[slot:slot + COUNT] = array("H", bytes(2 * COUNT))

    # -- correcting ----------------------------------------------------------------------
    def discard(self, column: int, at: float, value: float) -> None:
        """Take out one measurement the engine does not believe (yet), so trends do not see it.

        A raw set is corrected in place. Once its minute is sealed, the minute's median is
        cleared only if it is that very value (a sparse measurement such as NIBP has one reading
        a minute); a median of many readings already ignores one outlier.
        """
        if at >= self.sealed_until:
            index = self._find(column, at, value)
            if index is not None:
                self.rows[index * WIDTH + column] = _SET_ASIDE
            return
        cell = self._sealed_cell(column, at)
        if cell is not None and self.ring[cell] == _encode(value):
            self.ring[cell] = 0

    def reinstate(self, column: int, at: float, value: float) -> None:
        """Put back a measurement taken out by `discard`, once it is believed after all."""
        if at >= self.sealed_until:
            index = self._find(column, at, _SET_ASIDE)
            if index is not None:
                self.rows[index * WIDTH + column] = value
            return
        cell = self._sealed_cell(column, at)
        if cell is not None and self.ring[cell] == 0:
            self.ring[cell] = _encode(value)

    def _find(self, column: int, at: float, value: float) -> int | None:
        index = bisect_left(self.times, at)
        while index < len(self.times) and self.times[index] == at:
            if abs(self.rows[index * WIDTH + column] - value) < 1e-3:
                return index
            index += 1
        return None

    def _sealed_cell(self, column: int, at: float) -> int | None:
        minute = math.floor(at / 60)
        if self.last_minute - self.limits.minutes < minute <= self.last_minute:
            return (minute % self.limits.minutes) * COUNT + column
        return None

    # -- reading -------------------------------------------------------------------------
    def minutes_until(self, end_minute: int, count: int) -> np.ndarray:
        """Per-minute medians of the `count` minutes up to and including `end_minute`, as a
        (count, COUNT) float array with NaN where there is no data. Minutes not yet sealed are
        computed from the raw sets, so the newest data counts too."""
        result = np.full((count, COUNT), np.nan)
        first = end_minute - count + 1
        low = max(first, self.last_minute - self.limits.minutes + 1)
        high = min(end_minute, self.last_minute)
        if high >= low:
            ring = np.frombuffer(self.ring, dtype=np.uint16).reshape(self.limits.minutes, COUNT)
            slots = np.arange(low, high + 1) % self.limits.minutes
            block = ring[slots].astype(float)
            block[block == 0] = np.nan
            result[low - first:high - first + 1] = block / _SCALE
        start = 0
        times = self.times
        while start < len(times):
            minute = math.floor(times[start] / 60)
            stop = bisect_left(times, (minute + 1) * 60, start)
            if first <= minute <= end_minute:
                medians = self._medians(start, stop)
                result[minute - first] = [np.nan if v is None else v for v in medians]
            start = stop
        return result

    # -- bytes ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The window as bytes; only the ring's minutes that hold data are written."""
        minutes = self.limits.minutes
        if self.last_minute < 0:
            ring_minutes = 0
        else:
            ring_minutes = min(minutes, self.last_minute - self.first_minute + 1)
        ring = array("H")
        for minute in range(self.last_minute - ring_minutes + 1, self.last_minute + 1):
            slot = (minute % minutes) * COUNT
            ring.extend(self.ring[slot:slot + COUNT])
        header = _HEADER.pack(
            self.watermark, self.sealed_until, self.first_minute, self.last_minute,
            self.too_late, self.duplicates, len(self.times), ring_minutes,
        )
        return header + self.times.tobytes() + self.rows.tobytes() + ring.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, limits: WindowLimits) -> "Window":
        window = cls(limits)
        (window.watermark, window.sealed_until, window.first_minute, window.last_minute,
         window.too_late, window.duplicates, rows, ring_minutes) = _HEADER.unpack_from(data)
        offset = _HEADER.size
        window.times.frombytes(bytes(data[offset:offset + 8 * rows]))
        offset += 8 * rows
        window.rows.frombytes(bytes(data[offset:offset + 4 * WIDTH * rows]))
        offset += 4 * WIDTH * rows
        ring = array("H")
        ring.frombytes(bytes(data[offset:offset + 2 * COUNT * ring_minutes]))
        if len(window.times) != rows or len(ring) != COUNT * ring_minutes:
            raise ValueError("patient state is truncated (window)")
        ring_minutes = min(ring_minutes, limits.minutes)  # a shorter configured window keeps the newest
        ring = ring[len(ring) - COUNT * ring_minutes:]
        for index, minute in enumerate(range(window.last_minute - ring_minutes + 1,
                                             window.last_minute + 1)):
            slot = (minute % limits.minutes) * COUNT
            window.ring[slot:slot + COUNT] = ring[index * COUNT:(index + 1) * COUNT]
        if window.last_minute >= 0:
            window.first_minute = max(window.first_minute, window.last_minute - ring_minutes + 1)
        window._schedule_seal()
        return window

    def size(self) -> int:
        """Bytes held by the buffers, for the memory benchmark."""
        return (self.times.buffer_info()[1] * 8 + self.rows.buffer_info()[1] * 4
                + self.ring.buffer_info()[1] * 2)
