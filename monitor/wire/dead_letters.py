"""The one builder of DeadLetter messages: the worker, ingest and the dispatcher each
dead-letter input, and consumers of `dead-letters` read one shape (docs/contract.md)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from monitor.wire.codec import encode
from monitor.wire.outputs import DeadLetter


def dead_letter(topic: str, partition: int | None, offset: int | None, reason: str,
                payload: bytes | str | None, extra: dict[str, Any] | None = None) -> bytes:
    """The dead-letter message for one message that could not be used, keeping its original
    bytes as text (undecodable bytes escaped, never dropped). `extra` adds fields, which the
    contract lets every consumer ignore (e.g. the dispatcher's attempt history of a page)."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="backslashreplace")
    letter = encode(DeadLetter(
        topic=topic, partition=partition, offset=offset, reason=reason, payload=payload or "",
        received_at=datetime.now(timezone.utc),
    ))
    if not extra:
        return letter
    return orjson.dumps({**orjson.loads(letter), **extra})
