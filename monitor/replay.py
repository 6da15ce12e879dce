"""`crsmon replay`: the streaming engine over a JSON Lines file, in event time, without Kafka."""

from datetime import datetime, timezone
from typing import IO, Iterable

from monitor.engine import Engine
from monitor.wire import InvalidMessage, decode_input, encode


def replay(
    lines: Iterable[bytes | str],
    engine: Engine,
    out: IO[bytes],
    err: IO[str],
    *,
    with_status: bool = False,
) -> int:
    """Feed each line to the engine and write the outputs; returns the number of invalid lines.

    An invalid line is reported and skipped, never fatal: a clinician replaying a day of a
    ward must not lose the rest of it to one bad record.

    Event time advances with the newest event read, for every patient, so that a patient
    whose monitor falls silent in the file gets the same signal-loss and resolved alerts the
    worker's timer would give it.
    """
    invalid = 0
    horizon: datetime | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = decode_input(line)
        except InvalidMessage as error:
            invalid += 1
            err.write(f"line {number}: {error.reason}\n")
            continue
        if horizon is None or event.ts > horizon:
            horizon = event.ts  # time passes for every patient, as the worker's timer lets it
            outputs = engine.advance_to(horizon)
            outputs.extend(engine.observe(event))
        else:
            outputs = engine.observe(event)
        now = datetime.now(timezone.utc)
        if with_status:
            for status in outputs.statuses:
                out.write(encode(status) + b"\n")
        for alert in outputs.alerts:
            out.write(encode(alert.stamped(now)) + b"\n")
    return invalid
