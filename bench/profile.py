"""Where a measured process spends its CPU: py-spy samples, summed by function.

py-spy reads the process from outside (no code in the worker, no restart), so the worker is
profiled as it runs in the benchmark. It is not a project dependency: install it into the venv
when you want a profile (`.venv/bin/pip install py-spy`); `bench/worker.py --profile` says so
if it is missing.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


class Sampler:
    """py-spy recording one process until stopped; raw collapsed stacks go to `output`.

    Only the thread holding the GIL is sampled (`--gil`): the worker is one Python process
    whose threads (the event loop, Faust's consumer thread) take turns on one interpreter, so
    what holds the GIL is what costs throughput; a thread waiting for it is not working.
    """

    def __init__(self, pid: int, output: Path, rate: int = 250) -> None:
        self.output = output
        self.process = subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(output),
                "--nonblocking",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """py-spy writes its file when interrupted."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _package(frame: str) -> str:
    """`Store._set (faust/stores/rocksdb.py)` -> `faust`; a frame without a file -> `(native)`."""
    where = frame.rpartition("(")[2].rstrip(")")
    return where.split("/")[0] if "/" in where else where or "(native)"


def summarise(raw: Path, top: int = 30) -> str:
    """Inclusive and own share of the samples per function (lines merged), largest first."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
        by_package[_package(frames[-1])] += samples
    if not total:
        return "no samples"
    lines = [
        f"{total} samples of the thread holding the GIL",
        "",
        "own time by package (robust: py-spy cuts coroutine stacks, so inclusive shares of",
        "async functions are lower bounds):",
    ]
    lines += [f"{100 * n / total:5.1f}%  {package}" for package, n in by_package.most_common()]
    lines += ["", "inclusive:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)
