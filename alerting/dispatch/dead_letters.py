"""Dead letters of the dispatcher: bad messages on its input topics, and pages that could not
be delivered. Both use the contract's DeadLetter; an undelivered page adds who it was for and
its attempt history (extra fields, which the contract lets every consumer ignore)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from alerting.dispatch.delivery import Notification
from monitor.wire import DeadLetter, encode


def rejected_message(topic: str, partition: int, offset: int, reason: str, payload: bytes | None) -> bytes:
    """The dead letter for a message of `alerts` or `alert-acks` that breaks the contract."""
    text = "" if payload is None else payload.decode("utf-8", errors="backslashreplace")
    return encode(DeadLetter(topic=topic, partition=partition, offset=offset, reason=reason,
                             payload=text, received_at=datetime.now(timezone.utc)))


def undelivered_page(notification: Notification, reason: str, alerts_topic: str) -> bytes:
    """The dead letter for a page that ran out of attempts or whose endpoint is gone."""
    origin: Any = next(iter(notification.holds), None)
    payloads = [encode(order.ack or order.alert).decode() for order in notification.orders]
    letter = DeadLetter(
        topic=alerts_topic,
        partition=origin.partition.partition if origin is not None else None,
        offset=origin.offset if origin is not None else None,
        reason=f"page to receiver {notification.receiver!r} not delivered: {reason}",
        payload=payloads[0] if len(payloads) == 1 else "[" + ",".join(payloads) + "]",
        received_at=datetime.now(timezone.utc),
    )
    body = orjson.loads(encode(letter))
    body.update({
        "receiver": notification.receiver,
        "notification_id": notification.notification_id,
        "page_ids": notification.page_ids,
        "page_kinds": [order.kind for order in notification.orders],
        "attempts": notification.attempts,
    })
    return orjson.dumps(body)
