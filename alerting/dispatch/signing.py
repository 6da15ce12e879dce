"""Standard Webhooks signatures: receivers can tell a real page from a forged one.

`webhook-id` is the same on every retry of a notification (so receivers de-duplicate on it);
`webhook-timestamp` is the time of each attempt, so a captured request cannot be replayed
later; `webhook-signature` holds one `v1,<base64 HMAC-SHA256>` per secret in force, which lets
a receiver rotate its secret without missing a page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Mapping, Sequence


def signature(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: space-separated `v1,<base64>` entries, one per key."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys)


def signed_headers(keys: Sequence[bytes], message_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (none but the id when unsigned)."""
    headers = {"webhook-id": message_id}
    if keys:
        timestamp = int(time.time() if now is None else now)
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = signature(keys, message_id, timestamp, body)
    return headers


def verify(
    keys: Sequence[bytes], headers: Mapping[str, str], body: bytes, tolerance: float = 300.0, now: float | None = None
) -> str | None:
    """None when a signature matches one of `keys` within `tolerance` seconds, else why not."""
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (message_id and stamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        timestamp = int(stamp)
    except ValueError:
        return f"webhook-timestamp {stamp!r} is not a Unix time"
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return f"webhook-timestamp {timestamp} is more than {tolerance:.0f} s from now"
    expected = signature(keys, message_id, timestamp, body).split(" ")
    offered = signatures.split(" ")
    if any(hmac.compare_digest(mine, theirs) for mine in expected for theirs in offered):
        return None
    return "no signature matches any of the secrets"
