"""`crsmon dashboard` against the real broker, looked at in a real headless Chromium.

Each test starts the dashboard as a user would, produces what the worker would publish, and
checks what a nurse would see and what reaches Kafka when she presses Acknowledge. Screenshots
go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient
from playwright.sync_api import Page, expect

from crsmon.local_kafka import free_port
from monitor.catalogue import CATALOGUE
from monitor.wire import format_timestamp, parse_timestamp
from tests.support.dashboard import (
    Dashboard,
    alert_message,
    dashboard_env,
    dashboard_env_with_topics,
    open_ward,
    screenshot,
    started_dashboard,
    status_message,
)
from tests.support.kafka_io import produce, read_until

pytestmark = pytest.mark.kafka


def at(minutes_ago: float) -> str:
    return format_timestamp(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=minutes_ago))


@pytest.fixture
def env(kafka, unique: str) -> dict[str, str]:
    return dashboard_env_with_topics(kafka.bootstrap, unique, ("PATIENT_STATUS", "ALERTS", "ALERT_ACKS"))


@pytest.fixture
def dashboard(dashboard: Dashboard) -> Dashboard:
    """Live before the test begins (tests/conftest.py's, waited for): these tests produce while
    the page is open, as the worker does."""
    dashboard.wait_until_live()
    return dashboard


def tile(page: Page, patient_id: str):
    return page.locator(f'.tile[data-patient-id="{patient_id}"]')


def test_tiles_show_each_patients_status_grouped_by_ward(browser, dashboard: Dashboard, env, kafka) -> None:
    topic = env["CRSMON_TOPIC_PATIENT_STATUS"]
    history = [
        (
            "MRN-1",
            status_message(
                "MRN-1",
                at(50 - 5 * step),
                ward="5-West",
                bed="12",
                heart_rate=90 + step,
                temperature=37.0 + 0.2 * step,
                systolic_bp=120 - 3 * step,
                spo2=97,
            ),
        )
        for step in range(10)
    ]
    produce(
        kafka.bootstrap,
        topic,
        history
        + [
            (
                "MRN-1",
                status_message(
                    "MRN-1",
                    at(0),
                    ward="5-West",
                    bed="12",
                    news2=6,
                    band="medium",
                    grade=2,
                    fever=True,
                    heart_rate=112,
                    temperature=38.9,
                    systolic_bp=88,
                    spo2=95,
                ),
            ),
            ("MRN-2", status_message("MRN-2", at(0), ward="5-West", bed="3")),
            ("MRN-3", status_message("MRN-3", at(0), ward="4-East", bed="1", news2=7, band="high")),
        ],
    )
    page = open_ward(browser, dashboard)
    assert "token" not in page.url  # the token went into a cookie and left the address bar

    expect(page.locator(".tile")).to_have_count(3)
    expect(page.locator(".ward > h2")).to_have_text(["4-East", "5-West"])
    expect(page.locator('.ward[data-ward="5-West"] .bed')).to_have_text(["Bed 3", "Bed 12"])
    first = tile(page, "MRN-1")
    expect(first.locator(".news2-score")).to_have_text("6")
    expect(first.locator(".news2-band")).to_have_text("medium")
    expect(first.locator(".crs-grade")).to_have_text("2")
    expect(first.locator(".crs-note")).to_contain_text("fever")
    expect(first.locator('[data-sign="temperature"] .value')).to_have_text("38.9")
    expect(first.locator('[data-sign="heart_rate"] .value')).to_have_text("112")
    expect(first.locator('[data-sign="systolic_bp"] .value')).to_have_text("88")
    expect(first.locator('[data-sign="spo2"] .value')).to_have_text("95")
    for sign in ("temperature", "heart_rate", "systolic_bp", "spo2"):  # words and units: the served catalogue's
        expect(first.locator(f'[data-sign="{sign}"] .vital-label')).to_have_text(CATALOGUE[sign].short_label)
        expect(first.locator(f'[data-sign="{sign}"] .unit')).to_have_text(CATALOGUE[sign].unit)
    expect(tile(page, "MRN-3").locator(".news2-band")).to_have_text("high")
    # Eleven statuses five minutes apart: a line of eleven points, one segment between each two.
    line = first.locator('[data-sign="temperature"] .spark-line').get_attribute("d")
    assert line.count("M") == 1 and line.count("L") == 10
    screenshot(page, "tiles")


def test_an_alert_shows_within_a_second_and_its_acknowledgement_reaches_alert_acks(
    browser, dashboard: Dashboard, env, kafka
) -> None:
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (
                "MRN-7",
                status_message(
                    "MRN-7",
                    at(0),
                    ward="5-West",
                    bed="7",
                    news2=8,
                    band="high",
                    grade=3,
                    fever=True,
                    heart_rate=128,
                    temperature=39.4,
                    systolic_bp=82,
                    spo2=91,
                ),
            ),
            ("MRN-8", status_message("MRN-8", at(0), ward="5-West", bed="8")),
        ],
    )
    page = open_ward(browser, dashboard)
    expect(page.locator(".tile")).to_have_count(2)
    page.fill("#who", "rn-4411")

    episode = f"MRN-7:crs:{at(10)}"
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            ("MRN-7", alert_message("MRN-7", episode, severity="critical", bed="7", emitted_at=at(0))),
        ],
    )
    on_topic = time.monotonic()  # the broker has acknowledged the write
    item = page.locator(f'.alert[data-episode-id="{episode}"]')
    item.wait_for(state="visible", timeout=5_000)
    seconds_to_screen = time.monotonic() - on_topic
    assert seconds_to_screen < 1.0, f"the alert took {seconds_to_screen:.2f} s to appear"

    expect(item.locator(".alert-priority")).to_have_text("CRITICAL")
    assert item.get_attribute("data-priority") == "high"
    red, green, blue = colour(item.locator(".alert-priority"), "backgroundColor")
    assert red > 200 and green < 80 and blue < 80, "high priority is red (IEC 60601-1-8)"
    assert item.evaluate("element => getComputedStyle(element).animationName") == "flash"
    assert tile(page, "MRN-7").get_attribute("data-severity") == "critical"
    expect(tile(page, "MRN-7").locator(".tile-alert")).to_have_text("CRITICAL · crs")
    screenshot(page, "critical-alert")

    item.locator("button.ack").click()
    [ack] = read_until(kafka.bootstrap, env["CRSMON_TOPIC_ALERT_ACKS"], lambda records: len(records) >= 1, timeout=20)
    assert (ack["record"], ack["episode_id"], ack["patient_id"], ack["by"], ack["source"], ack["_key"]) == (
        "ack",
        episode,
        "MRN-7",
        "rn-4411",
        "dashboard",
        "MRN-7",
    )
    assert abs((parse_timestamp(ack["ts"]) - datetime.now(timezone.utc)).total_seconds()) < 60
    expect(item.locator(".ack-state")).to_contain_text("Acknowledged by rn-4411", timeout=5_000)
    expect(item.locator("button.ack")).to_be_hidden()
    assert item.evaluate("element => getComputedStyle(element).animationName") == "none"
    screenshot(page, "acknowledged")
    page.reload()
    expect(page.locator("#who")).to_have_value("rn-4411")  # remembered by this browser

    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            (
                "MRN-7",
                alert_message("MRN-7", episode, status="resolved", severity="critical", bed="7", emitted_at=at(0)),
            ),
        ],
    )
    expect(item).to_have_count(0, timeout=5_000)
    assert tile(page, "MRN-7").get_attribute("data-priority") is None


def test_each_severity_has_its_priority_colour_and_says_so_in_words(browser, dashboard, env, kafka) -> None:
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            (
                f"MRN-{n}",
                alert_message(
                    f"MRN-{n}",
                    f"MRN-{n}:rule:{severity}",
                    severity=severity,
                    bed=str(n),
                    emitted_at=at(n),
                    crs_grade=0 if severity == "medium" else 2,
                ),
            )
            for n, severity in enumerate(["critical", "high", "medium", "low"], start=1)
        ],
    )
    page = open_ward(browser, dashboard)
    items = page.locator(".alert")
    expect(items.locator(".alert-priority")).to_have_text(["CRITICAL", "HIGH", "MEDIUM", "LOW"])
    # A CRS alert raised before any ASTCT grade does not say "grade 0".
    expect(items.nth(2).locator(".alert-title")).to_contain_text("crs (no CRS grade, NEWS2 6)")
    expect(items.nth(0).locator(".alert-title")).to_contain_text("crs (CRS grade 2, NEWS2 6)")
    red, yellow, cyan = (colour(items.nth(index), "borderLeftColor") for index in (1, 2, 3))
    assert red[0] > 200 and red[1] < 80 and red[2] < 80
    assert yellow[0] > 200 and yellow[1] > 180 and yellow[2] < 80
    assert cyan[0] < 80 and cyan[1] > 180 and cyan[2] > 200


def test_a_browser_that_connects_late_sees_the_current_state_at_once(browser, dashboard, env, kafka) -> None:
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [(f"MRN-{n}", status_message(f"MRN-{n}", at(0), bed=str(n), heart_rate=70 + n)) for n in range(1, 21)],
    )
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            ("MRN-4", alert_message("MRN-4", "MRN-4:news2:x", severity="medium", bed="4", emitted_at=at(0))),
        ],
    )
    first = open_ward(browser, dashboard)
    expect(first.locator(".tile")).to_have_count(20)
    expect(first.locator(".alert")).to_have_count(1)

    late = browser.new_context().new_page()
    started = time.monotonic()
    late.goto(dashboard.link)
    expect(late.locator(".tile")).to_have_count(20, timeout=2_000)
    expect(late.locator(".alert")).to_have_count(1, timeout=100)
    expect(tile(late, "MRN-9").locator('[data-sign="heart_rate"] .value')).to_have_text("79")
    assert time.monotonic() - started < 3.0
    screenshot(late, "late-browser")


def test_after_a_server_restart_the_page_reconnects_by_itself(browser, env, kafka, tmp_path: Path) -> None:
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            ("MRN-1", status_message("MRN-1", at(1), bed="1", heart_rate=81)),
            ("MRN-2", status_message("MRN-2", at(1), bed="2", heart_rate=82)),
        ],
    )
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            ("MRN-2", alert_message("MRN-2", "MRN-2:crs:x", bed="2", emitted_at=at(1))),
        ],
    )
    with started_dashboard(env, tmp_path / "first.log") as first:
        first.wait_until_live()
        page = open_ward(browser, first)
        expect(page.locator(".tile")).to_have_count(2)
        port = first.port
    # the first server has stopped

    expect(page.locator("#connection")).to_have_text("Connection lost — reconnecting…", timeout=5_000)
    expect(page.locator("#feed-warning")).to_contain_text("may be out of date")
    screenshot(page, "server-down")

    with started_dashboard(env, tmp_path / "second.log", port) as second:
        second.wait_until_live()
        expect(page.locator("#connection")).to_have_text("Live", timeout=10_000)
        # The new server rebuilt the ward from the topics, and the page from its snapshot.
        expect(page.locator(".tile")).to_have_count(2)
        expect(page.locator(".alert")).to_have_count(1)
        expect(page.locator("#feed-warning")).to_be_hidden()
        produce(
            kafka.bootstrap,
            env["CRSMON_TOPIC_PATIENT_STATUS"],
            [
                ("MRN-1", status_message("MRN-1", at(0), bed="1", heart_rate=101)),
            ],
        )
        expect(tile(page, "MRN-1").locator('[data-sign="heart_rate"] .value')).to_have_text("101")


def test_the_page_without_its_token_is_refused_with_a_clear_message(browser, dashboard) -> None:
    page = browser.new_context().new_page()
    response = page.goto(dashboard.url)
    assert response.status == 401
    expect(page.locator("h1")).to_have_text("Access token needed")
    expect(page.locator("body")).to_contain_text("Open the link that `crsmon dashboard` printed")
    response = page.goto(dashboard.url + "?token=not-the-token")
    assert response.status == 401
    expect(page.locator("body")).to_contain_text("is not this dashboard's token")


def colour(locator, prop: str) -> tuple[int, int, int]:
    text = locator.evaluate(f"element => getComputedStyle(element).{prop}")
    red, green, blue = (int(part) for part in text[text.index("(") + 1 : text.index(")")].split(",")[:3])
    return red, green, blue


def test_topics_that_appear_later_are_followed_and_bad_messages_only_counted(
    browser, kafka, unique, tmp_path: Path
) -> None:
    env = dashboard_env(kafka.bootstrap, unique)  # none of its topics exists yet
    with started_dashboard(env, tmp_path / "dashboard.log") as dashboard:
        dashboard.wait_until_live()
        page = open_ward(browser, dashboard)
        admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        try:
            assert env["CRSMON_TOPIC_PATIENT_STATUS"] not in admin.list_topics()  # it created none
        finally:
            admin.close()
        produce(
            kafka.bootstrap,
            env["CRSMON_TOPIC_PATIENT_STATUS"],
            [
                ("MRN-1", b"{this is not json"),
                ("MRN-1", {"record": "status", "patient_id": "MRN-1", "ts": at(0)}),  # no news2, no crs
                ("MRN-1", status_message("MRN-1", at(0), bed="1", heart_rate=77)),
            ],
        )
        expect(tile(page, "MRN-1").locator('[data-sign="heart_rate"] .value')).to_have_text("77", timeout=15_000)
        with urllib.request.urlopen(f"{dashboard.url}metrics", timeout=5) as response:
            exposition = response.read().decode()
        topic = env["CRSMON_TOPIC_PATIENT_STATUS"]
        assert f'crsmon_dashboard_messages_invalid_total{{kind="not_json",topic="{topic}"}} 1.0' in exposition
        assert f'crsmon_dashboard_messages_invalid_total{{kind="missing_field",topic="{topic}"}} 1.0' in exposition
        assert dashboard.alive()


def test_the_page_says_when_the_dashboard_cannot_reach_kafka(browser, unique: str, tmp_path: Path) -> None:
    env = dashboard_env(f"127.0.0.1:{free_port()}", unique)  # no broker there
    with started_dashboard(env, tmp_path / "dashboard.log") as dashboard:
        dashboard.wait_for_output("the ward is at")
        page = browser.new_context().new_page()
        page.goto(dashboard.link)
        expect(page.locator("#feed-warning")).to_contain_text("cannot reach Kafka since", timeout=10_000)
        expect(page.locator("#feed-warning")).to_contain_text("may be out of date")
        assert dashboard.alive()
