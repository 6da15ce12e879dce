"""`crsmon replay`: the streaming engine over a JSON Lines file, in event time, without Kafka.

Files come in two orders, and both must give the same alerts. A live feed, or an export sorted
by time, interleaves patients; a hospital's export is usually grouped by patient — one stay
after another, or a folder of per-stay files. Event time advances with the newest event read,
for every patient, as the worker's timer lets it; and since the engine gives the same outputs
whenever time was advanced in between (monitor/engine.py), a patient's alerts depend only on
its own events and on where the input ends.

When the input can be read twice (a file or a folder, not a pipe), a first pass finds each
patient's last line and the input's newest time (`plan`). A patient whose last line has been
read is then let run to that end at once and forgotten (`Engine.close`), so memory holds only
the patients still to be heard of: one at a time for a grouped file, however many stays it has.
The plan also counts each patient's lines, by which `crsmon replay --jobs N` shares the patients
out among processes (monitor/replay_jobs.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterable, Iterator

import orjson

from monitor.engine import Engine, Outputs
from monitor.intake import FutureCheck, RecentMessages
from monitor.wire import InputEvent, InvalidMessage, decode_input, encode, parse_timestamp

#: How replay's summary names each reason a valid line was not applied.
_IGNORED = {
    "duplicate_message": "the same line as one of the patient's last few",
    "duplicate": "a set identical to one the window holds",
    "behind_window": "older than the patient's window",
    "after_discharge": "older than the patient's discharge",
}


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """What a first pass over the input knows: each patient's last line, and the end of time.

    One line number per patient: memory in proportion to the patients, never to the lines.
    """

    last_line_of: dict[str, int]
    end: datetime | None
    #: How many lines each patient has, to share patients out among processes (--jobs).
    lines_of: dict[str, int] = field(default_factory=dict)


def plan(lines: Iterable[bytes | str], future: FutureCheck | None = None) -> ReplayPlan:
    """Read the input once, cheaply (no validation): lines that will not decode are left for
    the replay itself to report, and so are lines dated ahead of the clock (`future`), which
    must not move the end of time for everyone."""
    last_line_of: dict[str, int] = {}
    lines_of: dict[str, int] = {}
    newest = ""
    end: datetime | None = None
    for number, line in enumerate(lines, start=1):
        try:
            document = orjson.loads(line)
            patient_id, ts = document["patient_id"], document["ts"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        if not isinstance(patient_id, str) or not isinstance(ts, str):
            continue
        last_line_of[patient_id] = number
        lines_of[patient_id] = lines_of.get(patient_id, 0) + 1
        if ts != newest:  # most lines of a sorted or hourly file repeat or follow the last
            try:
                at = parse_timestamp(ts)
            except ValueError:
                continue
            if (end is None or at > end) and (future is None or not future.refuses(at)):
                end, newest = at, ts
    return ReplayPlan(last_line_of, end, lines_of)


def input_lines(path: Path) -> Iterator[bytes]:
    """The lines of a JSON Lines file, or of a folder's `*.jsonl` files in name order (one
    stay a file, as some hospitals export them), as one input."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as source:
            yield from source


def replay(
    lines: Iterable[bytes | str],
    engine: Engine,
    out: IO[bytes],
    err: IO[str],
    *,
    with_status: bool = False,
    known: ReplayPlan | None = None,
) -> int:
    """Feed each line to the engine and write the outputs; returns the number of invalid lines.

    An invalid line is reported and skipped, never fatal: a clinician replaying a day of a
    ward must not lose the rest of it to one bad record.

    Event time advances with the newest event read, for every patient, so that a patient
    whose monitor falls silent in the file gets the same signal-loss and resolved alerts the
    worker's timer would give it. With `known` (a plan of these same lines), each patient is
    closed at its last line.
    """
    invalid = 0
    horizon: datetime | None = None
    last_line_of = known.last_line_of if known is not None else {}
    end = known.end if known is not None else None
    intake = ReplayIntake(engine)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = decode_input(line)
            if not intake.admits(event, line):
                continue
        except InvalidMessage as error:
            invalid += 1
            err.write(f"line {number}: {error.reason}\n")
            continue
        outputs, horizon = apply_line(engine, event, number, horizon, last_line_of, end)
        intake.applied(event, outputs, number, last_line_of)
        _write(outputs, out, with_status)
    intake.report(err)
    return invalid


class ReplayIntake:
    """Replay's share of monitor/intake.py: lines dated ahead of the clock are invalid, lines
    repeated are not applied twice, and every valid line not applied is counted by why and
    reported on standard error at the end (issue 19: no record dropped without a reason)."""

    def __init__(self, engine: Engine) -> None:
        self.future = FutureCheck(engine.config.future_tolerance_s)
        self.recent = RecentMessages()
        self.ignored: Counter[str] = Counter()

    def admits(self, event: InputEvent, line: bytes | str) -> bool:
        """Raises InvalidMessage for a line dated ahead of the clock; False for a repeat."""
        self.future.check(event.ts)
        message = line.encode() if isinstance(line, str) else line
        if self.recent.repeated(event.patient_id, message.strip()):
            self.ignored["duplicate_message"] += 1
            return False
        return True

    def applied(self, event: InputEvent, outputs: Outputs, number: int, last_line_of: dict[str, int]) -> None:
        if outputs.ignored is not None:
            self.ignored[outputs.ignored] += 1
        if last_line_of.get(event.patient_id) == number:
            self.recent.forget(event.patient_id)  # closed: nothing of it is read again

    def report(self, err: IO[str]) -> None:
        if self.ignored:
            counts = "; ".join(
                f"{count} {_IGNORED.get(reason, reason)}" for reason, count in sorted(self.ignored.items())
            )
            err.write(f"replay: {sum(self.ignored.values())} valid lines not applied: {counts}\n")


def apply_line(
    engine: Engine,
    event: InputEvent,
    number: int,
    horizon: datetime | None,
    last_line_of: dict[str, int],
    end: datetime | None,
) -> tuple[Outputs, datetime | None]:
    """One line's event in replay: time passes for every patient up to it when it is the
    newest (as the worker's timer lets it), then it is applied, and its patient is closed at
    its last line. Returns the outputs and the new horizon; shared with the parallel replay
    (monitor/replay_jobs.py), so both step alike."""
    if horizon is None or event.ts > horizon:
        horizon = event.ts
        outputs = engine.advance_to(horizon)
        outputs.extend(engine.observe(event))
    else:
        outputs = engine.observe(event)
    if end is not None and last_line_of.get(event.patient_id) == number:
        outputs.extend(engine.close(event.patient_id, end))
    return outputs, horizon


def _write(outputs: Outputs, out: IO[bytes], with_status: bool) -> None:
    payload = outputs_bytes(outputs, with_status)
    if payload:
        out.write(payload)


def outputs_bytes(outputs: Outputs, with_status: bool) -> bytes:
    """The JSON Lines of one step's outputs (statuses first, if wanted, then alerts stamped
    now); empty when there are none, as for most lines, without reading the clock."""
    if not outputs.alerts and not (with_status and outputs.statuses):
        return b""
    lines = [encode(status) for status in outputs.statuses] if with_status else []
    if outputs.alerts:
        now = datetime.now(timezone.utc)
        lines.extend(encode(alert.stamped(now)) for alert in outputs.alerts)
    lines.append(b"")
    return b"\n".join(lines)
