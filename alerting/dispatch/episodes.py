"""One episode on one route: what has been paged, to which escalation level, and what is due.

A `Track` is the dispatcher's memory of an episode; `evaluate` is the one place that decides,
from the track, its route, whether it is acknowledged or quiet and the time, which pages go
out now. Every page it orders has an id derived from the alert and the reason (`alert_id`,
`alert_id~repeat-2`), so deciding the same thing twice, e.g. after a crash, orders the same
pages and the ledger can tell that they were already sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

import orjson

from alerting.dispatch.config import Route
from monitor.wire import Acknowledgement, Alert, decode_as, encode

PageKind = Literal["new", "repeat", "escalation", "ack"]


@dataclass(frozen=True, slots=True)
class PageOrder:
    """A decision to page `receivers` about one alert (or its acknowledgement)."""

    route: str
    receivers: tuple[str, ...]
    kind: PageKind
    page_id: str
    alert: Alert
    level: int = 0
    ack: Acknowledgement | None = None
    origins: tuple[Any, ...] = field(default=(), compare=False)  # Kafka holds released by the outcome


def with_origins(order: PageOrder, origins: tuple[Any, ...]) -> PageOrder:
    """The order carrying Kafka holds (dataclasses.replace is ten times slower)."""
    return PageOrder(
        order.route, order.receivers, order.kind, order.page_id, order.alert, order.level, order.ack, origins
    )


@dataclass(slots=True)
class Track:
    episode_id: str
    route: str
    alert: Alert
    severity_since: datetime
    hold_until: float | None = None
    paged_alert_id: str | None = None
    ever_paged: bool = False
    level: int = 0
    level_since: float = 0.0
    last_page_at: float = 0.0
    repeats: int = 0
    closed: bool = False
    origins: list[Any] = field(default_factory=list)  # Kafka holds waiting for this alert's pages

    @property
    def key(self) -> tuple[str, str]:
        return (self.episode_id, self.route)

    def to_json(self) -> bytes:
        body = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("alert", "origins")}
        body["alert"] = alert_json(self.alert).decode()
        body["severity_since"] = self.severity_since.isoformat()
        return orjson.dumps(body)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Track":
        body = orjson.loads(raw)
        body["alert"] = decode_as(Alert, body["alert"])
        body["severity_since"] = datetime.fromisoformat(body["severity_since"])
        return cls(**body)


_ENCODED: dict[str, bytes] = {}


def alert_json(alert: Alert) -> bytes:
    """The wire form of an alert, encoded once for its body, its ledger row and its track
    (an alert_id names one state change, so the id is a sound key)."""
    encoded = _ENCODED.get(alert.alert_id)
    if encoded is None:
        if len(_ENCODED) >= 16384:
            del _ENCODED[next(iter(_ENCODED))]  # the oldest
        encoded = _ENCODED[alert.alert_id] = encode(alert)
    return encoded


def alert_time(alert: Alert) -> datetime:
    """When the processor decided this change: emitted_at, else the observation's time."""
    return alert.emitted_at or alert.observed_at


def apply_alert(track: Track | None, route: str, alert: Alert) -> Track | None:
    """The track after a new state change of its episode; None when there is nothing to track
    (a `resolved` for an episode never seen)."""
    if track is None:
        if alert.status == "resolved":
            return None
        return Track(alert.episode_id, route, alert, severity_since=alert_time(alert))
    if alert.severity != track.alert.severity:
        track.severity_since = alert_time(alert)
    track.alert = alert
    return track


def is_acknowledged(track: Track, ack: Acknowledgement | None) -> bool:
    """An acknowledgement holds until the episode changes severity (the contract)."""
    return ack is not None and ack.ts >= track.severity_since


def receivers_up_to(route: Route, level: int) -> tuple[str, ...]:
    """Everyone paged so far for an episode at `level`, each once, in level order."""
    return route.reached[level]


def evaluate(track: Track, route: Route, *, acknowledged: bool, quiet: bool, now: float) -> list[PageOrder]:
    """The pages due for this track at `now`, with the track updated as if they were sent."""
    alert = track.alert
    if track.hold_until is not None and now < track.hold_until:
        return []
    track.hold_until = None
    everyone = receivers_up_to(route, track.level)
    if alert.status == "resolved":
        track.closed = True
        if track.ever_paged and track.paged_alert_id != alert.alert_id:
            track.paged_alert_id = alert.alert_id
            return [PageOrder(track.route, everyone, "new", alert.alert_id, alert, track.level)]
        return []
    if quiet:
        return []
    if track.paged_alert_id != alert.alert_id:
        track.paged_alert_id = alert.alert_id
        track.ever_paged = True
        track.level_since = track.last_page_at = now
        track.repeats = 0
        return [PageOrder(track.route, everyone, "new", alert.alert_id, alert, track.level)]
    if acknowledged:
        return []
    levels = route.levels
    if track.level + 1 < len(levels) and now >= track.level_since + route.escalate[track.level].after:
        track.level += 1
        track.level_since = track.last_page_at = now
        fresh = tuple(name for name in levels[track.level] if name not in everyone)
        return [PageOrder(track.route, fresh, "escalation", alert.alert_id, alert, track.level)] if fresh else []
    if route.repeat_interval and now >= track.last_page_at + route.repeat_interval:
        track.repeats += 1
        track.last_page_at = now
        return [
            PageOrder(track.route, everyone, "repeat", f"{alert.alert_id}~repeat-{track.repeats}", alert, track.level)
        ]
    return []


def next_due(
    track: Track, route: Route, *, acknowledged: bool, quiet: bool, now: float, quiet_recheck: float
) -> float | None:
    """When `evaluate` may next have something to say about this track, if ever."""
    if track.closed:
        return None
    if track.hold_until is not None:
        return track.hold_until
    if track.alert.status == "resolved":
        return now
    if track.paged_alert_id != track.alert.alert_id:
        return now + quiet_recheck if quiet else now
    if acknowledged:
        return None
    if quiet:
        return now + quiet_recheck
    candidates = []
    if track.level + 1 < len(route.levels):
        candidates.append(track.level_since + route.escalate[track.level].after)
    if route.repeat_interval:
        candidates.append(track.last_page_at + route.repeat_interval)
    return min(candidates) if candidates else None


def ack_orders(track: Track, route: Route, ack: Acknowledgement, ack_id: str) -> list[PageOrder]:
    """Tell everyone who was paged about an episode that someone has it in hand."""
    if not track.ever_paged:
        return []
    return [
        PageOrder(
            track.route, receivers_up_to(route, track.level), "ack", f"ack~{ack_id}", track.alert, track.level, ack
        )
    ]
