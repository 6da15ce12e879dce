"""What `crsmon demo` prints: one line per start-up step (what, how long), then the alerts and
pages as they arrive.

Alerts show ward and bed, not the patient identifier: that is how a ward names a patient on a
screen, and the demo's terminal is a screen. Colours follow the alarm priorities of
IEC 60601-1-8, as the dashboard does (high red, medium yellow, low cyan), and only on a terminal.
"""

from __future__ import annotations

import re
import threading
import time
from typing import TextIO

from monitor.wire import Alert

_PRIORITY_COLOUR = {"critical": "\033[1;97;41m", "high": "\033[1;31m", "medium": "\033[33m", "low": "\033[36m"}
_RESET = "\033[0m"
_TITLE_WIDTH = 30
_REASONS_WIDTH = 100  # the full reasons are on the dashboard and in the pages


class Step:
    """One start-up step on one line: `[3/7] worker ....... ok  9.8 s  detail`.

    On a terminal the elapsed seconds tick while the step runs, so a slow first download
    does not look like a hang; in a log the line is written once, when the step ends.
    """

    def __init__(self, out: TextIO, number: int, total: int, title: str, live: bool) -> None:
        self.out = out
        self.prefix = f"  [{number}/{total}] {title} ".ljust(_TITLE_WIDTH + 9, ".")
        self.live = live
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self.out.write(f"\r{self.prefix} {self.elapsed:5.0f} s")
            self.out.flush()

    def _finish(self, text: str) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        line = f"{self.prefix} {text}"
        self.out.write(f"\r{line}\033[K\n" if self.live else f"{line}\n")
        self.out.flush()

    def done(self, detail: str = "") -> None:
        self._finish(f"ok {self.elapsed:5.1f} s  {detail}".rstrip())

    def failed(self, reason: str) -> None:
        self._finish(f"FAILED after {self.elapsed:.1f} s: {reason}")


def alert_line(alert: Alert, colour: bool) -> str:
    """`ward time 21:14  FIRING   high      crs grade 2   5-West bed 12   reasons`."""
    place = f"{alert.ward or '?'} bed {alert.bed or '?'}"
    what = alert.rule
    if alert.rule == "crs" and alert.crs_grade is not None:
        # Grade 0: raised by NEWS2 or an early warning in the risk period, before any ASTCT grade.
        what += f" grade {alert.crs_grade}" if alert.crs_grade else " no grade"
    if alert.rule == "news2" and alert.news2_score is not None:
        what += f" {alert.news2_score}"
    severity = f"{alert.severity:<8}"
    if colour:
        severity = f"{_PRIORITY_COLOUR.get(alert.severity, '')}{severity}{_RESET}"
    stamp = alert.observed_at.astimezone().strftime("%H:%M")
    reasons = "; ".join(alert.reasons)
    if len(reasons) > _REASONS_WIDTH:
        reasons = reasons[: _REASONS_WIDTH - 1] + "…"
    return f"  ward time {stamp}  {alert.status.upper():<8} {severity} {what:<14} {place:<16} {reasons}"


_SINK_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d+ (?P<method>[A-Z]+) (?P<path>\S+) webhook-id=\S+ (?P<check>.*)$")


def page_line(sink_line: str) -> str | None:
    """The demo's line for one page the webhook sink printed, or None for its other lines."""
    found = _SINK_LINE.match(sink_line)
    if found is None:
        return None
    return f"      -> page {found['method']} {found['path']} ({found['check']})"
