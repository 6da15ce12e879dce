"""Silences and inhibition: reasons not to page now.

Quiet defers a page rather than dropping it: an episode still firing and unacknowledged when its
silence ends, or when the episode that inhibited it resolves, is paged then. A page that a
person needed and never got is the failure this project exists to prevent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from alerting.dispatch.config import Inhibition, Silence
from alerting.dispatch.routing import matches
from monitor.wire import Alert


def silenced_by(silences: Iterable[Silence], alert: Alert, now: datetime) -> Silence | None:
    """The first silence in force that covers this alert's ward, patient or rule."""
    for silence in silences:
        if not silence.active_at(now):
            continue
        wanted = silence.match
        if wanted.ward is not None and wanted.ward != alert.ward:
            continue
        if wanted.patient_id is not None and wanted.patient_id != alert.patient_id:
            continue
        if wanted.rule is not None and wanted.rule != alert.rule:
            continue
        return silence
    return None


def inhibited_by(rules: Iterable[Inhibition], alert: Alert, open_alerts: Iterable[Alert]) -> Alert | None:
    """An open alert of another episode that makes this one redundant, if any."""
    candidates = [other for other in open_alerts if other.episode_id != alert.episode_id and other.status != "resolved"]
    for rule in rules:
        if not matches(rule.target, alert):
            continue
        for other in candidates:
            if matches(rule.source, other) and all(
                getattr(other, field) == getattr(alert, field) for field in rule.equal
            ):
                return other
    return None
