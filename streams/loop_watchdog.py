"""A thread that notices when the worker's event loop stops running, and ends a stuck worker
that was asked to stop.

Why: everything the worker does runs on one asyncio loop: the stream, the timers, the producer,
/healthz and /readyz, the stop signal (mode installs SIGTERM/SIGINT with
`loop.add_signal_handler`, whose handler runs on the loop). A callback that never returns (an
engine bug looping inside a timer) therefore made a worker that answered nothing, published
nothing, logged nothing and ignored SIGTERM: it spun for 3 minutes until SIGKILL. Only another
thread can see that, so:

- the loop touches a heartbeat every `beat_s` (a `call_later` chain: it runs only when the loop
  does);
- a daemon thread checks the heartbeat; once it is older than `stall_s`, the thread logs an
  ERROR once per stall with the stack of the loop's thread (code locations only, never frame
  locals: they hold patient data), counts `crsmon_event_loop_stalls_total`, and readiness
  reports the stall (`problem()`), also for `recent_s` after the loop ran again: /readyz is
  served by the loop, so a probe is answered only once the stall is over;
- SIGTERM/SIGINT also set a flag from a plain `signal.signal` handler, chained after
  asyncio's (which only wakes the loop through its wakeup fd, so mode still gets the signal).
  CPython runs that handler in the main thread between bytecodes, or when a blocking call is
  interrupted, even while a callback never yields. If, `stop_timeout_s` after the signal, the
  loop is stalled, or the graceful stop still runs after `HARD_STOP_S`, the thread logs an
  ERROR with the stack and ends the process with status 1 (`os._exit`, after flushing logs):
  delivery is at-least-once, so what the stop did not commit is read again by the next owner.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any, Callable

from streams import metrics

log = logging.getLogger(__name__)

#: A live loop that has not finished its graceful stop after this long is ended as well
#: (Kubernetes' default grace period is 30 s; its SIGKILL would leave no log).
HARD_STOP_S = 30.0


class LoopWatchdog:
    """Heartbeat on the loop, judgement on a thread (see the module docstring)."""

    def __init__(
        self,
        stall_s: float = 2.0,
        stop_timeout_s: float = 5.0,
        *,
        beat_s: float = 0.25,
        recent_s: float = 15.0,
        exit_process: Callable[[int], Any] = os._exit,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stall_s = stall_s
        self.stop_timeout_s = stop_timeout_s
        self.beat_s = beat_s
        self.recent_s = recent_s
        self._exit = exit_process
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._last_beat: float | None = None
        self._stall_from: float | None = None  # the last beat before the stall being reported
        self._last_stall: tuple[float, float] | None = None  # (how long, when it ended)
        self._stop_requested_at: float | None = None
        self._stop_signal: str | None = None
        self._thread: threading.Thread | None = None

    # -- on the loop ---------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin beating on `loop` (from the loop's thread) and watching from a daemon thread."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        loop.call_soon(self._beat)
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        now = self._clock()
        with self._lock:
            if self._stall_from is not None:
                duration = now - self._stall_from
                self._last_stall = (duration, now)
                self._stall_from = None
                log.warning("the event loop runs again after a stall of %.1f s", duration)
            self._last_beat = now
        assert self._loop is not None
        self._loop.call_later(self.beat_s, self._beat)

    def problem(self) -> str | None:
        """Why the worker is not ready as far as the loop goes, or None."""
        now = self._clock()
        with self._lock:
            if self._last_beat is not None and now - self._last_beat > self.stall_s:
                return f"event loop stalled for {now - self._last_beat:.1f} s"
            if self._last_stall is not None and now - self._last_stall[1] < self.recent_s:
                duration, ended = self._last_stall
                return f"event loop stalled for {duration:.1f} s (until {now - ended:.1f} s ago)"
        return None

    # -- signals -------------------------------------------------------------------------
    def watch_stop_signals(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        """Chain a flag-setting handler to each signal's current one (call it after mode has
        installed its own with `loop.add_signal_handler`)."""
        for signum in signals:
            previous = signal.getsignal(signum)

            def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
                self.stop_requested(signal.Signals(number).name)
                if callable(previous):
                    previous(number, frame)

            signal.signal(signum, handler)

    def stop_requested(self, why: str) -> None:
        """A stop was asked for: the process must end within `stop_timeout_s` if the loop is
        stuck. Safe to call from a signal handler (sets values, wakes the thread)."""
        if self._stop_requested_at is None:
            self._stop_requested_at = self._clock()
            self._stop_signal = why
        self._wake.set()

    # -- on the thread -------------------------------------------------------------------
    def _watch(self) -> None:
        while True:
            self._wake.wait(self.beat_s)
            self._wake.clear()
            self.check()

    def check(self) -> None:
        """One look at the heartbeat and the stop request (the thread calls it every beat)."""
        now = self._clock()
        loop = self._loop
        with self._lock:
            last_beat = self._last_beat
            if last_beat is None or (loop is not None and loop.is_closed()):
                return
            behind = now - last_beat
            newly_stalled = behind > self.stall_s and self._stall_from is None
            if newly_stalled:
                self._stall_from = last_beat
        if newly_stalled:
            metrics.EVENT_LOOP_STALLS.inc()
            log.error(
                "the event loop has not run for %.1f s (limit %.1f s, CRSMON_LOOP_STALL_S): "
                "nothing is processed, published or answered meanwhile. It is at:\n%s",
                behind,
                self.stall_s,
                self.loop_stack(),
            )
        requested = self._stop_requested_at
        if requested is None:
            return
        waited = now - requested
        stuck = behind > self.stall_s and waited > self.stop_timeout_s
        if stuck or waited > max(HARD_STOP_S, self.stop_timeout_s):
            log.error(
                "%s %.1f s ago and the worker has not stopped (event loop last ran %.1f s "
                "ago): ending the process. The event loop is at:\n%s",
                self._stop_signal,
                waited,
                behind,
                self.loop_stack(),
            )
            _flush_logs()
            self._exit(1)

    def loop_stack(self) -> str:
        """Where the loop's thread is now: file, line, function and source line per frame."""
        frame = sys._current_frames().get(self._loop_thread) if self._loop_thread else None  # noqa: SLF001
        if frame is None:
            return "  (the loop's thread has no frame)"
        return "".join(traceback.format_stack(frame)).rstrip()


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: BLE001 - the process is ending; nothing else to do
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
