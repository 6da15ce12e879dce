"""The recent course of one patient's trended vital signs, for the sparklines of a tile.

A monitor sends a status every second; six hours of that is 21,600 points per sign, far more
than a 120-pixel sparkline can show and far too much to send to a browser that connects late.
So the history keeps one point per minute (the last value seen in that minute): 360 points for
six hours, small enough to send 200 patients' worth in one snapshot.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime

#: The signs drawn as sparklines, in the order of each point's values.
TRENDED: tuple[str, ...] = ("temperature", "heart_rate", "systolic_bp", "spo2")

BUCKET_SECONDS = 60

Point = list  # [minute since the Unix epoch, temperature, heart_rate, systolic_bp, spo2]


def minute_of(ts: datetime) -> int:
    """The bucket a time falls in: whole minutes since the Unix epoch."""
    return int(ts.timestamp() // BUCKET_SECONDS)


def trended_values(latest: dict[str, float]) -> list[float | None]:
    """The trended signs of a status's `latest`, None where absent.

    A value of exactly 0 is the contract's "probe off / signal lost", a gap in the signal; drawn
    as a reading it would look like a cardiac arrest, so it becomes a gap in the line.
    """
    values: list[float | None] = []
    for name in TRENDED:
        value = latest.get(name)
        values.append(None if value is None or value == 0 else value)
    return values


class VitalHistory:
    """One point per minute over a sliding window that ends at the newest point."""

    def __init__(self, window_minutes: int) -> None:
        self.window_minutes = window_minutes
        self.points: list[Point] = []

    def record(self, ts: datetime, latest: dict[str, float]) -> int | None:
        """Fold one status into its minute; returns that minute, or None if it is too old to keep.

        Within a minute a later status overrides the signs it carries and leaves the others, so
        a status without SpO2 does not punch a hole in the SpO2 line.
        """
        minute = minute_of(ts)
        values = trended_values(latest)
        newest = self.points[-1][0] if self.points else minute
        if minute <= newest - self.window_minutes:
            return None
        index = bisect_left(self.points, minute, key=lambda point: point[0])
        if index < len(self.points) and self.points[index][0] == minute:
            point = self.points[index]
            for offset, value in enumerate(values, start=1):
                if value is not None:
                    point[offset] = value
        else:
            self.points.insert(index, [minute, *values])
        self._trim()
        return minute

    def since(self, minute: int) -> list[Point]:
        """The points from `minute` on: what a browser that has the older ones is missing."""
        index = bisect_left(self.points, minute, key=lambda point: point[0])
        return self.points[index:]

    @property
    def newest_minute(self) -> int | None:
        return self.points[-1][0] if self.points else None

    def _trim(self) -> None:
        oldest_kept = self.points[-1][0] - self.window_minutes + 1
        if self.points[0][0] < oldest_kept:
            del self.points[: bisect_left(self.points, oldest_kept, key=lambda point: point[0])]
