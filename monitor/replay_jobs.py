"""`crsmon replay --jobs N`: one file replayed by N processes, each for its share of the patients.

Patients are independent: a patient's outputs depend only on its own events and on how event
time advances (tests/test_engine_time.py), and event time is the newest valid event read so far,
whoever it belongs to. So each process reads the whole file, replays only its own patients,
and follows the same horizon: a line of another patient is only parsed for its time, and fully
validated only when that time would move the horizon on (as the single replay moves it only
for a valid event). Each patient is closed at its last line, as in the single replay.

Patients are shared out by the plan (`monitor/replay.py`), the largest first to the process
with the fewest lines so far, so a file of a few long stays still keeps every core busy.

Each process sends its outputs, and the reasons of its invalid lines, tagged with the line
number that gave them; the parent merges them by line number, then by process. The order this
guarantees:

- every output comes after the outputs of earlier lines, as with one process;
- one patient's outputs come in exactly the order one process gives them;
- within one line, the outputs of time passing for several patients (signal loss, resolved
  episodes, found by `advance_to`) may come in another order across patients than with one
  process. The multiset of alerts and statuses is the same (tests/test_replay_jobs.py).

Invalid lines are reported with their line numbers, in line order, each once (by the
process of the line's patient, or the first process when the line names no patient).
"""

from __future__ import annotations

import heapq
import os
import signal
import struct
import sys
import traceback
from pathlib import Path
from typing import IO, BinaryIO, Iterator

import orjson

from monitor.config import EngineConfig
from monitor.engine import Engine
from monitor.replay import ReplayIntake, ReplayPlan, apply_line, input_lines, outputs_bytes
from monitor.wire import InvalidMessage, decode_input, parse_timestamp, validate_input

#: One record from a process: line number, kind, payload length; then the payload.
_RECORD = struct.Struct("<QBI")
_OUTPUT, _INVALID = 0, 1
#: Pipe capacity asked for (Linux): a process may run this far ahead of the merge.
_PIPE_BYTES = 1 << 20


def default_jobs() -> int:
    """One process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def share_out(known: ReplayPlan, jobs: int) -> dict[str, int]:
    """Each patient's process: the patients with most lines first, each to the process with
    fewest lines so far (ties to the lower process, then by patient id: deterministic)."""
    loads = [(0, job) for job in range(jobs)]
    owner_of: dict[str, int] = {}
    for patient_id, count in sorted(known.lines_of.items(), key=lambda item: (-item[1], item[0])):
        load, job = heapq.heappop(loads)
        owner_of[patient_id] = job
        heapq.heappush(loads, (load + count, job))
    return owner_of


def replay_jobs(
    path: Path,
    config: EngineConfig,
    jobs: int,
    known: ReplayPlan,
    out: IO[bytes],
    err: IO[str],
    *,
    with_status: bool = False,
) -> int:
    """Replay the file or folder at `path` with `jobs` processes (POSIX fork); returns the
    number of invalid lines, as `replay` does."""
    owner_of = share_out(known, jobs)
    children: list[int] = []
    streams: list[BinaryIO] = []
    try:
        for job in range(jobs):
            read_end, write_end = os.pipe()
            _widen(write_end)
            out.flush()
            err.flush()
            pid = os.fork()
            if pid == 0:  # the child: replay its share, send the records, and leave
                os.close(read_end)
                for stream in streams:
                    stream.close()
                _child(path, config, job, owner_of, known, write_end, with_status)
            os.close(write_end)
            children.append(pid)
            streams.append(os.fdopen(read_end, "rb", buffering=1 << 16))
        invalid = 0
        for number, _job, kind, payload in heapq.merge(*(_records(stream, job) for job, stream in enumerate(streams))):
            if kind == _OUTPUT:
                out.write(payload)
            else:
                invalid += 1
                err.write(f"line {number}: {payload.decode()}\n")
        failed = [pid for pid in children if _exit_code(pid) != 0]
        children.clear()
        if failed:
            raise RuntimeError(f"{len(failed)} of {jobs} replay processes failed (see above)")
        return invalid
    finally:
        for stream in streams:
            stream.close()
        for pid in children:  # only when the merge stopped early (the reader went away)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            _exit_code(pid)


def _child(
    path: Path, config: EngineConfig, job: int, owner_of: dict[str, int], known: ReplayPlan, fd: int, with_status: bool
) -> None:
    code = 0
    try:
        with os.fdopen(fd, "wb", buffering=1 << 16) as sink:
            _replay_share(
                input_lines(path), Engine(config, statuses=with_status), job, owner_of, known, sink, with_status
            )
    except BrokenPipeError:
        code = 1  # the parent went away
    except KeyboardInterrupt:
        code = 130  # Ctrl-C reaches every process of the terminal: the parent reports it
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def _replay_share(
    lines: Iterator[bytes],
    engine: Engine,
    job: int,
    owner_of: dict[str, int],
    known: ReplayPlan,
    sink: BinaryIO,
    with_status: bool,
) -> None:
    """`replay` for this process's patients, with the horizon of all of them (see the module
    docstring); writes tagged records to `sink`."""
    horizon = None
    last_line_of, end = known.last_line_of, known.end
    parsed: dict[str, object] = {}  # timestamp text → datetime, or None when not a timestamp
    pack = _RECORD.pack
    intake = ReplayIntake(engine)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError:
            document = None
        patient_id = document.get("patient_id") if type(document) is dict else None
        owner = owner_of.get(patient_id, 0) if type(patient_id) is str else 0
        if owner == job:
            try:
                event = validate_input(document) if type(document) is dict else decode_input(line)
                if not intake.admits(event, line):
                    continue
            except InvalidMessage as error:
                reason = error.reason.encode()
                sink.write(pack(number, _INVALID, len(reason)))
                sink.write(reason)
                continue
            outputs, horizon = apply_line(engine, event, number, horizon, last_line_of, end)
            intake.applied(event, outputs, number, last_line_of)
        else:  # another process's line: only its time matters here, if it moves the horizon
            ts = document.get("ts") if type(patient_id) is str else None
            if type(ts) is not str:
                continue
            at = parsed.get(ts, parsed)
            if at is parsed:
                try:
                    at = parse_timestamp(ts)
                except ValueError:
                    at = None
                if len(parsed) >= 4096:
                    parsed.clear()
                parsed[ts] = at
            if at is None or (horizon is not None and at <= horizon):  # type: ignore[operator]
                continue
            if intake.future.refuses(at):  # type: ignore[arg-type]
                continue  # refused by its own process; time does not move for it
            try:
                event = validate_input(document)
            except InvalidMessage:
                continue  # its own process reports it; time does not move for it
            horizon = event.ts
            outputs = engine.advance_to(horizon)
        payload = outputs_bytes(outputs, with_status)
        if payload:
            sink.write(pack(number, _OUTPUT, len(payload)))
            sink.write(payload)
    intake.report(sys.stderr)  # each process its own patients' count


def _records(stream: BinaryIO, job: int) -> Iterator[tuple[int, int, int, bytes]]:
    """A process's records as (line, process, kind, payload), in its (line) order."""
    size = _RECORD.size
    unpack = _RECORD.unpack
    read = stream.read
    while True:
        header = read(size)
        if len(header) < size:
            return
        number, kind, length = unpack(header)
        yield number, job, kind, read(length)


def _widen(fd: int) -> None:
    """A larger pipe, where the system allows it: fewer stalls while the merge waits for a
    slower process."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (ImportError, OSError):
        pass


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
