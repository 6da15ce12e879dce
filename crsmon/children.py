"""Processes started by `crsmon demo`, each in a process group of its own, stopped for sure.

Each child is the leader of a new session, so that Ctrl-C in the terminal reaches only the
demo, which then stops its children in order (the application first, Kafka last) instead of
everyone at once. Stopping signals the whole group, so whatever a child started itself (the
Kafka JVM under `python -m crsmon.local_kafka serve`) stops too, and the stop waits until no
process of the group is left. If the demo itself is killed, Linux sends each child SIGTERM
(PR_SET_PDEATHSIG), so not even a SIGKILL of the demo leaves orphans behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from crsmon.local_kafka import _die_with_parent


class Child:
    """One `crsmon` (or other) command, its output in `log`."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def start(self) -> "Child":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        return self

    def exit_status(self) -> int | None:
        """None while it runs (or was never started)."""
        return None if self.process is None else self.process.poll()

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output().splitlines()[-lines:]) or "(the log is empty)"

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self._group_alive():
            try:
                os.killpg(self.pid, signum)
            except ProcessLookupError:
                pass

    def _group_alive(self) -> bool:
        """Any process left in the group, the leader or what it started."""
        if self.process is None:
            return False
        self.process.poll()  # reap the leader, else its zombie counts as alive
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def wait_stopped(self, deadline: float, hurry: Callable[[], bool] = lambda: False) -> bool:
        """Wait until the whole group is gone, `deadline` (monotonic) passes or `hurry()` says so."""
        while self._group_alive():
            if time.monotonic() >= deadline or hurry():
                return False
            time.sleep(0.05)
        return True

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        self.wait_stopped(time.monotonic() + 10.0)


def stop_all(children: list[Child], timeout: float = 20.0, hurry: Callable[[], bool] = lambda: False) -> list[str]:
    """Stop several at once: SIGTERM, and SIGKILL for what is left after `timeout` or as soon
    as `hurry()` is true. Returns the names of those that needed SIGKILL."""
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = []
    for child in children:
        if not child.wait_stopped(deadline, hurry):
            killed.append(child.name)
            child.kill()
    return killed


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None
