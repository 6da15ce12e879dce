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
    """
    invalid = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = decode_input(line)
        except InvalidMessage as error:
            invalid += 1
            err.write(f"line {number}: {error.reason}\n")
            continue
        outputs = engine.observe(event)
        now = datetime.now(timezone.utc)
        if with_status:
            for status in outputs.statuses:
                out.write(encode(status) + b"\n")
        for alert in outputs.alerts:
            out.write(encode(alert.stamped(now)) + b"\n")
    return invalid
