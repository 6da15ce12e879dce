"""What the worker stores per patient: the engine's state, the alerts not yet confirmed, and
the input offsets the state has taken.

An alert and the state that remembers it are two messages to two topics; a crash can land the
state without the alert. So the state carries the alerts whose delivery was not confirmed when
it was written, and a worker that restores it sends them again (same alert_id, so consumers
de-duplicate). This keeps the guarantee without waiting for a broker round trip per alert in
the stream.

The offsets make redelivery harmless (issue 19): Kafka hands a restarted worker the records
after the last committed offset, and some of those may already be in the stored state. A
record of this patient at or below the offset stored for its topic and partition is skipped
(streams/patient_states.py says why nothing before the committed offset is missing).

Layout, format 2: b"CRSR" | u8 format | u16 n | n × (u32 length | alert bytes)
                  | u8 k | k × (u8 length | topic | u32 partition | i64 offset) | engine snapshot
Format 1 (no offsets) is still read: such a patient skips nothing on its first restore.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

MAGIC = b"CRSR"
FORMAT = 2

#: Per input topic the patient's records came on: (partition, the last offset the state took).
Applied = dict[str, tuple[int, int]]

_OFFSET = struct.Struct(">Iq")


class StoredPatient(NamedTuple):
    snapshot: bytes
    unconfirmed: list[bytes]
    applied: Applied


def pack(snapshot: bytes, unconfirmed: list[bytes], applied: Applied | None = None) -> bytes:
    parts = [MAGIC, struct.pack(">BH", FORMAT, len(unconfirmed))]
    for alert in unconfirmed:
        parts.append(struct.pack(">I", len(alert)))
        parts.append(alert)
    applied = applied or {}
    parts.append(bytes([len(applied)]))
    for topic, (partition, offset) in applied.items():
        name = topic.encode()
        parts.append(bytes([len(name)]))
        parts.append(name)
        parts.append(_OFFSET.pack(partition, offset))
    parts.append(snapshot)
    return b"".join(parts)


def unpack(record: bytes) -> StoredPatient:
    """The engine snapshot, the unconfirmed alerts and the offsets taken; raises ValueError
    for data this version cannot read."""
    if not record.startswith(MAGIC) or len(record) < 7:
        raise ValueError("not a crsmon patient record")
    version, count = struct.unpack_from(">BH", record, 4)
    if version not in (1, FORMAT):
        raise ValueError(f"patient record format {version} is newer than this worker reads")
    try:
        at = 7
        alerts = []
        for _ in range(count):
            (length,) = struct.unpack_from(">I", record, at)
            at += 4
            alerts.append(record[at : at + length])
            at += length
        applied: Applied = {}
        if version >= 2:
            topics = record[at]
            at += 1
            for _ in range(topics):
                length = record[at]
                topic = record[at + 1 : at + 1 + length].decode()
                at += 1 + length
                applied[topic] = _OFFSET.unpack_from(record, at)
                at += _OFFSET.size
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise ValueError(f"a truncated or damaged patient record ({error})") from error
    return StoredPatient(record[at:], alerts, applied)
