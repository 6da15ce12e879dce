"""Turning input that breaks the contract into a DeadLetter that a person can act on."""

from datetime import datetime, timezone

from monitor.wire import DeadLetter, encode


def dead_letter(
    topic: str, partition: int | None, offset: int | None, reason: str, payload: bytes | None
) -> bytes:
    """The dead-letter message for one rejected input, keeping the original bytes as text."""
    text = "" if payload is None else payload.decode("utf-8", errors="backslashreplace")
    return encode(DeadLetter(
        topic=topic, partition=partition, offset=offset, reason=reason, payload=text,
        received_at=datetime.now(timezone.utc),
    ))
