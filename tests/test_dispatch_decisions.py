"""The dispatcher's decisions without a broker or a network: routing, quiet, escalation,
repeats, acknowledgements, batching, retry policy, payloads and signatures, in chosen time."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone

import orjson
import pytest
from standardwebhooks import Webhook

from alerting.dispatch.config import DeliverySettings, decode_secret
from alerting.dispatch.config_file import parse_config
from alerting.dispatch.grouping import combine
from alerting.dispatch.pager import Pager, ack_id_for
from alerting.dispatch.payloads import notification_id, render
from alerting.dispatch.retry_policy import backoff, judge, next_delay, retry_after_seconds
from alerting.dispatch.routing import routes_for
from alerting.dispatch.signing import signed_headers, verify
from monitor.wire import Acknowledgement, Alert
from tests.support.webhooks import NEW_SECRET, SECRET

T0 = 1_800_000_000.0


def make_alert(
    patient: str = "MRN-1",
    *,
    severity: str = "high",
    rule: str = "crs",
    status: str = "firing",
    ward: str = "5-West",
    change: int = 1,
    at: float = T0,
) -> Alert:
    stamp = datetime.fromtimestamp(at, timezone.utc)
    episode = f"{patient}:{rule}"
    return Alert(
        alert_id=f"{episode}#{change}",
        episode_id=episode,
        patient_id=patient,
        ward=ward,
        bed="1",
        status=status,
        severity=severity,
        rule=rule,
        reasons=["r"],
        observed_at=stamp,
        emitted_at=stamp,
    )


def ack(patient: str = "MRN-1", rule: str = "crs", at: float = T0) -> Acknowledgement:
    return Acknowledgement(
        episode_id=f"{patient}:{rule}", patient_id=patient, ts=datetime.fromtimestamp(at, timezone.utc), by="rn-1"
    )


class Held:
    """A stand-in Kafka hold that counts."""

    def __init__(self) -> None:
        self.count = 1

    def acquire(self) -> None:
        self.count += 1

    def release(self) -> None:
        self.count -= 1


def pager(routes: str, extra: str = "") -> Pager:
    return Pager(
        parse_config(f"""
receivers:
  a: {{type: webhook, url: "http://127.0.0.1:1/a"}}
  b: {{type: webhook, url: "http://127.0.0.1:1/b"}}
  c: {{type: slack, url: "http://127.0.0.1:1/c"}}
{routes}
timings: {{quiet_recheck: 5s}}
{extra}
""")
    )


def pages(orders) -> list[tuple[str, tuple[str, ...], str]]:
    return [(order.kind, order.receivers, order.page_id) for order in orders]


def test_routes_stop_at_the_first_match_unless_continue_and_fall_back_to_the_default():
    config = pager("""routes:
  - {name: crs, match: {rule: [crs]}, receivers: [a], continue: true}
  - {name: ward, match: {ward: [5-West]}, receivers: [b]}
  - {name: never, match: {ward: [5-West]}, receivers: [c]}
default_route: {receivers: [c]}""").config
    assert [name for name, _ in routes_for(config, make_alert())] == ["crs", "ward"]
    assert [name for name, _ in routes_for(config, make_alert(rule="news2"))] == ["ward"]
    assert [name for name, _ in routes_for(config, make_alert(rule="news2", ward="6-East"))] == ["default"]


def test_escalation_pages_each_level_after_its_timeout_then_repeats():
    p = pager("""default_route:
  receivers: [a]
  escalate: [{after: 5m, receivers: [b]}, {after: 10m, receivers: [c]}]
  repeat_interval: 1h""")
    first = make_alert()
    assert pages(p.on_alert(first, T0)) == [("new", ("a",), first.alert_id)]
    assert p.due(T0 + 299) == []
    assert pages(p.due(T0 + 300)) == [("escalation", ("b",), first.alert_id)]
    assert p.due(T0 + 300 + 599) == []
    assert pages(p.due(T0 + 900)) == [("escalation", ("c",), first.alert_id)]
    # Top of the policy: an hour after the last page everyone reached so far is reminded.
    assert pages(p.due(T0 + 900 + 3600)) == [("repeat", ("a", "b", "c"), f"{first.alert_id}~repeat-1")]
    assert p.escalated == [("default", 1), ("default", 2)]


def test_an_acknowledgement_stops_escalation_until_the_severity_changes():
    p = pager("""default_route:
  receivers: [a]
  escalate: [{after: 5m, receivers: [b]}]
  repeat_interval: 10m""")
    p.on_alert(make_alert(at=T0), T0)
    # The acknowledgement is passed on to everyone paged so far ...
    assert pages(p.on_ack(ack(at=T0 + 60), T0 + 60)) == [("ack", ("a",), f"ack~{ack_id_for(ack(at=T0 + 60))}")]
    # ... and nothing escalates or repeats while it holds.
    assert p.due(T0 + 3600) == []
    # A change of grade at the same severity does not undo the acknowledgement ...
    same = make_alert(at=T0 + 4000, change=2)
    assert pages(p.on_alert(same.model_copy(update={"status": "updated"}), T0 + 4000))[0][0] == "new"
    assert p.due(T0 + 9000) == []
    # ... a rise in severity does: it is paged and escalates again 5 minutes later.
    worse = make_alert(severity="critical", at=T0 + 9000, change=3).model_copy(update={"status": "updated"})
    assert pages(p.on_alert(worse, T0 + 9000)) == [("new", ("a",), worse.alert_id)]
    assert pages(p.due(T0 + 9300)) == [("escalation", ("b",), worse.alert_id)]


def test_a_duplicate_or_older_acknowledgement_changes_nothing():
    p = pager("default_route: {receivers: [a]}")
    p.on_alert(make_alert(), T0)
    assert len(p.on_ack(ack(at=T0 + 60), T0 + 60)) == 1
    assert p.on_ack(ack(at=T0 + 60), T0 + 61) == []
    assert p.on_ack(ack(at=T0 + 30), T0 + 62) == []


def test_silences_cover_ward_patient_or_rule_until_their_end_and_defer_the_page():
    ends = datetime.fromtimestamp(T0 + 600, timezone.utc).isoformat()
    p = pager(
        "default_route: {receivers: [a], repeat_interval: null}",
        f"""silences:
  - {{match: {{ward: 6-East}}, ends_at: "{ends}"}}
  - {{match: {{patient_id: MRN-2}}, ends_at: "{ends}"}}
  - {{match: {{rule: news2}}, ends_at: "{ends}"}}""",
    )
    assert p.on_alert(make_alert("MRN-1", ward="6-East"), T0) == []
    assert p.on_alert(make_alert("MRN-2"), T0) == []
    assert p.on_alert(make_alert("MRN-3", rule="news2"), T0) == []
    assert len(p.on_alert(make_alert("MRN-4"), T0)) == 1  # not silenced
    assert sorted(reason for _, _, reason in p.quieted) == ["silenced"] * 3
    # Still firing when the silences end: all three are paged then.
    assert p.due(T0 + 599) == []
    assert sorted(order.alert.patient_id for order in p.due(T0 + 605)) == ["MRN-1", "MRN-2", "MRN-3"]


def test_a_critical_crs_episode_inhibits_that_patients_medium_news2_page_only():
    p = pager(
        "default_route: {receivers: [a], repeat_interval: null}",
        """inhibit:
  - source: {rule: [crs], severity: [critical]}
    target: {rule: [news2], severity: [medium]}""",
    )
    p.on_alert(make_alert("MRN-1", severity="critical"), T0)
    assert p.on_alert(make_alert("MRN-1", rule="news2", severity="medium"), T0) == []
    assert len(p.on_alert(make_alert("MRN-2", rule="news2", severity="medium"), T0)) == 1
    assert p.quieted == [("default", ("a",), "inhibited")]
    # The CRS episode resolves: the NEWS2 page it held back goes out at the next look.
    p.on_alert(make_alert("MRN-1", severity="critical", status="resolved", change=2), T0 + 60)
    assert [order.alert.rule for order in p.due(T0 + 60)] == ["news2"]


def test_resolved_goes_to_everyone_paged_and_never_for_an_episode_never_paged():
    p = pager("default_route: {receivers: [a], escalate: [{after: 1m, receivers: [b]}]}")
    p.on_alert(make_alert(), T0)
    p.due(T0 + 60)
    resolved = make_alert(status="resolved", change=2)
    assert pages(p.on_alert(resolved, T0 + 70)) == [("new", ("a", "b"), resolved.alert_id)]
    assert p.tracks == {}
    assert p.on_alert(make_alert("MRN-9", status="resolved"), T0) == []


def test_group_wait_holds_a_burst_and_releases_it_together_as_one_chat_message():
    p = pager("default_route: {receivers: [a, c], group_by: [ward], group_wait: 30s}")
    holds = [Held() for _ in range(3)]
    for n, hold in enumerate(holds):
        assert p.on_alert(make_alert(f"MRN-{n}"), T0 + n, origin=hold) == []
    assert all(hold.count == 2 for hold in holds)  # waiting in the batch keeps the offset
    assert p.due(T0 + 29) == []
    orders = p.due(T0 + 30)
    assert len(orders) == 3
    grouped = combine(orders, p.routes, batching={"c"})
    # The webhook gets one request per alert, the chat channel one message for the three.
    assert sorted((receiver, len(group)) for receiver, group in grouped) == [("a", 1), ("a", 1), ("a", 1), ("c", 3)]
    assert all(set(order.origins) <= set(holds) for order in orders)
    chat = next(group for receiver, group in grouped if receiver == "c")
    assert notification_id(chat).startswith("batch~")
    assert notification_id(chat) == notification_id(list(reversed(chat)))  # same pages, same id


def test_a_quiet_alert_releases_its_offset_at_once():
    ends = datetime.fromtimestamp(T0 + 600, timezone.utc).isoformat()
    p = pager("default_route: {receivers: [a]}", f'silences: [{{match: {{ward: 5-West}}, ends_at: "{ends}"}}]')
    hold = Held()
    p.on_alert(make_alert(), T0, origin=hold)
    assert hold.count == 1  # only the consumer's own reference is left


def test_tracks_survive_a_restart_through_their_json():
    p = pager("default_route: {receivers: [a], escalate: [{after: 5m, receivers: [b]}]}")
    p.on_alert(make_alert(), T0)
    saved, _, _ = p.take_changes()
    restarted = pager("default_route: {receivers: [a], escalate: [{after: 5m, receivers: [b]}]}")
    restarted.load([type(saved[0]).from_json(saved[0].to_json())], [], T0 + 10)
    assert restarted.due(T0 + 10) == []  # level 0 was paged before the restart
    assert pages(restarted.due(T0 + 300)) == [("escalation", ("b",), make_alert().alert_id)]


def test_retry_policy_verdicts_backoff_and_retry_after():
    assert [judge(s) for s in (200, 204, 410, 400, 404, 408, 429, 500, 503, None)] == [
        "delivered",
        "delivered",
        "gone",
        "rejected",
        "rejected",
        "retry",
        "retry",
        "retry",
        "retry",
        "retry",
    ]
    settings = DeliverySettings(backoff_initial=1, backoff_max=8)
    rng = random.Random(7)
    for attempts, step in ((1, 1), (2, 2), (3, 4), (4, 8), (9, 8)):
        delays = [backoff(attempts, settings, rng) for _ in range(200)]
        assert step / 2 <= min(delays) and max(delays) <= step  # jitter within [step/2, step]
        assert max(delays) - min(delays) > step / 4  # and really spread
    assert retry_after_seconds("120", T0) == 120
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(T0 + 30))
    assert retry_after_seconds(http_date, T0) == pytest.approx(30)
    assert retry_after_seconds("soon", T0) is None
    assert next_delay(1, settings, 45.0) == 45.0
    assert next_delay(1, DeliverySettings(retry_after_max=10), 3600.0) == 10.0  # capped


def test_signatures_verify_with_the_standardwebhooks_package_for_each_secret_in_force():
    body = b'{"record":"alert"}'
    headers = signed_headers([decode_secret(SECRET), decode_secret(NEW_SECRET)], "alert-1", body)
    assert Webhook(SECRET).verify(body, headers) == {"record": "alert"}
    assert Webhook(NEW_SECRET).verify(body, headers) == {"record": "alert"}
    assert verify([decode_secret(NEW_SECRET)], headers, body) is None
    assert verify([decode_secret(SECRET)], headers, body + b" ") == "no signature matches any of the secrets"
    stale = signed_headers([decode_secret(SECRET)], "alert-1", body, now=time.time() - 600)
    assert "more than 300 s" in verify([decode_secret(SECRET)], stale, body)


def test_pagerduty_events_follow_the_episode():
    config = parse_config("""receivers:
  pd: {type: pagerduty, url: "http://127.0.0.1:1/", routing_key: KEY}
default_route: {receivers: [pd]}""")
    p = Pager(config)
    (trigger,) = p.on_alert(make_alert(severity="critical"), T0)
    (acknowledge,) = p.on_ack(ack(at=T0 + 5), T0 + 5)
    (resolve,) = p.on_alert(make_alert(status="resolved", change=2), T0 + 9)
    events = [orjson.loads(render(config.receivers["pd"], [order])[0]) for order in (trigger, acknowledge, resolve)]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {"MRN-1:crs"}
    assert events[0]["payload"]["severity"] == "critical"
    assert events[0]["payload"]["timestamp"] == datetime.fromtimestamp(T0, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
