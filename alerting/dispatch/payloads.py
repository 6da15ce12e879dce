"""What each kind of receiver is sent: the request body for a group of page orders.

The generic webhook gets the wire contract's own shapes (an Alert, or an Acknowledgement), so
a receiver written against the contract needs nothing else; PagerDuty gets Events API v2
events whose `dedup_key` is the episode, so PagerDuty folds an episode's changes into one
incident; a chat channel gets one readable message per group.
"""

from __future__ import annotations

import uuid

import orjson

from alerting.dispatch.config import PagerDutyReceiver, SlackReceiver, WebhookReceiver
from alerting.dispatch.episodes import PageOrder, alert_json
from monitor.wire import encode, format_timestamp

PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
_BATCH_NAMESPACE = uuid.UUID("a3c1f0d2-6e4b-4b8e-8f0e-2f9b7d5c1e44")
_JSON = {"content-type": "application/json"}


def notification_id(orders: list[PageOrder]) -> str:
    """`webhook-id`: the page id (the alert_id for a state change) for a single page; for a
    batch, an id derived from its page ids, so a batch rebuilt after a restart keeps it."""
    if len(orders) == 1:
        return orders[0].page_id
    joined = "|".join(sorted(order.page_id for order in orders))
    return f"batch~{uuid.uuid5(_BATCH_NAMESPACE, joined)}"


def webhook_body(orders: list[PageOrder]) -> tuple[bytes, dict[str, str]]:
    (order,) = orders
    body = encode(order.ack) if order.ack is not None else alert_json(order.alert)
    return body, {**_JSON, "crsmon-page-kind": order.kind, "crsmon-escalation-level": str(order.level)}


def pagerduty_event(receiver: PagerDutyReceiver, order: PageOrder) -> dict:
    alert = order.alert
    if order.ack is not None:
        action = "acknowledge"
    elif alert.status == "resolved":
        action = "resolve"
    else:
        action = "trigger"
    event: dict = {"routing_key": receiver.key(), "event_action": action, "dedup_key": alert.episode_id}
    if action == "trigger":
        where = " ".join(part for part in (alert.ward, f"bed {alert.bed}" if alert.bed else None) if part)
        summary = f"{alert.severity.upper()} {alert.rule}: {where or alert.patient_id} - {'; '.join(alert.reasons)}"
        event["payload"] = {
            "summary": summary[:1024],
            "source": alert.ward or "crsmon",
            "severity": PAGERDUTY_SEVERITY[alert.severity],
            "timestamp": format_timestamp(alert.observed_at),
            "component": alert.rule,
            "group": alert.ward or "",
            "class": alert.rule,
            "custom_details": {
                "episode_id": alert.episode_id,
                "alert_id": alert.alert_id,
                "patient_id": alert.patient_id,
                "bed": alert.bed,
                "status": alert.status,
                "crs_grade": alert.crs_grade,
                "news2_score": alert.news2_score,
                "reasons": alert.reasons,
                "page": order.kind,
                "escalation_level": order.level,
            },
        }
    return event


def pagerduty_body(receiver: PagerDutyReceiver, orders: list[PageOrder]) -> tuple[bytes, dict[str, str]]:
    (order,) = orders
    return orjson.dumps(pagerduty_event(receiver, order)), dict(_JSON)


def chat_line(order: PageOrder) -> str:
    alert = order.alert
    where = ", ".join(
        part for part in (alert.ward, f"bed {alert.bed}" if alert.bed else None, alert.patient_id) if part
    )
    if order.ack is not None:
        return f"✅ acknowledged by {order.ack.by}: {alert.rule} episode, {where}"
    headline = {"firing": "🚨 FIRING", "updated": "⚠️ UPDATED", "resolved": "✅ RESOLVED"}[alert.status]
    note = {
        "repeat": " (reminder: still unacknowledged)",
        "escalation": f" (escalated to level {order.level}: unacknowledged)",
    }.get(order.kind, "")
    return f"{headline} *{alert.severity}* {alert.rule} — {where}: {'; '.join(alert.reasons)}{note}"


def slack_body(orders: list[PageOrder]) -> tuple[bytes, dict[str, str]]:
    return orjson.dumps({"text": "\n".join(chat_line(order) for order in orders)}), dict(_JSON)


def render(
    receiver: WebhookReceiver | PagerDutyReceiver | SlackReceiver, orders: list[PageOrder]
) -> tuple[bytes, dict[str, str]]:
    """The body and content headers of one request to `receiver`."""
    if isinstance(receiver, PagerDutyReceiver):
        return pagerduty_body(receiver, orders)
    if isinstance(receiver, SlackReceiver):
        return slack_body(orders)
    return webhook_body(orders)


def batches(receiver: WebhookReceiver | PagerDutyReceiver | SlackReceiver) -> bool:
    """Whether one request can carry several alerts."""
    return isinstance(receiver, SlackReceiver)
