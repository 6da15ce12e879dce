"""Running crsmon commands as subprocesses, exactly as a user would, and stopping them for sure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CRSMON = str(Path(sys.executable).parent / "crsmon")


class Service:
    """A `crsmon` subprocess whose output goes to a log file shown when a test fails."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, program: str = CRSMON) -> None:
        self.log = log
        self._log_file = open(log, "ab")
        self.process = subprocess.Popen(
            [program, *args],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"process exited {self.process.returncode}:\n{self.output()[-4000:]}")
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not seen in {timeout:.0f} s:\n{self.output()[-4000:]}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()
        return self.process.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
