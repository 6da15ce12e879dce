"""The one builder of DeadLetter messages: the worker, ingest and the dispatcher each
dead-letter input, and consumers of `dead-letters` read one shape (docs/contract.md).

Why the payload is capped: a dead letter repeats the bad message as text, and undecodable
bytes escape to four characters each, so the largest message Kafka accepts on an input topic
(≈ 1 MB) made a 3.5 MB dead letter that the producer refused — and the worker, taking the same
record again at every restart, crash-looped. A dead letter keeps the first `PAYLOAD_KEPT` bytes
of the message, its original size and its SHA-256: enough to read what was wrong and to find
the whole message on its topic by partition and offset.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import orjson

from monitor.wire.codec import encode
from monitor.wire.outputs import DeadLetter

#: Bytes of the original message a dead letter keeps; escaped as text they stay well under
#: Kafka's default 1 MB message limit (at most 4 characters a byte: 64 KiB -> 256 KiB).
PAYLOAD_KEPT = 64 * 1024


def dead_letter(
    topic: str,
    partition: int | None,
    offset: int | None,
    reason: str,
    payload: bytes | str | None,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The dead-letter message for one message that could not be used, keeping its original
    bytes as text (undecodable bytes escaped, never dropped), cut to `PAYLOAD_KEPT` bytes with
    the original's size and digest. `extra` adds fields, which the contract lets every
    consumer ignore (e.g. the dispatcher's attempt history of a page)."""
    raw = payload.encode("utf-8", errors="surrogatepass") if isinstance(payload, str) else payload or b""
    kept = raw[:PAYLOAD_KEPT]
    letter = encode(
        DeadLetter(
            topic=topic,
            partition=partition,
            offset=offset,
            reason=reason,
            payload=kept.decode("utf-8", errors="backslashreplace"),
            received_at=datetime.now(timezone.utc),
            payload_bytes=len(raw),
            payload_sha256=hashlib.sha256(raw).hexdigest(),
            payload_truncated=len(raw) > PAYLOAD_KEPT,
        )
    )
    if not extra:
        return letter
    return orjson.dumps({**orjson.loads(letter), **extra})
