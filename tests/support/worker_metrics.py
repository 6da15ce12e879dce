"""Reading a worker's /metrics and waiting on it, for the tests that drive real workers: one
copy, so that a change of the exposition format is mended once."""

from __future__ import annotations

import re
import time
import urllib.request
from typing import Callable, TypeVar

T = TypeVar("T")


def metric(port: int, name: str) -> float:
    """The sum of every sample of one metric family on 127.0.0.1:port/metrics (0 if none)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(value) for value in re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", body, re.M))


def consumed(port: int) -> float:
    """The worker's own count of messages consumed."""
    return metric(port, "crsmon_messages_consumed_total")


def wait_for(condition: Callable[[], T], timeout: float, what: str, every: float = 0.3) -> T:
    """Poll `condition` until it is true (a worker not answering yet counts as false); its
    value. Fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except OSError:
            pass
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
