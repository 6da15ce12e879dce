"""What the worker stores per patient: the engine's state plus the alerts not yet confirmed.

An alert and the state that remembers it are two messages to two topics; a crash can land the
state without the alert. So the state carries the alerts whose delivery was not confirmed when
it was written, and a worker that restores it sends them again (same alert_id, so consumers
de-duplicate). This keeps the guarantee without waiting for a broker round trip per alert in
the stream.

Layout: b"CRSR" | u8 format | u16 n | n × (u32 length | alert bytes) | engine snapshot
"""

import struct

MAGIC = b"CRSR"
FORMAT = 1


def pack(snapshot: bytes, unconfirmed: list[bytes]) -> bytes:
    parts = [MAGIC, struct.pack(">BH", FORMAT, len(unconfirmed))]
    for alert in unconfirmed:
        parts.append(struct.pack(">I", len(alert)))
        parts.append(alert)
    parts.append(snapshot)
    return b"".join(parts)


def unpack(record: bytes) -> tuple[bytes, list[bytes]]:
    """The engine snapshot and the unconfirmed alerts; raises ValueError for unknown data."""
    if not record.startswith(MAGIC) or len(record) < 7:
        raise ValueError("not a crsmon patient record")
    version, count = struct.unpack_from(">BH", record, 4)
    if version != FORMAT:
        raise ValueError(f"patient record format {version} is newer than this worker reads")
    offset = 7
    alerts = []
    for _ in range(count):
        (length,) = struct.unpack_from(">I", record, offset)
        offset += 4
        alerts.append(record[offset:offset + length])
        offset += length
    return record[offset:], alerts
