"""A progress bar on standard error for long runs; a line every tenth where it is no terminal
(a CI log wants a few lines, not a thousand carriage returns)."""

from __future__ import annotations

import time
from typing import IO


class Progress:
    def __init__(self, total: int, out: IO[str], unit: str) -> None:
        self.total, self.out, self.unit = total, out, unit
        self.done = 0
        self.started = time.monotonic()
        self._tty = hasattr(out, "isatty") and out.isatty()
        self._next_tenth = 1

    def advance(self, count: int) -> None:
        self.done += count
        elapsed = time.monotonic() - self.started
        if self._tty:
            filled = int(30 * self.done / max(1, self.total))
            self.out.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done:,}/{self.total:,} {self.unit}, {elapsed:.0f} s"
            )
            self.out.flush()
        elif self.done * 10 >= self._next_tenth * self.total:
            self._next_tenth = self.done * 10 // max(1, self.total) + 1
            self.out.write(f"{self.done:,}/{self.total:,} {self.unit} ({elapsed:.0f} s)\n")

    def finish(self) -> None:
        if self._tty:
            self.out.write("\n")
