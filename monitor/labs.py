"""A patient's lab results: a short, timestamped history per test, beside the vital-sign window.

Why not the window: vital signs arrive every second and live in per-minute rings of 16-bit
hundredths; labs arrive hours to days apart, span orders of magnitude (ferritin in the tens of
thousands, creatinine to four decimals) and are read by their history, not by the minute — the
KDIGO baseline is the lowest creatinine of the 7 days before a reading, an inflammation trend
compares with the value at therapy. So each test keeps its own (time, value) pairs, in event
time order, as two `array('d')` (16 bytes a result: a panel of six tests every 6 h for 14 days
is ≈ 5 KB), bounded in time (`lab_history_days`) and in count (`lab_history_max` per test).

Values are in the catalogue's canonical unit (monitor/catalogue.py): the wire converted them
(monitor/wire/events.py, LabEvent). A result at the same moment as one already held replaces it
(a corrected report); an older one is inserted in its place, so a late result counts.

Stored with the patient's state (monitor/patient_state.py) as
`[revision, [[test, [times], [values]], …]]`;
a snapshot from before labs has none, and restores with an empty history.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Iterator, Mapping, NamedTuple


class LabResult(NamedTuple):
    """One result of one test, in the test's canonical unit."""

    test: str
    value: float
    at: float  # event time, seconds since the epoch


class LabHistory:
    """Per test, its results in time order; a patient without labs has no history at all."""

    __slots__ = ("_changed", "_times", "_values", "newest_at", "revision")

    def __init__(self) -> None:
        self._times: dict[str, array] = {}
        self._values: dict[str, array] = {}
        #: The event time of the newest result of any test: what tells a status that the
        #: labs have changed (monitor/engine.py's status key).
        self.newest_at: float | None = None
        #: Counts the results taken (a late or corrected one too): a status follows it.
        self.revision = 0
        #: Per test, the revision at which its results last changed: a status's entry for a
        #: test is read from that test's results alone, so it is rebuilt only when they change
        #: (monitor/reports.py), not for each result of another test of the same panel.
        self._changed: dict[str, int] = {}

    # -- taking results --------------------------------------------------------------------
    def add(self, test: str, value: float, at: float, keep_s: float, most: int) -> bool:
        """Hold one result; False when it is too old to keep (older than `keep_s` before the
        test's newest). Results older than `keep_s` before the newest, and beyond `most`, go."""
        times = self._times.get(test)
        if times is None:
            times = self._times[test] = array("d")
            self._values[test] = array("d")
        values = self._values[test]
        if times and at < times[-1] - keep_s:
            return False
        index = bisect_left(times, at)
        if index < len(times) and times[index] == at:
            values[index] = value  # a corrected report of the same sample
        else:
            times.insert(index, at)
            values.insert(index, value)
        cut = bisect_left(times, times[-1] - keep_s)
        cut = max(cut, len(times) - most)
        if cut > 0:
            del times[:cut]
            del values[:cut]
        if self.newest_at is None or at > self.newest_at:
            self.newest_at = at
        self.revision += 1
        self._changed[test] = self.revision
        return True

    # -- reading ---------------------------------------------------------------------------
    def tests(self) -> Iterator[str]:
        """The tests with results, in the order they first came."""
        return (test for test, times in self._times.items() if times)

    def changes(self) -> Mapping[str, int]:
        """Per test with results, the revision at which they last changed (after a restore, the
        restored revision): read-only."""
        return self._changed

    def latest(self, test: str, at: float | None = None) -> LabResult | None:
        """The newest result of `test` (at or before `at` when given): the one in force."""
        times = self._times.get(test)
        if not times:
            return None
        index = len(times) if at is None else bisect_right(times, at)
        if index == 0:
            return None
        return LabResult(test, self._values[test][index - 1], times[index - 1])

    def between(self, test: str, start: float, end: float) -> list[LabResult]:
        """The results of `test` with start ≤ time ≤ end, oldest first."""
        times = self._times.get(test)
        if not times:
            return []
        values = self._values[test]
        low, high = bisect_left(times, start), bisect_right(times, end)
        return [LabResult(test, values[i], times[i]) for i in range(low, high)]

    def lowest(self, test: str, start: float, end: float) -> LabResult | None:
        """The lowest result of `test` with start ≤ time ≤ end (the earliest of equals)."""
        results = self.between(test, start, end)
        return min(results, key=lambda result: (result.value, result.at)) if results else None

    def __len__(self) -> int:
        return sum(len(times) for times in self._times.values())

    def __bool__(self) -> bool:
        return self.newest_at is not None

    # -- bytes -----------------------------------------------------------------------------
    def as_list(self) -> list:
        return [
            self.revision,
            [[test, times.tolist(), self._values[test].tolist()] for test, times in self._times.items() if times],
        ]

    @classmethod
    def from_list(cls, items: list) -> "LabHistory":
        history = cls()
        history.revision, tests = items
        for test, times, values in tests:
            if len(times) != len(values):
                raise ValueError(f"lab history of {test}: {len(times)} times, {len(values)} values")
            history._times[test] = array("d", times)
            history._values[test] = array("d", values)
            history._changed[test] = history.revision
            if times and (history.newest_at is None or times[-1] > history.newest_at):
                history.newest_at = times[-1]
        return history
