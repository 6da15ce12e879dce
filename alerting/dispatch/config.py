"""What the dispatcher is told to do: receivers, routes, escalation, quiet and delivery settings.

The models forbid unknown keys, because a misspelt `repeat_interval` that is silently ignored
is a page that never repeats. Cross-references (a route naming a receiver that does not exist)
are checked by `reference_problems`, so that `config_file` can point at the line.
"""

from __future__ import annotations

import base64
import os
import re
import socket
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from monitor.wire import Timestamp
from monitor.wire.outputs import Severity

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float:
    """Seconds from `250ms`, `30s`, `5m`, `1h`, `2d` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (write e.g. 30s, 5m or 1h)")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.match(value)):
        seconds = float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (write e.g. 30s, 5m or 1h)")
    if seconds < 0:
        raise ValueError(f"{value!r} is negative; a duration is 0 or more")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def decode_secret(secret: str) -> bytes:
    """The key bytes of a Standard Webhooks secret (`whsec_` + base64)."""
    text = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ValueError(
            "a signing secret must be base64, optionally prefixed with whsec_ "
            "(make one with: python -c \"import os,base64;print('whsec_'+base64.b64encode(os.urandom(24)).decode())\")"
        ) from None
    if len(key) < 16:
        raise ValueError(f"a signing secret must decode to at least 16 bytes, this one has {len(key)}")
    return key


def _valid_secret(secret: str) -> str:
    decode_secret(secret)
    return secret


Secret = Annotated[str, AfterValidator(_valid_secret)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeliverySettings(_Strict):
    """How hard to try one receiver. Defaults suit a pager: a few minutes of retries, then a
    dead letter that a person can see, rather than an hour of silent retrying."""

    timeout: Duration = 5.0
    max_attempts: int = Field(8, ge=1, le=100)
    backoff_initial: Duration = 1.0
    backoff_max: Duration = 60.0
    retry_after_max: Duration = 300.0
    concurrency: int = Field(32, ge=1, le=1024)


class DeliveryOverrides(_Strict):
    timeout: Duration | None = None
    max_attempts: int | None = Field(None, ge=1, le=100)
    backoff_initial: Duration | None = None
    backoff_max: Duration | None = None
    retry_after_max: Duration | None = None
    concurrency: int | None = Field(None, ge=1, le=1024)


class _Receiver(_Strict):
    url: str = Field(pattern=r"^https?://\S+$")
    secrets: list[Secret] = Field(default_factory=list)
    secrets_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    delivery: DeliveryOverrides = Field(default_factory=DeliveryOverrides)

    def signing_keys(self) -> list[bytes]:
        """Every secret in force; all of them sign, so a receiver can rotate without a gap."""
        secrets = list(self.secrets)
        if self.secrets_env:
            secrets += os.environ.get(self.secrets_env, "").split()
        return [decode_secret(secret) for secret in secrets]


class WebhookReceiver(_Receiver):
    """A generic JSON webhook: the body is the contract's Alert (or Acknowledgement)."""

    type: Literal["webhook"]


class PagerDutyReceiver(_Receiver):
    """PagerDuty Events API v2: one event per alert, `dedup_key` = episode_id."""

    type: Literal["pagerduty"]
    url: str = Field("https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://\S+$")
    routing_key: str | None = None
    routing_key_env: str | None = None

    @model_validator(mode="after")
    def _has_routing_key(self) -> "PagerDutyReceiver":
        if not (self.routing_key or self.routing_key_env):
            raise ValueError("a pagerduty receiver needs routing_key or routing_key_env")
        return self

    def key(self) -> str:
        return self.routing_key or os.environ.get(self.routing_key_env or "", "")


class SlackReceiver(_Receiver):
    """A Slack-compatible incoming webhook (`{"text": ...}`); one message per group of alerts."""

    type: Literal["slack"]


Receiver = Annotated[Union[WebhookReceiver, PagerDutyReceiver, SlackReceiver], Field(discriminator="type")]

GroupField = Literal["ward", "rule", "severity", "patient_id", "episode_id"]


class Match(_Strict):
    """Each given field must match one of its values; an absent field matches anything."""

    ward: list[str] | None = None
    severity: list[Severity] | None = None
    rule: list[str] | None = None
    patient_id: list[str] | None = None


class Level(_Strict):
    """One step of an escalation policy: page `receivers` when the previous level has gone
    unacknowledged for `after`."""

    after: Duration
    receivers: list[str] = Field(min_length=1)


class Route(_Strict):
    name: str | None = None
    match: Match = Field(default_factory=Match)
    receivers: list[str] = Field(min_length=1)
    escalate: list[Level] = Field(default_factory=list)
    continue_: bool = Field(False, alias="continue")
    group_by: list[GroupField] = Field(default_factory=lambda: list[GroupField](["episode_id"]))
    group_wait: Duration = 0.0
    repeat_interval: Duration | None = 1800.0

    @cached_property
    def levels(self) -> list[list[str]]:
        """Receivers by escalation level; level 0 is the route's own `receivers`."""
        return [self.receivers] + [level.receivers for level in self.escalate]

    @cached_property
    def reached(self) -> list[tuple[str, ...]]:
        """By level: everyone paged once an episode has escalated that far, each once."""
        reached, seen = [], {}
        for receivers in self.levels:
            seen.update(dict.fromkeys(receivers))
            reached.append(tuple(seen))
        return reached


class SilenceMatch(_Strict):
    ward: str | None = None
    patient_id: str | None = None
    rule: str | None = None


class Silence(_Strict):
    """Quiet for a ward, a patient or a rule until `ends_at`; always with an end, so that a
    forgotten silence cannot hide a ward for ever."""

    match: SilenceMatch
    ends_at: Timestamp
    starts_at: Timestamp | None = None
    comment: str = ""
    created_by: str = ""

    @model_validator(mode="after")
    def _matches_something(self) -> "Silence":
        if not (self.match.ward or self.match.patient_id or self.match.rule):
            raise ValueError("a silence must name a ward, a patient_id or a rule")
        return self

    def active_at(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and now < self.ends_at


class Inhibition(_Strict):
    """While an episode matching `source` is open, alerts matching `target` with the same
    `equal` fields are not paged (e.g. a critical CRS episode quiets that patient's medium
    NEWS2 page: one problem, one page)."""

    source: Match
    target: Match
    equal: list[GroupField] = Field(default_factory=lambda: list[GroupField](["patient_id"]))


class Topics(_Strict):
    alerts: str = "alerts"
    alert_acks: str = "alert-acks"
    dead_letters: str = "dead-letters"


class KafkaSettings(_Strict):
    bootstrap: str = "127.0.0.1:9092"
    group_id: str = "crsmon-dispatch"
    start_from: Literal["earliest", "latest"] = "earliest"
    #: Kafka static membership: a restarted dispatcher takes its partitions back at once
    #: instead of waiting out the dead process's session. One id per running dispatcher.
    instance_id: str = Field(default_factory=lambda: f"dispatch-{socket.gethostname()}")
    session_timeout: Duration = 10.0
    topics: Topics = Field(default_factory=Topics)


class HttpSettings(_Strict):
    """The ack endpoint and /metrics. Without a token the ack endpoint is off: an
    unauthenticated endpoint that silences pages is worse than none."""

    host: str = "127.0.0.1"
    port: int = Field(9095, ge=0, le=65535)
    token: str | None = None
    token_env: str | None = None

    def ack_token(self) -> str | None:
        if self.token:
            return self.token
        return os.environ.get(self.token_env) if self.token_env else None


class Timings(_Strict):
    """How often the dispatcher looks at the clock and at its books. Shorter in tests."""

    tick: Duration = 0.25
    commit_interval: Duration = 0.2
    quiet_recheck: Duration = 5.0
    retention: Duration = 7 * 86400.0


class DispatchConfig(_Strict):
    receivers: dict[str, Receiver]
    routes: list[Route] = Field(default_factory=list)
    default_route: Route | None = None
    silences: list[Silence] = Field(default_factory=list)
    inhibit: list[Inhibition] = Field(default_factory=list)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    state_path: str = "var/dispatch/ledger.sqlite3"
    durability: Literal["normal", "full"] = "normal"
    timings: Timings = Field(default_factory=Timings)

    def named_routes(self) -> list[tuple[str, Route]]:
        """Routes in order with their stable names, the default route last."""
        named = [(route_name(route, index, False), route) for index, route in enumerate(self.routes)]
        if self.default_route is not None:
            named.append((route_name(self.default_route, 0, True), self.default_route))
        return named

    def delivery_for(self, receiver: str) -> DeliverySettings:
        overrides = self.receivers[receiver].delivery.model_dump(exclude_none=True)
        return self.delivery.model_copy(update=overrides)


def route_name(route: Route, index: int, is_default: bool) -> str:
    """A route's name for state and metrics: its own, else `default` or `route-N`."""
    if route.name:
        return route.name
    return "default" if is_default else f"route-{index + 1}"


def reference_problems(config: DispatchConfig) -> list[tuple[tuple[Any, ...], str]]:
    """Problems that no single field shows: unknown receivers, duplicate route names, and a
    configuration that routes nothing. Each with the path of the offending value."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    known = sorted(config.receivers)
    names: dict[str, int] = {}
    for index, route in enumerate(config.routes):
        path: tuple[Any, ...] = ("routes", index)
        name = route_name(route, index, False)
        if name in names:
            problems.append((path + ("name",), f"route name {name!r} is used twice"))
        names[name] = index
        problems += _unknown_receivers(route, path, known)
    if config.default_route is not None:
        problems += _unknown_receivers(config.default_route, ("default_route",), known)
        if config.default_route.match != Match():
            problems.append(
                (("default_route", "match"), "the default route takes what no route matched; it has no match")
            )
    if not config.routes and config.default_route is None:
        problems.append(((), "no routes and no default_route: nothing would ever be paged"))
    return problems


def _unknown_receivers(route: Route, path: tuple[Any, ...], known: list[str]):
    lists = [(path + ("receivers",), route.receivers)] + [
        (path + ("escalate", index, "receivers"), level.receivers) for index, level in enumerate(route.escalate)
    ]
    return [
        (where + (position,), f"receiver {name!r} is not defined under receivers (defined: {', '.join(known)})")
        for where, names in lists
        for position, name in enumerate(names)
        if name not in known
    ]
