"""The stays a validation asks a clinician to look at, written out as replay inputs.

A figure says how often; a course says why. For each stay listed for review (septic stays the
warning missed 6 h ahead, other stays it kept flagged longest) the run writes the stay's events
as JSON Lines under `cases/`, so that `crsmon replay` shows every alert with its reasons and
`crsmon report PATIENT_ID --from cases/PATIENT_ID.jsonl` draws the course on one page —
which `crsmon validate --case-reports` does for each at once.
"""

from __future__ import annotations

from pathlib import Path

from monitor.wire import encode
from validation.physionet import ColumnMap, read_stay
from validation.problems import Problems


def review_ids(cases: dict) -> list[str]:
    """Every patient the report lists, once, in the report's order."""
    ids: list[str] = []
    for lists in cases.values():
        for patient_id in [
            *lists["missed_6h_before_onset"],
            *(c["patient_id"] for c in lists["non_septic_most_flagged"]),
        ]:
            if patient_id not in ids:
                ids.append(patient_id)
    return ids


def write_case_inputs(
    source: Path, columns: ColumnMap, sources: dict[str, str], patient_ids: list[str], folder: Path
) -> dict[str, Path]:
    """Each patient's events as `folder/PATIENT_ID.jsonl`; `sources` names each patient's file
    (for a folder of .psv stays). Returns the files written, by patient."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if source.is_dir():
        for patient_id in patient_ids:
            stay = read_stay(source / sources[patient_id], columns, Problems())
            if stay is None:
                continue
            path = folder / f"{patient_id}.jsonl"
            path.write_bytes(b"".join(encode(event, drop_none=True) + b"\n" for event in stay.inputs()))
            written[patient_id] = path
        return written
    wanted = set(patient_ids)
    lines: dict[str, list[bytes]] = {patient_id: [] for patient_id in patient_ids}
    with source.open("rb") as events:
        for line in events:
            for patient_id in wanted:
                if patient_id.encode() in line:
                    lines[patient_id].append(line if line.endswith(b"\n") else line + b"\n")
    for patient_id, own in lines.items():
        if own:
            path = folder / f"{patient_id}.jsonl"
            path.write_bytes(b"".join(own))
            written[patient_id] = path
    return written
