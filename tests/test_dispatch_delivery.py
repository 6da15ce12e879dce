"""The dispatcher against the real broker and real HTTP receivers on 127.0.0.1 that fail in
scripted ways. Each test says what arrived where, and how often."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import orjson
import pytest
from standardwebhooks import Webhook

from tests.support.kafka_io import produce, read_until
from tests.support.webhooks import (
    NEW_SECRET,
    SECRET,
    DispatcherThread,
    Reply,
    ScriptedReceiver,
    alert,
    always,
    dispatch_config,
    first_then,
    wait_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


@pytest.fixture
def receivers():
    made: list[ScriptedReceiver] = []

    def make(script=always(200)) -> ScriptedReceiver:
        made.append(ScriptedReceiver(script))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def dispatchers():
    started: list[DispatcherThread] = []

    def start(config) -> DispatcherThread:
        started.append(DispatcherThread(config))
        return started[-1]

    yield start
    for dispatcher in started:
        dispatcher.stop()


def webhook(name: str, url: str, *, secrets: str = f"[{SECRET}]", extra: str = "") -> str:
    return f"  {name}: {{type: webhook, url: '{url}', secrets: {secrets} {extra}}}"


def send(kafka, unique: str, *alerts: dict) -> None:
    produce(kafka.bootstrap, f"alerts-{unique}", [(a["patient_id"], a) for a in alerts])


def test_every_receiver_kind_gets_each_alert_once_signed_per_standard_webhooks(
    kafka, unique, tmp_path, receivers, dispatchers
):
    hook, duty, chat = receivers(), receivers(), receivers()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        "\n".join(
            [
                webhook("ward", hook.url, secrets=f"[{SECRET}, {NEW_SECRET}]"),
                f"  oncall: {{type: pagerduty, url: '{duty.url}', routing_key: R0UT1NG, secrets: [{SECRET}]}}",
                f"  chat: {{type: slack, url: '{chat.url}', secrets: [{SECRET}]}}",
            ]
        ),
        "default_route: {receivers: [ward, oncall, chat]}",
    )
    dispatchers(config)
    firing = [alert(f"MRN-{n}") for n in range(3)]
    resolved = alert("MRN-0", status="resolved", change=2)
    send(kafka, unique, *firing, resolved)

    for receiver in (hook, duty, chat):  # and then nothing more for 0.5 s
        receiver.wait_until(lambda r: len(r.accepted()) >= 4, what="4 pages", quiet_for=0.5)

    expected_ids = {a["alert_id"] for a in firing + [resolved]}
    for receiver in (hook, duty, chat):
        # Each receiver took each of the 4 state changes exactly once, webhook-id = alert_id.
        assert receiver.accepted_ids() == {alert_id: 1 for alert_id in expected_ids}
        for request in receiver.accepted():
            # The independent standardwebhooks package verifies every request.
            Webhook(SECRET).verify(request.body, request.headers)
    for request in hook.accepted():  # signed with both secrets in force: rotation without a gap
        Webhook(NEW_SECRET).verify(request.body, request.headers)
        assert request.headers["webhook-signature"].count("v1,") == 2
    # The generic webhook carries the contract's Alert, byte for byte the fields published.
    bodies = {r.id: r.json() for r in hook.accepted()}
    assert bodies[resolved["alert_id"]] == {**resolved}
    # PagerDuty: trigger for firing, resolve for resolved, dedup_key = episode_id, severity mapped.
    events = {r.id: r.json() for r in duty.accepted()}
    trigger = events[firing[1]["alert_id"]]
    assert (trigger["event_action"], trigger["dedup_key"], trigger["routing_key"]) == (
        "trigger",
        firing[1]["episode_id"],
        "R0UT1NG",
    )
    assert trigger["payload"]["severity"] == "error"  # high -> error
    assert events[resolved["alert_id"]] == {
        "routing_key": "R0UT1NG",
        "event_action": "resolve",
        "dedup_key": resolved["episode_id"],
    }
    # The trigger of MRN-0 reached PagerDuty before its resolve (same episode, in order).
    order = [r.id for r in duty.accepted()]
    assert order.index(firing[0]["alert_id"]) < order.index(resolved["alert_id"])
    assert all("text" in r.json() for r in chat.accepted())


def test_500s_are_retried_with_growing_backoff_until_delivered(kafka, unique, tmp_path, receivers, dispatchers):
    flaky = receivers(first_then([Reply(500), Reply(503), Reply(500)]))
    config = dispatch_config(
        kafka.bootstrap, unique, tmp_path, webhook("ward", flaky.url), "default_route: {receivers: [ward]}"
    )
    running = dispatchers(config)
    page = alert("MRN-1")
    send(kafka, unique, page)
    flaky.wait_until(lambda r: len(r.accepted()) == 1, what="delivery after three 5xx")

    arrivals = [r for r in flaky.snapshot() if r.id == page["alert_id"]]
    # Four requests arrived: 500, 503, 500, then 200; the page was taken once.
    assert [r.status for r in arrivals] == [500, 503, 500, 200]
    gaps = [b.at - a.at for a, b in zip(arrivals, arrivals[1:])]
    # Backoff 50 ms doubling with jitter in [step/2, step]: at least 25, 50, 100 ms apart.
    assert gaps[0] >= 0.025 and gaps[1] >= 0.05 and gaps[2] >= 0.1
    # Each attempt was signed afresh with the same webhook-id.
    assert len({r.headers["webhook-id"] for r in arrivals}) == 1
    assert running.metric("crsmon_dispatch_attempts_total", receiver="ward", result="5xx") == 3
    assert running.metric("crsmon_dispatch_notifications_total", receiver="ward", outcome="delivered") == 1


def test_a_timeout_is_retried_and_429_retry_after_is_honoured(kafka, unique, tmp_path, receivers, dispatchers):
    slow_then_ok = receivers(first_then([Reply(200, delay=2.0)]))  # first answer after the 1 s timeout
    busy = receivers(first_then([Reply(429, headers={"Retry-After": "2"})]))
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("slow", slow_then_ok.url) + "\n" + webhook("busy", busy.url),
        "default_route: {receivers: [slow, busy]}",
    )
    dispatchers(config)
    page = alert("MRN-2")
    send(kafka, unique, page)
    slow_then_ok.wait_until(lambda r: len(r.snapshot()) >= 2, what="a retry after the timeout")
    busy.wait_until(lambda r: len(r.accepted()) == 1, what="delivery after 429")

    slow = slow_then_ok.snapshot()
    # The slow receiver got the page twice (its first answer came too late); a receiver that
    # de-duplicates by webhook-id takes it once.
    assert [r.id for r in slow] == [page["alert_id"]] * 2
    busy_arrivals = busy.snapshot()
    assert [r.status for r in busy_arrivals] == [429, 200]
    # The retry came no sooner than the 2 s the receiver asked for, not after the 50 ms backoff.
    assert busy_arrivals[1].at - busy_arrivals[0].at >= 1.9


def test_410_disables_the_endpoint_loudly_and_its_pages_go_to_dead_letters(
    kafka, unique, tmp_path, receivers, dispatchers
):
    gone = receivers(always(410))
    healthy = receivers()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("gone", gone.url) + "\n" + webhook("healthy", healthy.url),
        "default_route: {receivers: [gone, healthy]}",
    )
    running = dispatchers(config)
    pages = [alert(f"MRN-{n}") for n in range(3)]
    send(kafka, unique, pages[0])
    gone.wait_until(lambda r: len(r.snapshot()) == 1, what="the 410")
    wait_for(
        lambda: running.metric("crsmon_dispatch_receiver_disabled", receiver="gone") == 1,
        what="the gone endpoint disabled",
    )
    send(kafka, unique, *pages[1:])
    healthy.wait_until(lambda r: len(r.accepted()) == 3, what="3 pages at the healthy receiver")
    letters = read_until(kafka.bootstrap, f"dead-letters-{unique}", lambda got: len(got) >= 3, timeout=30)

    # The gone endpoint was asked once; after its 410 nothing more was sent to it.
    assert len(gone.snapshot()) == 1
    # All three pages for it are dead letters, with the reason and the history of attempts.
    assert sorted(letter["notification_id"] for letter in letters) == sorted(p["alert_id"] for p in pages)
    assert all(letter["receiver"] == "gone" and "410 Gone" in letter["reason"] for letter in letters)
    first = next(letter for letter in letters if letter["notification_id"] == pages[0]["alert_id"])
    assert [attempt["status"] for attempt in first["attempts"]] == [410]
    assert orjson.loads(first["payload"])["alert_id"] == pages[0]["alert_id"]
    # The healthy receiver got every page once.
    assert healthy.accepted_ids() == {p["alert_id"]: 1 for p in pages}
    assert running.metric("crsmon_dispatch_receiver_disabled", receiver="gone") == 1
    assert running.metric("crsmon_dispatch_notifications_total", receiver="gone", outcome="dead_lettered") == 3


def test_after_the_configured_attempts_a_page_is_dead_lettered_with_its_history(
    kafka, unique, tmp_path, receivers, dispatchers
):
    broken = receivers(always(500))
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("broken", broken.url, extra=", delivery: {max_attempts: 3}"),
        "default_route: {receivers: [broken]}",
    )
    dispatchers(config)
    page = alert("MRN-3")
    send(kafka, unique, page)
    (letter,) = read_until(kafka.bootstrap, f"dead-letters-{unique}", lambda got: len(got) >= 1, timeout=30)
    broken.wait_until(lambda r: len(r.snapshot()) >= 3, what="3 attempts", quiet_for=0.5)

    # Exactly 3 requests arrived, all answered 500; then one dead letter with all 3 attempts.
    assert [r.status for r in broken.snapshot()] == [500, 500, 500]
    assert [attempt["status"] for attempt in letter["attempts"]] == [500, 500, 500]
    assert letter["reason"].endswith("gave up after 3 attempts; last: 500")
    assert letter["_key"] == "MRN-3" and letter["topic"] == f"alerts-{unique}"


def test_a_receiver_down_for_a_while_gets_every_page_later_and_never_delays_the_others(
    kafka, unique, tmp_path, receivers, dispatchers
):
    down = receivers()
    slow = receivers(always(200, delay=1.5))
    healthy = receivers()
    down.go_down()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        "\n".join(
            [
                webhook("down", down.url, extra=", delivery: {max_attempts: 30}"),
                webhook("slow", slow.url, extra=", delivery: {timeout: 5s, concurrency: 1}"),
                webhook("healthy", healthy.url),
            ]
        ),
        "default_route: {receivers: [down, slow, healthy]}",
    )
    running = dispatchers(config)
    pages = [alert(f"MRN-{n}") for n in range(10)]
    sent_at = time.time()
    send(kafka, unique, *pages)
    healthy.wait_until(lambda r: len(r.accepted()) == 10, timeout=10, what="10 pages at the healthy receiver")
    # The healthy receiver had all 10 pages within 3 s, while `down` refused connections and
    # `slow` took 1.5 s per page one at a time (it will need 15 s for all of them).
    assert max(r.at for r in healthy.accepted()) - sent_at < 3.0
    assert len(slow.accepted()) <= 3
    # Meanwhile its 10 pages wait for their next try (one may be mid-attempt), as the metric says.
    wait_for(
        lambda: 9 <= running.metric("crsmon_dispatch_retry_queue_depth", receiver="down") <= 10,
        what="the down receiver's pages waiting for their next try",
    )
    assert running.metric("crsmon_dispatch_retry_queue_depth", receiver="healthy") == 0
    down.come_up()
    down.wait_until(lambda r: len(r.accepted()) == 10, timeout=30, what="10 pages after coming back")
    # Once back, the receiver that was down got each of the 10 pages exactly once.
    assert down.accepted_ids() == {p["alert_id"]: 1 for p in pages}
    assert healthy.accepted_ids() == {p["alert_id"]: 1 for p in pages}
    assert running.metric("crsmon_dispatch_retry_queue_depth", receiver="down") == 0


def test_unacknowledged_escalates_and_an_ack_through_the_endpoint_stops_it(
    kafka, unique, tmp_path, receivers, dispatchers
):
    nurse, registrar, consultant = receivers(), receivers(), receivers()
    duty = receivers()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        "\n".join(
            [
                webhook("nurse", nurse.url),
                webhook("registrar", registrar.url),
                webhook("consultant", consultant.url),
                f"  duty: {{type: pagerduty, url: '{duty.url}', routing_key: K, secrets: [{SECRET}]}}",
            ]
        ),
        """routes:
  - name: crs
    match: {rule: [crs]}
    receivers: [nurse, duty]
    escalate:
      - {after: 1s, receivers: [registrar]}
      - {after: 3s, receivers: [consultant]}
    repeat_interval: 10m""",
    )
    running = dispatchers(config)
    page = alert("MRN-4")
    send(kafka, unique, page)
    registrar.wait_until(lambda r: len(r.accepted()) == 1, timeout=10, what="escalation to level 1")

    # Level 0 (nurse, PagerDuty) at once; nobody acknowledged within 1 s, so level 1 (registrar).
    assert nurse.accepted_ids() == {page["alert_id"]: 1}
    assert registrar.accepted()[0].headers["crsmon-page-kind"] == "escalation"
    assert registrar.accepted()[0].json()["alert_id"] == page["alert_id"]
    # The ack endpoint refuses a wrong token ...
    request = urllib.request.Request(
        f"{running.http}/acks",
        method="POST",
        data=orjson.dumps({"episode_id": page["episode_id"], "by": "rn-4411"}),
        headers={"Authorization": "Bearer wrong"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401
    # ... and takes the right one, publishing the contract's Acknowledgement to alert-acks.
    request.headers["Authorization"] = f"Bearer token-{unique}"
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 202
    (ack,) = read_until(kafka.bootstrap, f"alert-acks-{unique}", lambda got: len(got) >= 1, timeout=20)
    assert (ack["record"], ack["episode_id"], ack["patient_id"], ack["by"], ack["_key"]) == (
        "ack",
        page["episode_id"],
        "MRN-4",
        "rn-4411",
        "MRN-4",
    )
    duty.wait_until(lambda r: len(r.accepted()) == 2, timeout=10, what="PagerDuty acknowledge")
    assert duty.accepted()[1].json() == {
        "routing_key": "K",
        "event_action": "acknowledge",
        "dedup_key": page["episode_id"],
    }
    # Acknowledged: nothing is left to come by time alone (no escalation to level 2 is
    # scheduled), so the consultant is never paged; nurse and registrar heard of the
    # acknowledgement once each, and nothing else arrived.
    deadline = time.monotonic() + 10
    while running.metric("crsmon_dispatch_episodes_scheduled") != 0:
        assert time.monotonic() < deadline, "an escalation is still scheduled after the acknowledgement"
        time.sleep(0.05)
    assert consultant.snapshot() == []
    assert [r.json()["record"] for r in nurse.accepted()] == ["alert", "ack"]
    assert [r.json()["record"] for r in registrar.accepted()] == ["alert", "ack"]
    assert running.metric("crsmon_dispatch_escalations_total", route="crs", level="1") == 1


def test_repeat_interval_renotifies_until_acknowledged(kafka, unique, tmp_path, receivers, dispatchers):
    nurse = receivers()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("nurse", nurse.url),
        "default_route: {receivers: [nurse], repeat_interval: 700ms}",
    )
    dispatchers(config)
    page = alert("MRN-5")
    send(kafka, unique, page)
    nurse.wait_until(lambda r: len(r.accepted()) >= 3, timeout=10, what="two repeats")
    produce(
        kafka.bootstrap,
        f"alert-acks-{unique}",
        [
            (
                "MRN-5",
                {
                    "record": "ack",
                    "episode_id": page["episode_id"],
                    "patient_id": "MRN-5",
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1)),
                    "by": "rn-1",
                },
            )
        ],
    )
    nurse.wait_until(lambda r: any(x.json()["record"] == "ack" for x in r.accepted()), what="the ack page")
    count = len(nurse.accepted())
    # Quiet for two more repeat intervals: a repeat after the ack fails the count below.
    nurse.wait_until(lambda r: True, what="no repeat after the ack", quiet_for=1.6)
    # The page, then repeats with their own ids every 700 ms; after the ack, no more repeats.
    ids = [r.id for r in nurse.accepted()]
    assert ids[:3] == [page["alert_id"], f"{page['alert_id']}~repeat-1", f"{page['alert_id']}~repeat-2"]
    assert len(nurse.accepted()) == count
    assert [r.headers["crsmon-page-kind"] for r in nurse.accepted()[:3]] == ["new", "repeat", "repeat"]


def test_group_wait_batches_a_burst_into_one_chat_message(kafka, unique, tmp_path, receivers, dispatchers):
    chat, hook = receivers(), receivers()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        f"  chat: {{type: slack, url: '{chat.url}'}}\n" + webhook("ward", hook.url),
        "default_route: {receivers: [chat, ward], group_by: [ward], group_wait: 1s, repeat_interval: null}",
    )
    dispatchers(config)
    burst = [alert(f"MRN-{n}") for n in range(5)]
    sent_at = time.time()
    send(kafka, unique, *burst)
    hook.wait_until(lambda r: len(r.accepted()) == 5, timeout=10, what="5 webhook pages")
    chat.wait_until(lambda r: len(r.accepted()) >= 1, timeout=10, what="a chat message", quiet_for=0.5)

    # The chat channel got ONE message naming all five patients, after the 1 s group_wait ...
    (message,) = chat.accepted()
    assert all(f"MRN-{n}" in message.json()["text"] for n in range(5))
    assert message.at - sent_at >= 0.9
    # ... while the webhook (one request per alert) got its five at the same moment.
    times = [r.at for r in hook.accepted()]
    assert max(times) - min(times) < 0.8 and min(times) - sent_at >= 0.9


def test_inhibition_and_silences_quiet_pages_without_losing_them(kafka, unique, tmp_path, receivers, dispatchers):
    nurse = receivers()
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4))
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("nurse", nurse.url),
        "default_route: {receivers: [nurse], repeat_interval: null}",
        extra=f"""inhibit:
  - source: {{rule: [crs], severity: [critical]}}
    target: {{rule: [news2], severity: [medium]}}
    equal: [patient_id]
silences:
  - match: {{ward: 6-East}}
    ends_at: "{until}"
    comment: monitor maintenance""",
    )
    running = dispatchers(config)
    crs = alert("MRN-6", severity="critical")
    news2_same = alert("MRN-6", rule="news2", severity="medium")
    news2_other = alert("MRN-7", rule="news2", severity="medium")
    quiet_ward = alert("MRN-8", ward="6-East")
    send(kafka, unique, crs, news2_same, news2_other, quiet_ward)
    nurse.wait_until(lambda r: len(r.accepted()) >= 2, what="the two pages not quieted", quiet_for=0.5)
    wait_for(
        lambda: running.metric("crsmon_dispatch_notifications_total", receiver="nurse", outcome="silenced") == 1,
        what="the silenced page counted",
    )
    # The critical CRS page and the other patient's NEWS2 page arrived; MRN-6's medium NEWS2
    # page (inhibited) and 6-East's page (silenced) did not.
    assert nurse.accepted_ids() == {crs["alert_id"]: 1, news2_other["alert_id"]: 1}
    assert running.metric("crsmon_dispatch_notifications_total", receiver="nurse", outcome="inhibited") == 1
    assert running.metric("crsmon_dispatch_notifications_total", receiver="nurse", outcome="silenced") == 1
    # When the silence ends with the episode still firing, its page goes out then;
    # when the CRS episode resolves, the NEWS2 page it inhibited goes out.
    send(kafka, unique, alert("MRN-6", severity="critical", status="resolved", change=2))
    nurse.wait_until(lambda r: news2_same["alert_id"] in r.accepted_ids(), timeout=10, what="inhibition lifted")
    nurse.wait_until(lambda r: quiet_ward["alert_id"] in r.accepted_ids(), timeout=10, what="silence over")
    assert nurse.accepted_ids()[quiet_ward["alert_id"]] == 1
    assert (
        max(r.at for r in nurse.accepted() if r.id == quiet_ward["alert_id"])
        >= time.mktime(time.strptime(until, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone - 0.1
    )


def test_invalid_messages_go_to_dead_letters_with_a_reason(kafka, unique, tmp_path, receivers, dispatchers):
    nurse = receivers()
    config = dispatch_config(
        kafka.bootstrap, unique, tmp_path, webhook("nurse", nurse.url), "default_route: {receivers: [nurse]}"
    )
    running = dispatchers(config)
    produce(kafka.bootstrap, f"alerts-{unique}", [("MRN-9", b"{not json"), ("MRN-9", {"record": "alert"})])
    produce(kafka.bootstrap, f"alert-acks-{unique}", [("MRN-9", {"record": "ack", "episode_id": "x"})])
    send(kafka, unique, alert("MRN-9"))
    letters = read_until(kafka.bootstrap, f"dead-letters-{unique}", lambda got: len(got) >= 3, timeout=30)
    nurse.wait_until(lambda r: len(r.accepted()) == 1, what="the valid page")
    # Three dead letters, each naming its topic and what was wrong; the valid alert was paged.
    assert sorted(letter["topic"] for letter in letters) == sorted(
        [f"alerts-{unique}", f"alerts-{unique}", f"alert-acks-{unique}"]
    )
    assert any("not valid JSON" in letter["reason"] for letter in letters)
    assert any("alert_id is required" in letter["reason"] for letter in letters)
    assert running.metric("crsmon_dispatch_messages_rejected_total", topic=f"alerts-{unique}", reason="not_json") == 1


def committed_offsets(bootstrap: str, group: str) -> dict[int, int]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {
            tp.partition: meta.offset
            for tp, meta in admin.list_group_offsets(group)[group].items()
            if tp.topic.startswith("alerts-")
        }
    finally:
        admin.close()


def test_the_offset_is_committed_only_once_the_page_has_an_outcome(kafka, unique, tmp_path, receivers, dispatchers):
    down = receivers()
    down.go_down()
    config = dispatch_config(
        kafka.bootstrap,
        unique,
        tmp_path,
        webhook("down", down.url, extra=", delivery: {max_attempts: 50}"),
        "default_route: {receivers: [down]}",
    )
    running = dispatchers(config)
    page = alert("MRN-10")
    send(kafka, unique, page)
    deadline = time.monotonic() + 10
    while running.metric("crsmon_dispatch_attempts_total", receiver="down", result="connection_error") < 3:
        assert time.monotonic() < deadline, "no attempts against the receiver that is down"
        time.sleep(0.05)
    # The page is being retried: its message's offset is not committed (nothing past 0).
    assert sum(committed_offsets(kafka.bootstrap, f"dispatch-{unique}").values()) == 0
    down.come_up()
    down.wait_until(lambda r: len(r.accepted()) == 1, what="the page once the receiver is back")
    deadline = time.monotonic() + 10
    while sum(committed_offsets(kafka.bootstrap, f"dispatch-{unique}").values()) != 1:
        assert time.monotonic() < deadline, "the offset was not committed after delivery"
        time.sleep(0.1)
    # Delivered: the offset moved past the message, once.
    assert down.accepted_ids() == {page["alert_id"]: 1}
