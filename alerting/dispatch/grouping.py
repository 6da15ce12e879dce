"""group_wait: a burst of alerts that belong together waits a moment and is paged together.

The first alert of a group opens a batch that closes `group_wait` later; alerts of the same
group arriving meanwhile join it, and every alert of the batch is evaluated at the same
moment. A receiver that can show several alerts in one message (chat) then gets one message;
a receiver whose API is one event per alert (webhook, PagerDuty) gets its requests together.
"""

from __future__ import annotations

from alerting.dispatch.config import Route
from alerting.dispatch.episodes import PageOrder
from monitor.wire import Alert


def group_values(route: Route, alert: Alert) -> tuple[str | None, ...]:
    return tuple(getattr(alert, field) for field in route.group_by)


class Batches:
    """Open batches by route and group; each closes at a fixed time."""

    def __init__(self) -> None:
        self._closing: dict[tuple, float] = {}

    def hold_until(self, route_name: str, route: Route, alert: Alert, now: float) -> float | None:
        """When this alert may be paged: None for at once, else when its batch closes."""
        if route.group_wait <= 0:
            return None
        key = (route_name, group_values(route, alert))
        closes = self._closing.get(key)
        if closes is None or closes <= now:
            if len(self._closing) > 10_000:
                self._closing = {k: v for k, v in self._closing.items() if v > now}
            closes = self._closing[key] = now + route.group_wait
        return closes


def combine(orders: list[PageOrder], routes: dict[str, Route], batching: set[str]) -> list[tuple[str, list[PageOrder]]]:
    """Per receiver, the orders that go out as one request: one each, except that orders of the
    same route, group and kind are merged for receivers that show several alerts at once."""
    merged: dict[tuple, list[PageOrder]] = {}
    single: list[tuple[str, list[PageOrder]]] = []
    for order in orders:
        for receiver in order.receivers:
            if receiver in batching:
                key = (receiver, order.route, order.kind, group_values(routes[order.route], order.alert))
                merged.setdefault(key, []).append(order)
            else:
                single.append((receiver, [order]))
    return single + [(key[0], group) for key, group in merged.items()]
