"""Dead letters of the dispatcher's pages that could not be delivered: the contract's DeadLetter
(monitor/wire/dead_letters.py, which also builds those of bad input messages) plus who the page
was for and its attempt history (extra fields, which the contract lets every consumer ignore)."""

from __future__ import annotations

from typing import Any

from alerting.dispatch.delivery import Notification
from monitor.wire import dead_letter, encode


def undelivered_page(notification: Notification, reason: str, alerts_topic: str) -> bytes:
    """The dead letter for a page that ran out of attempts or whose endpoint is gone."""
    origin: Any = next(iter(notification.holds), None)
    payloads = [encode(order.ack or order.alert).decode() for order in notification.orders]
    return dead_letter(
        alerts_topic,
        origin.partition.partition if origin is not None else None,
        origin.offset if origin is not None else None,
        f"page to receiver {notification.receiver!r} not delivered: {reason}",
        payloads[0] if len(payloads) == 1 else "[" + ",".join(payloads) + "]",
        extra={
            "receiver": notification.receiver,
            "notification_id": notification.notification_id,
            "page_ids": notification.page_ids,
            "page_kinds": [order.kind for order in notification.orders],
            "attempts": notification.attempts,
        },
    )
