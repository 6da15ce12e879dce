"""Which routes an alert takes: in order, the first match stops unless it says `continue`;
the default route takes what nothing else matched."""

from __future__ import annotations

from alerting.dispatch.config import DispatchConfig, Match, Route
from monitor.wire import Alert


def matches(match: Match, alert: Alert) -> bool:
    """True when every field the match names holds one of its values in the alert."""
    for field in ("ward", "severity", "rule", "patient_id"):
        allowed = getattr(match, field)
        if allowed is not None and getattr(alert, field) not in allowed:
            return False
    return True


def routes_for(config: DispatchConfig, alert: Alert) -> list[tuple[str, Route]]:
    """The named routes this alert is paged through, possibly none (no default route)."""
    taken: list[tuple[str, Route]] = []
    named = config.named_routes()
    ordinary = named[: len(config.routes)]
    for name, route in ordinary:
        if matches(route.match, alert):
            taken.append((name, route))
            if not route.continue_:
                return taken
    if not taken and config.default_route is not None:
        taken.append(named[-1])
    return taken
