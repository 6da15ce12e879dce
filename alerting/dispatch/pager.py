"""Who is paged when: every open episode's track, its acknowledgement and its next due time.

No I/O and no clock of its own: the service feeds it alerts, acknowledgements and the time,
delivers the orders it returns, and persists the tracks that `take_changes` reports, so that
a restarted dispatcher carries on where the last one stopped.
"""

from __future__ import annotations

import heapq
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

from alerting.dispatch.config import DispatchConfig, Route
from alerting.dispatch.episodes import (
    PageOrder,
    Track,
    ack_orders,
    apply_alert,
    evaluate,
    is_acknowledged,
    next_due,
    receivers_up_to,
    with_origins,
)
from alerting.dispatch.grouping import Batches
from alerting.dispatch.quiet import inhibited_by, silenced_by
from alerting.dispatch.routing import routes_for
from monitor.wire import Acknowledgement, Alert

Key = tuple[str, str]
_ACK_NAMESPACE = uuid.UUID("0f5d3f8a-2b51-4c3e-9a57-5a8d1c0e7b21")


def ack_id_for(ack: Acknowledgement) -> str:
    """The same acknowledgement read twice has the same id."""
    return str(uuid.uuid5(_ACK_NAMESPACE, f"{ack.episode_id}|{ack.ts.isoformat()}|{ack.by}"))


class Pager:
    def __init__(self, config: DispatchConfig) -> None:
        self.config = config
        self.routes: dict[str, Route] = dict(config.named_routes())
        self.tracks: dict[Key, Track] = {}
        self.acks: dict[str, Acknowledgement] = {}
        self._by_patient: dict[str, set[Key]] = {}
        self._by_episode: dict[str, set[Key]] = {}
        self._due: list[tuple[float, Key]] = []
        self._due_at: dict[Key, float] = {}
        self._batches = Batches()
        self._changed: set[Key] = set()
        self._closed: set[Key] = set()
        self._changed_acks: set[str] = set()
        self._quiet_noted: dict[Key, str] = {}
        self.quieted: list[tuple[str, tuple[str, ...], str]] = []  # (route, receivers, reason)
        self.escalated: list[tuple[str, int]] = []

    # -- state ---------------------------------------------------------------------------
    def load(self, tracks: Iterable[Track], acks: Iterable[Acknowledgement], now: float) -> None:
        """Adopt persisted state; tracks of routes no longer configured are dropped."""
        for ack in acks:
            self.acks[ack.episode_id] = ack
        for track in tracks:
            if track.route in self.routes:
                self._add(track)
                self._schedule(track, now)

    def take_changes(self) -> tuple[list[Track], list[Key], list[Acknowledgement]]:
        """Tracks to save, tracks to delete and acknowledgements to save since the last call."""
        saved = [self.tracks[key] for key in self._changed if key in self.tracks]
        closed, acks = list(self._closed), [self.acks[e] for e in self._changed_acks]
        self._changed, self._closed, self._changed_acks = set(), set(), set()
        return saved, closed, acks

    def episode_patient(self, episode_id: str) -> str | None:
        for key in self._by_episode.get(episode_id, ()):
            return self.tracks[key].alert.patient_id
        return None

    def _add(self, track: Track) -> None:
        self.tracks[track.key] = track
        self._by_patient.setdefault(track.alert.patient_id, set()).add(track.key)
        self._by_episode.setdefault(track.episode_id, set()).add(track.key)

    def _remove(self, track: Track) -> None:
        self.tracks.pop(track.key, None)
        self._due_at.pop(track.key, None)
        for index, value in ((self._by_patient, track.alert.patient_id), (self._by_episode, track.episode_id)):
            keys = index.get(value)
            if keys is not None:
                keys.discard(track.key)
                if not keys:
                    del index[value]
        self._closed.add(track.key)
        self._changed.discard(track.key)

    # -- events --------------------------------------------------------------------------
    def on_alert(self, alert: Alert, now: float, origin: Any = None) -> list[PageOrder]:
        """Apply one state change; the pages due at once (the rest come from `due`).

        `origin` (anything with acquire/release) is held until the pages of this alert exist,
        or released when none will: it is how the Kafka offset waits for its pages."""
        routes = routes_for(self.config, alert)
        if not routes:
            return []
        orders: list[PageOrder] = []
        for name, route in routes:
            track = apply_alert(self.tracks.get((alert.episode_id, name)), name, alert)
            if track is None:
                continue
            if track.key not in self.tracks:
                self._add(track)
            track.hold_until = self._batches.hold_until(name, route, alert, now)
            if origin is not None:
                origin.acquire()
                track.origins.append(origin)
            self._changed.add(track.key)
            orders += self._evaluate(track, now)
        if self.config.inhibit:  # an inhibiting episode may have opened or closed: look again
            for key in list(self._by_patient.get(alert.patient_id, ())):
                if key[0] != alert.episode_id:
                    self._schedule(self.tracks[key], now, at=now)
        return orders

    def on_ack(self, ack: Acknowledgement, now: float) -> list[PageOrder]:
        """Record an acknowledgement; tell everyone paged about the episode."""
        known = self.acks.get(ack.episode_id)
        if known is not None and known.ts >= ack.ts:
            return []
        self.acks[ack.episode_id] = ack
        self._changed_acks.add(ack.episode_id)
        orders: list[PageOrder] = []
        for track in self._tracks_of(ack.episode_id):
            orders += ack_orders(track, self.routes[track.route], ack, ack_id_for(ack))
            self._schedule(track, now)
        return orders

    def due(self, now: float) -> list[PageOrder]:
        """Every page whose time has come: batches closing, escalations, repeats, quiet ending."""
        orders: list[PageOrder] = []
        while self._due and self._due[0][0] <= now:
            at, key = heapq.heappop(self._due)
            if self._due_at.get(key) != at:
                continue  # rescheduled since
            del self._due_at[key]
            orders += self._evaluate(self.tracks[key], now)
        return orders

    @property
    def scheduled(self) -> int:
        """Open tracks with a page still to come by time alone (escalation, repeat, recheck)."""
        return len(self._due_at)

    # -- deciding ------------------------------------------------------------------------
    def _tracks_of(self, episode_id: str) -> list[Track]:
        return [self.tracks[key] for key in self._by_episode.get(episode_id, ())]

    def _quiet_reason(self, track: Track, now: float) -> str | None:
        alert = track.alert
        if self.config.silences and silenced_by(self.config.silences, alert, datetime.fromtimestamp(now, timezone.utc)):
            return "silenced"
        if self.config.inhibit:
            others = [self.tracks[key].alert for key in self._by_patient.get(alert.patient_id, ())]
            if inhibited_by(self.config.inhibit, alert, others):
                return "inhibited"
        return None

    def _evaluate(self, track: Track, now: float) -> list[PageOrder]:
        route = self.routes[track.route]
        acknowledged = is_acknowledged(track, self.acks.get(track.episode_id))
        quiet = self._quiet_reason(track, now)
        before = (track.paged_alert_id, track.level, track.repeats, track.closed, track.hold_until)
        orders = evaluate(track, route, acknowledged=acknowledged, quiet=quiet is not None, now=now)
        if quiet and track.hold_until is None and track.paged_alert_id != track.alert.alert_id:
            if self._quiet_noted.get(track.key) != track.alert.alert_id:
                self._quiet_noted[track.key] = track.alert.alert_id
                self.quieted.append((track.route, receivers_up_to(route, track.level), quiet))
        if (track.paged_alert_id, track.level, track.repeats, track.closed, track.hold_until) != before:
            self._changed.add(track.key)
        if orders and track.origins:
            orders = [with_origins(order, tuple(track.origins)) for order in orders]
            track.origins.clear()
        elif track.hold_until is None and track.origins:
            for origin in track.origins:
                origin.release()
            track.origins.clear()
        for order in orders:
            if order.kind == "escalation":
                self.escalated.append((order.route, order.level))
        if track.closed:
            self._quiet_noted.pop(track.key, None)
            self._remove(track)
        else:
            self._schedule(track, now)
        return orders

    def _schedule(self, track: Track, now: float, at: float | None = None) -> None:
        if at is None:
            at = next_due(
                track,
                self.routes[track.route],
                acknowledged=is_acknowledged(track, self.acks.get(track.episode_id)),
                quiet=self._quiet_reason(track, now) is not None,
                now=now,
                quiet_recheck=self.config.timings.quiet_recheck,
            )
        if at is None:
            self._due_at.pop(track.key, None)
            return
        if self._due_at.get(track.key) == at:
            return
        self._due_at[track.key] = at
        heapq.heappush(self._due, (at, track.key))
