"""`crsmon dispatch` killed with SIGKILL in the middle of a backlog and started again: every page
arrives as often as without the restart (de-duplicated by alert_id per receiver), and an
unacknowledged episode still escalates."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.kafka_io import produce
from tests.support.processes import Service
from tests.support.webhooks import SECRET, Reply, ScriptedReceiver, alert

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

BACKLOG = 300


QUICK_DELIVERY = "{timeout: 2s, max_attempts: 20, backoff_initial: 50ms, backoff_max: 300ms, concurrency: 4}"
QUICK_TIMINGS = "{tick: 50ms, commit_interval: 50ms}"


def write_config(
    path: Path,
    kafka: str,
    unique: str,
    receivers: str,
    routes: str,
    delivery: str = QUICK_DELIVERY,
    timings: str = QUICK_TIMINGS,
) -> Path:
    path.write_text(f"""
receivers:
{receivers}
{routes}
delivery: {delivery}
kafka:
  bootstrap: "{kafka}"
  group_id: dispatch-{unique}
  topics: {{alerts: alerts-{unique}, alert_acks: alert-acks-{unique}, dead_letters: dead-letters-{unique}}}
http: {{port: 0}}
state_path: {path.parent}/ledger-{unique}.sqlite3
timings: {timings}
""")
    return path


def every_seventh_fails_once(number: int, request) -> Reply:
    """A receiver that answers 500 to the first try of one page in seven, so that retries are
    waiting when the dispatcher is killed; and takes 20 ms per page, so a backlog builds."""
    flaky = int(request.id.rsplit("-", 1)[-1].split("#")[0]) % 7 == 0
    return Reply(500 if flaky and number == 0 else 200, delay=0.02)


def run_backlog(kafka, unique: str, tmp_path: Path, kill_after: int | None) -> tuple[Counter, Counter, int]:
    """Publish BACKLOG alerts to a dispatcher with a slow/flaky and a fast receiver; SIGKILL it
    once the slow one took `kill_after` pages and start it again. Returns what each receiver
    accepted (webhook-id -> count) and the number of kills."""
    slow, fast = ScriptedReceiver(every_seventh_fails_once), ScriptedReceiver()
    config = write_config(
        tmp_path / f"dispatch-{unique}.yaml",
        kafka.bootstrap,
        unique,
        f"  slow: {{type: webhook, url: '{slow.url}', secrets: [{SECRET}]}}\n"
        f"  fast: {{type: pagerduty, url: '{fast.url}', routing_key: K, secrets: [{SECRET}]}}",
        "default_route: {receivers: [slow, fast], repeat_interval: null}",
    )
    log = tmp_path / f"dispatch-{unique}.log"
    pages = [alert(f"MRN-{n}", episode=f"ep-{n}") for n in range(BACKLOG)]
    expected = {page["alert_id"] for page in pages}
    kills = 0
    dispatcher = Service(["dispatch", "--config", str(config)], dict(os.environ), log)
    try:
        dispatcher.wait_for_output("dispatching", timeout=60)
        produce(kafka.bootstrap, f"alerts-{unique}", [(p["patient_id"], p) for p in pages])
        if kill_after is not None:
            slow.wait_until(lambda r: len(r.accepted()) >= kill_after, timeout=60, what="part of the backlog")
            dispatcher.stop(signal.SIGKILL)
            kills += 1
            assert len(slow.accepted_ids()) < BACKLOG, "the backlog was done before the kill"
            dispatcher = Service(["dispatch", "--config", str(config)], dict(os.environ), log)
        for receiver in (slow, fast):  # and then nothing more for 0.5 s
            receiver.wait_until(
                lambda r: set(r.accepted_ids()) >= expected,
                timeout=90,
                what="every page at every receiver",
                quiet_for=0.5,
            )
        return slow.accepted_ids(), fast.accepted_ids(), kills
    finally:
        dispatcher.stop()
        slow.close()
        fast.close()


def test_without_a_restart_each_receiver_takes_each_page_exactly_once(kafka, unique, tmp_path):
    slow, fast, _ = run_backlog(kafka, unique, tmp_path, kill_after=None)
    # 300 alerts: both receivers took each alert_id exactly once.
    assert len(slow) == len(fast) == BACKLOG
    assert set(slow.values()) == set(fast.values()) == {1}


def test_sigkill_mid_backlog_then_restart_delivers_every_page_as_often_as_without_it(kafka, unique, tmp_path):
    slow, fast, kills = run_backlog(kafka, unique, tmp_path, kill_after=BACKLOG // 3)
    assert kills == 1
    # De-duplicated by alert_id per receiver, each receiver took every one of the 300 pages,
    # as in the run without a restart ...
    assert len(slow) == len(fast) == BACKLOG
    # ... and the only pages taken twice are those in flight when the process died: the 4
    # requests under way per receiver plus outcomes not yet committed (50 ms commit interval;
    # 6-8 seen on a quiet machine). Without the ledger all ~100 pages sent before the kill
    # would come again.
    twice = {
        receiver: [page for page, count in accepted.items() if count > 1]
        for receiver, accepted in (("slow", slow), ("fast", fast))
    }
    print(f"pages taken twice after the SIGKILL: slow {len(twice['slow'])}, fast {len(twice['fast'])}")
    assert max(slow.values()) <= 2 and max(fast.values()) <= 2
    assert len(twice["slow"]) <= 30 and len(twice["fast"]) <= 30, twice


STREAM = 4000


def test_sigkill_mid_stream_at_full_speed_resends_at_most_the_documented_bound(kafka, unique, tmp_path):
    """Issue 19: killed with 4,040 notifications pending, the dispatcher re-sent 911 where
    docs/dispatch.md promised the 32 in flight. The defaults (concurrency 32, commit_interval
    200 ms) and a receiver that answers at once, so the pages go as fast as this machine sends
    them; the bound is the one docs/dispatch.md states: the requests in flight (concurrency per
    receiver) plus fewer than `concurrency` outcomes not yet written to the ledger."""
    concurrency = 32
    receiver = ScriptedReceiver()
    config = write_config(
        tmp_path / "dispatch.yaml",
        kafka.bootstrap,
        unique,
        f"  ward: {{type: webhook, url: '{receiver.url}', secrets: [{SECRET}]}}",
        "default_route: {receivers: [ward], repeat_interval: null}",
        delivery=(
            f"{{timeout: 5s, max_attempts: 20, backoff_initial: 50ms, backoff_max: 300ms, concurrency: {concurrency}}}"
        ),
        timings="{tick: 250ms, commit_interval: 200ms}",
    )
    log = tmp_path / "dispatch.log"
    pages = [alert(f"MRN-{n}", episode=f"ep-{n}") for n in range(STREAM)]
    expected = {page["alert_id"] for page in pages}
    dispatcher = Service(["dispatch", "--config", str(config)], dict(os.environ), log)
    try:
        dispatcher.wait_for_output("dispatching", timeout=60)
        produce(kafka.bootstrap, f"alerts-{unique}", [(p["patient_id"], p) for p in pages])
        receiver.wait_until(lambda r: len(r.accepted()) >= STREAM // 3, timeout=120, what="a third of the stream")
        dispatcher.stop(signal.SIGKILL)
        sent_before_the_kill = len(receiver.accepted())
        assert sent_before_the_kill < STREAM, "the stream was done before the kill"
        dispatcher = Service(["dispatch", "--config", str(config)], dict(os.environ), log)
        receiver.wait_until(lambda r: set(r.accepted_ids()) >= expected, timeout=180, what="every page", quiet_for=0.5)
        accepted = receiver.accepted_ids()
    finally:
        dispatcher.stop()
        receiver.close()
    twice = sum(count - 1 for count in accepted.values())
    print(f"SIGKILL after {sent_before_the_kill} of {STREAM} pages: {twice} sent again (bound {2 * concurrency - 1})")
    assert set(accepted) == expected
    assert twice <= 2 * concurrency - 1


def wait_for_page_and_track_in_ledger(ledger: Path, timeout: float = 20.0) -> None:
    """Until the dispatcher's ledger holds the episode's track (its escalation clock) and the
    first page's outcome (no page pending), read as a second SQLite connection would: only then
    does a SIGKILL test the restart. Before the outcome is written, a re-sent page is within the
    documented bound (docs/dispatch.md: outcomes are written in batches), not a fault."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1)) as db:
                tracks = db.execute("SELECT count(*) FROM tracks").fetchone()[0]
                pending = db.execute("SELECT count(*) FROM pages WHERE state = 'pending'").fetchone()[0]
                finished = db.execute("SELECT count(*) FROM pages WHERE state != 'pending'").fetchone()[0]
                if tracks >= 1 and finished >= 1 and pending == 0:
                    return
        except sqlite3.OperationalError:  # not created yet, or busy
            pass
        assert time.monotonic() < deadline, "the dispatcher never wrote the track and the page's outcome"
        time.sleep(0.05)


def test_an_unacknowledged_episode_still_escalates_after_sigkill(kafka, unique, tmp_path):
    nurse, registrar = ScriptedReceiver(), ScriptedReceiver()
    config = write_config(
        tmp_path / "dispatch.yaml",
        kafka.bootstrap,
        unique,
        f"  nurse: {{type: webhook, url: '{nurse.url}'}}\n  registrar: {{type: webhook, url: '{registrar.url}'}}",
        "default_route: {receivers: [nurse], escalate: [{after: 4s, receivers: [registrar]}], repeat_interval: null}",
    )
    log = tmp_path / "dispatch.log"
    env = dict(os.environ)
    dispatcher = Service(["dispatch", "--config", str(config)], env, log)
    try:
        dispatcher.wait_for_output("dispatching", timeout=60)
        page = alert("MRN-1")
        produce(kafka.bootstrap, f"alerts-{unique}", [("MRN-1", page)])
        nurse.wait_until(lambda r: len(r.accepted()) == 1, what="the level-0 page")
        paged_at = nurse.accepted()[0].at
        wait_for_page_and_track_in_ledger(tmp_path / f"ledger-{unique}.sqlite3")
        dispatcher.stop(signal.SIGKILL)
        dispatcher = Service(["dispatch", "--config", str(config)], env, log)
        registrar.wait_until(lambda r: len(r.accepted()) == 1, timeout=30, what="escalation after restart")
        # The restarted dispatcher escalated to the registrar about 4 s after the first page,
        # and did not page the nurse again.
        assert registrar.accepted()[0].at - paged_at >= 3.9
        assert registrar.accepted_ids() == {page["alert_id"]: 1}
        assert nurse.accepted_ids() == {page["alert_id"]: 1}
    finally:
        dispatcher.stop()
        nurse.close()
        registrar.close()
