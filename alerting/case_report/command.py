"""`crsmon report PATIENT_ID --from FILE`: one patient's case report from a replay input.

The engine runs exactly as `crsmon replay` runs it (`monitor.replay.replay`, the same
configuration), over that patient's lines only: each patient's course is independent of the
others', and a ward of 200 replays 200 times faster for one. Time still passes with the whole
file: after the patient's last line the engine is advanced to the file's last time, so a
monitor that fell silent at the end is reported lost as it would be in the full replay.

FILE may also hold outputs (lines with a `record`: statuses, alerts, acknowledgements), as a
saved `crsmon replay --status` run or a validation run does. Acknowledgements are always taken
(they are what people did); statuses and alerts are taken as they are only when the file has no
inputs for the patient, otherwise the engine's own are drawn.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable

import orjson

from alerting.case_report.course import Output
from monitor.config import load_config
from monitor.engine import Engine
from monitor.replay import replay
from monitor.wire import (
    Acknowledgement,
    Alert,
    InvalidMessage,
    PatientStatus,
    decode_as,
    decode_input,
    parse_timestamp,
)

_OUTPUT_MODELS: dict[str, type[PatientStatus] | type[Alert] | type[Acknowledgement]] = {
    "status": PatientStatus,
    "alert": Alert,
    "ack": Acknowledgement,
}


def read_patient(
    lines: Iterable[bytes], patient_id: str, err: IO[str]
) -> tuple[list[bytes], list[Output], datetime | None]:
    """The patient's input lines, the outputs recorded in the file, and the file's last time."""
    inputs: list[bytes] = []
    outputs: list[Output] = []
    newest: datetime | None = None
    needle = patient_id.encode()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
            stamp = document.get("ts") or document.get("observed_at")
            at = parse_timestamp(stamp) if isinstance(stamp, str) else None
        except (orjson.JSONDecodeError, AttributeError, ValueError):
            continue  # replay reports bad lines of the patient; other patients' are not ours to judge
        if at is not None and (newest is None or at > newest):
            newest = at
        if needle not in line or document.get("patient_id") != patient_id:
            continue
        record = document.get("record")
        if record in _OUTPUT_MODELS:
            try:
                outputs.append(decode_as(_OUTPUT_MODELS[record], line))
            except InvalidMessage as error:
                err.write(f"line {number}: {error.reason}\n")
        elif record is None:
            inputs.append(line)
    return inputs, outputs, newest


def run_engine(inputs: list[bytes], until: datetime | None, engine: Engine, err: IO[str]) -> list[Output]:
    """`crsmon replay --status` over the lines, then time up to `until`; its outputs as models."""
    out = io.BytesIO()
    replay(inputs, engine, out, err, with_status=True)
    outputs: list[Output] = []
    for line in out.getvalue().splitlines():
        record = orjson.loads(line)["record"]
        outputs.append(decode_as(_OUTPUT_MODELS[record], line))
    if until is not None:
        tail = engine.advance_to(until)
        outputs.extend(tail.statuses)
        outputs.extend(tail.alerts)
    return outputs


def case_from_file(path: str, patient_id: str, config: str | None, err: IO[str]) -> tuple[list, list[Output]]:
    """The events and outputs of one patient, from a replay input (or a recorded run)."""
    with open(path, "rb") as source:
        inputs, recorded, newest = read_patient(source, patient_id, err)
    events = []
    for line in inputs:
        try:
            events.append(decode_input(line))
        except InvalidMessage:
            pass  # replay reports it with its line number
    acks = [item for item in recorded if isinstance(item, Acknowledgement)]
    if inputs:
        outputs = run_engine(inputs, newest, Engine(load_config(config)), err)
        for ack in acks:
            # an acknowledgement changes what the engine does next (no re-notification):
            # the recorded ones are drawn, the engine above ran without them.
            outputs.append(ack)
    else:
        outputs = recorded
    return events, outputs


def report_command(args) -> int:
    """Exit status 0 with the two files written, 2 when the input cannot be read or is empty."""
    from alerting.case_report.render import render_case_report  # matplotlib only when drawing

    try:
        events, outputs = case_from_file(args.source, args.patient_id, args.config, sys.stderr)
    except OSError as error:
        print(f"crsmon report: cannot read {args.source}: {error.strerror}", file=sys.stderr)
        return 2
    if not events and not outputs:
        print(f"crsmon report: nothing about patient {args.patient_id} in {args.source}", file=sys.stderr)
        return 2
    out = Path(args.out or f"case-{args.patient_id}")
    out.parent.mkdir(parents=True, exist_ok=True)
    drawn = render_case_report(events, outputs, Path(f"{out}.png"), Path(f"{out}.pdf"), patient_id=args.patient_id)
    lanes = len({span[0] for span in drawn.spans})
    clinical = sum(
        1
        for event in events
        if getattr(event, "type", "lab") not in ("lab", "neuro") and drawn.start <= event.ts <= drawn.end
    )
    sparse = (f", {len(drawn.labs)} lab samples" if drawn.labs else "") + (
        f", {len(drawn.ice)} neuro assessments" if drawn.ice else ""
    )
    print(
        f"crsmon report: {drawn.png} and {drawn.pdf} ({drawn.start:%d %b %H:%M} – {drawn.end:%d %b %H:%M} UTC, "
        f"{clinical} clinical events{sparse}, {len(drawn.spans)} alert spans in {lanes} lanes)"
    )
    return 0
