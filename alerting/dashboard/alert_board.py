"""The open deterioration episodes of the ward, and who has acknowledged which.

Alerts and acknowledgements arrive on two topics, so after a restart the dashboard may read an
acknowledgement before the alert it is about, or after the alert has changed. Whether an
episode counts as acknowledged is therefore decided by time, not by arrival order: an
acknowledgement holds while it is newer than the episode's last change of severity, which is
what the contract says it means ("until it changes severity").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.wire import Acknowledgement, Alert, format_timestamp


@dataclass(slots=True)
class OpenEpisode:
    """The latest state change of an episode, when its severity last changed and when it opened."""

    alert: Alert
    severity_since: datetime
    opened_at: datetime


def _changed_at(alert: Alert) -> datetime:
    """When the processor published the change (the same clock as a person's ack), or, for an
    alert that was never stamped, when its observation was made."""
    return alert.emitted_at or alert.observed_at


class AlertBoard:
    """Open episodes by `episode_id`: resolved ones leave, acknowledged ones say by whom."""

    def __init__(self) -> None:
        self.open: dict[str, OpenEpisode] = {}
        self._acks: dict[str, Acknowledgement] = {}

    def apply_alert(self, alert: Alert) -> None:
        if alert.status == "resolved":
            self.open.pop(alert.episode_id, None)
            self._acks.pop(alert.episode_id, None)
            return
        changed_at = _changed_at(alert)
        known = self.open.get(alert.episode_id)
        if known is None:
            self.open[alert.episode_id] = OpenEpisode(alert, changed_at, changed_at)
            return
        if known.alert.severity != alert.severity:
            known.severity_since = changed_at
        known.alert = alert

    def apply_ack(self, ack: Acknowledgement) -> None:
        """Keep the newest acknowledgement of each episode, even of one not seen yet."""
        known = self._acks.get(ack.episode_id)
        if known is None or ack.ts >= known.ts:
            self._acks[ack.episode_id] = ack

    def acknowledgement(self, episode_id: str) -> Acknowledgement | None:
        """The acknowledgement in force for an open episode, if any."""
        episode = self.open.get(episode_id)
        ack = self._acks.get(episode_id)
        if episode is None or ack is None or ack.ts < episode.severity_since:
            return None
        return ack

    def forget_acks_before(self, cutoff: datetime) -> None:
        """Drop acknowledgements of episodes that are not open and older than `cutoff`, so a
        long `alert-acks` topic read from its beginning cannot grow the dashboard's memory."""
        for episode_id in [
            episode_id for episode_id, ack in self._acks.items() if episode_id not in self.open and ack.ts < cutoff
        ]:
            del self._acks[episode_id]

    def describe(self, episode_id: str) -> dict[str, Any]:
        """An open episode as the page shows it: the alert plus its acknowledgement."""
        episode = self.open[episode_id]
        ack = self.acknowledgement(episode_id)
        view = episode.alert.model_dump(mode="json")
        view["opened_at"] = format_timestamp(episode.opened_at)
        view["acknowledged"] = None if ack is None else {"by": ack.by, "ts": format_timestamp(ack.ts)}
        return view
