"""`crsmon simulate --kafka`: a simulated ward running now, published at accelerated time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from crsmon.cli import parser
from crsmon.ward_feed import FeedError, Pacing, ward_running_now
from monitor.wire import decode_input
from simulator import SimulationSettings
from tests.support.processes import Service

NOW = datetime(2026, 11, 23, 18, 7, 42, 123456, tzinfo=timezone.utc)


def test_the_ward_is_moved_so_that_history_hours_of_it_lie_in_the_past():
    settings, pacing = ward_running_now(SimulationSettings(days=1), history_hours=8, speed=60, now=NOW)
    assert pacing.live_from == datetime(2026, 11, 23, 18, 7, tzinfo=timezone.utc)  # whole minutes
    assert settings.start == pacing.live_from - timedelta(hours=8)
    assert settings.utc_offset_hours == (time.localtime().tm_gmtoff or 0) / 3600


def test_a_ward_that_names_its_own_utc_offset_keeps_it():
    settings, _ = ward_running_now(SimulationSettings(utc_offset_hours=5.5), 1, 60, now=NOW)
    assert settings.utc_offset_hours == 5.5


def test_pacing_maps_event_time_to_wall_time_at_the_speed():
    pacing = Pacing(NOW, speed=60)
    assert pacing.due_after(NOW - timedelta(seconds=1)) is None  # history: at once
    assert pacing.due_after(NOW) == 0
    assert pacing.due_after(NOW + timedelta(hours=1)) == pytest.approx(60.0)


@pytest.mark.parametrize(
    "history, speed, problem",
    [
        (8, 0, "--speed 0 must be more than 0"),
        (-1, 60, "--history -1 must be 0 or more"),
        (24, 60, "leaves nothing of a 1-day window"),
    ],
)
def test_unusable_options_are_refused_with_what_to_change(history, speed, problem):
    with pytest.raises(FeedError, match=problem):
        ward_running_now(SimulationSettings(days=1), history, speed, now=NOW)


def test_options_that_make_no_sense_for_kafka_are_refused(capsys):
    from crsmon.ward_feed import feed_command

    for extra, problem in (
        (["--start", "2026-01-01T00:00:00Z"], "--start cannot be combined"),
        (["--out", "ward.jsonl"], "--out cannot be combined"),
        (["--crs-share", "2"], "crs_share 2.0 must be between 0 and 1"),
    ):
        args = parser().parse_args(["simulate", "--kafka", "127.0.0.1:1", *extra])
        assert feed_command(args) == 2
        assert problem in capsys.readouterr().err


def _read_all(bootstrap: str, topics: list[str], expected: int, timeout: float = 60.0) -> list:
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records.extend(consumer)
    finally:
        consumer.close()
    assert len(records) == expected, f"{len(records)} of {expected} messages arrived"
    return records


def _published(output: str) -> int:
    last = [line for line in output.splitlines() if "messages published" in line][-1]
    return int(last.split(";")[-1].split("messages")[0].replace(",", "").strip())


@pytest.mark.kafka
def test_the_ward_reaches_kafka_keyed_by_patient_with_live_messages_sent_when_due(kafka, unique, tmp_path):
    env = dict(
        os.environ, CRSMON_TOPIC_VITALS=f"vitals-{unique}", CRSMON_TOPIC_CLINICAL_EVENTS=f"clinical-events-{unique}"
    )
    speed, history_h = 1800.0, 1.0
    started = datetime.now(timezone.utc)
    feed = Service(
        [
            "simulate",
            "--kafka",
            kafka.bootstrap,
            "--patients",
            "4",
            "--days",
            "0.1",
            "--history",
            str(history_h),
            "--speed",
            str(speed),
            "--crs-share",
            "0.5",
        ],
        env,
        tmp_path / "feed.log",
    )
    try:
        feed.process.wait(timeout=120)
    finally:
        feed.stop()
    output = feed.output()
    assert feed.process.returncode == 0, output
    assert "history published" in output and "the simulated window ended" in output

    records = _read_all(kafka.bootstrap, [f"vitals-{unique}", f"clinical-events-{unique}"], _published(output))
    live_from = started.replace(second=0, microsecond=0)
    window_start, window_end = live_from - timedelta(hours=history_h), live_from + timedelta(hours=1.4)
    live = []
    for record in records:
        message = decode_input(record.value)
        assert record.key == message.patient_id.encode()
        if record.topic == f"vitals-{unique}":
            assert window_start <= message.ts < window_end + timedelta(minutes=1)
        if message.ts >= live_from:
            live.append((Pacing(live_from, speed).due_after(message.ts), record.timestamp / 1000))
    assert len({record.key for record in records}) == 4
    assert live, "no message of the live part of the window"

    # Kafka stamps each message with the producer's clock when it is sent. The first live message
    # leaves on time (nothing is queued before it), which gives the moment pacing began; no later
    # one may leave before its due time (within the clock's millisecond and a little jitter),
    # and the feed keeps up with the pace.
    live.sort()
    first_due, first_sent = live[0]
    origin = first_sent - first_due
    for due, sent in live:
        assert sent - origin >= due - 0.02, f"a message due at +{due:.3f} s left at +{sent - origin:.3f} s"
    last_due, last_sent = max(live)
    assert last_sent - origin < last_due + 5.0


@pytest.mark.kafka
def test_sigterm_stops_the_feed_cleanly_with_what_was_published(kafka, unique, tmp_path):
    env = dict(
        os.environ, CRSMON_TOPIC_VITALS=f"vitals-{unique}", CRSMON_TOPIC_CLINICAL_EVENTS=f"clinical-events-{unique}"
    )
    feed = Service(
        ["simulate", "--kafka", kafka.bootstrap, "--patients", "2", "--days", "1", "--history", "0.5", "--speed", "60"],
        env,
        tmp_path / "feed.log",
    )
    try:
        feed.wait_for_output("history published", timeout=60)
        os.kill(feed.process.pid, signal.SIGTERM)
        assert feed.process.wait(timeout=30) == 0
    finally:
        feed.stop()
    output = feed.output()
    assert "crsmon simulate: stopped at ward time" in output
    _read_all(kafka.bootstrap, [f"vitals-{unique}", f"clinical-events-{unique}"], _published(output))


def test_an_unreachable_broker_is_reported_with_what_to_check(tmp_path):
    from crsmon.local_kafka import free_port

    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "crsmon"),
            "simulate",
            "--kafka",
            f"127.0.0.1:{free_port()}",
            "--patients",
            "1",
            "--days",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, CRSMON_CREATE_TOPICS="false"),
    )
    assert result.returncode == 1
    assert "cannot reach Kafka" in result.stderr and "check the address" in result.stderr
