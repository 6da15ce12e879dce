"""The ward dashboard as a user runs it (a `crsmon dashboard` subprocess), a real headless Chromium
to look at it, and messages shaped as the worker publishes them."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from crsmon.local_kafka import free_port
from tests.support.processes import Service

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
CHROMIUM = os.environ.get("CRSMON_CHROMIUM", "/usr/bin/chromium")

#: As root on a closed network: no sandbox (it needs an unprivileged user), and none of the
#: background connections Chromium makes to Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, never a browser downloaded by Playwright."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make system-packages` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class Dashboard(Service):
    """`crsmon dashboard` on a fixed port, so that a restart comes back at the same address."""

    def __init__(self, env: dict[str, str], log: Path, port: int) -> None:
        super().__init__(["dashboard", "--port", str(port)], env, log)
        self.port = port
        self.token = env["CRSMON_DASHBOARD_TOKEN"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def link(self) -> str:
        """The link a nurse is given: the page with its token."""
        return f"{self.url}?token={self.token}"

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}healthz", timeout=5) as response:
            return json.loads(response.read())

    def wait_until_live(self, timeout: float = 60.0) -> None:
        """Until the dashboard has read its topics to their end."""
        self.wait_for_output("the ward is at", timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.health()["caught_up"]:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"dashboard not live in {timeout:.0f} s:\n{self.output()[-4000:]}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium for a test module, closed after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def dashboard_env_with_topics(bootstrap: str, unique: str, topics: tuple[str, ...]) -> dict[str, str]:
    """`dashboard_env`, with these of its topics (e.g. "ALERTS") created with 4 partitions."""
    from kafka.admin import KafkaAdminClient, NewTopic

    env = dashboard_env(bootstrap, unique)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(env[f"CRSMON_TOPIC_{name}"], 4, 1) for name in topics])
    finally:
        admin.close()
    return env


def dashboard_env(bootstrap: str, unique: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CRSMON_BROKER": bootstrap,
            "CRSMON_DASHBOARD_TOKEN": f"token-{unique}",
            "CRSMON_TOPIC_PATIENT_STATUS": f"patient-status-{unique}",
            "CRSMON_TOPIC_ALERTS": f"alerts-{unique}",
            "CRSMON_TOPIC_ALERT_ACKS": f"alert-acks-{unique}",
            "CRSMON_TOPIC_CLINICAL_EVENTS": f"clinical-events-{unique}",
        }
    )
    return env


@contextmanager
def started_dashboard(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[Dashboard]:
    dashboard = Dashboard(env, log, port or free_port())
    try:
        yield dashboard
    finally:
        dashboard.stop()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- the page as a nurse opens it, at a desk and on a handheld -----------------------------------

#: The two screens every clinician-facing view is tested on (the `size` fixture, tests/conftest.py).
SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1400, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}


def open_ward(browser: Any, dashboard: Dashboard, size: str = "desktop", live_within_ms: int = 10_000) -> Any:
    """A new browser context of that size on the nurse's link, once the page says it is live:
    what every Chromium test starts from, so a test's own lines are what it checks."""
    from playwright.sync_api import expect

    page = browser.new_context(**SIZES[size]).new_page()
    page.goto(dashboard.link)
    expect(page.locator("#connection")).to_have_text("Live", timeout=live_within_ms)
    return page


def tap(locator: Any, size: str, force: bool = False) -> None:
    """A finger on the phone, the mouse at the desk; `force` taps where the element is even
    when another lies on top (what a finger does)."""
    if size == "phone":
        locator.tap(force=force)
    else:
        locator.click(force=force)


def no_horizontal_scrolling(page: Any) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot from the top, so the sticky bar is where a person sees it."""
    page.evaluate("() => window.scrollTo(0, 0)")
    return screenshot(page, name)


# -- messages as the worker publishes them ---------------------------------------------------


def status_message(
    patient_id: str,
    ts: str,
    *,
    ward: str = "5-West",
    bed: str = "1",
    news2: int = 1,
    band: str = "low",
    grade: int = 0,
    fever: bool = False,
    **latest: float,
) -> dict:
    return {
        "record": "status",
        "patient_id": patient_id,
        "ward": ward,
        "bed": bed,
        "ts": ts,
        "news2": {"score": news2, "band": band, "complete": True, "components": {}},
        "shock_index": None,
        "crs": {"grade": grade, "fever": fever, "hypotension": False, "hypoxia": False, "risk_period": True},
        "latest": latest or {"heart_rate": 80, "temperature": 37.0, "systolic_bp": 120, "spo2": 97},
    }


def alert_message(
    patient_id: str,
    episode_id: str,
    *,
    status: str = "firing",
    severity: str = "high",
    ward: str = "5-West",
    bed: str = "1",
    emitted_at: str,
    reasons: list[str] | None = None,
    crs_grade: int = 2,
) -> dict:
    return {
        "record": "alert",
        "alert_id": f"{episode_id}:{status}:{severity}",
        "episode_id": episode_id,
        "patient_id": patient_id,
        "ward": ward,
        "bed": bed,
        "status": status,
        "severity": severity,
        "rule": "crs",
        "crs_grade": crs_grade,
        "news2_score": 6,
        "reasons": reasons or ["temperature 38.9 °C >= 38.0", "systolic BP 88 mmHg < 90 for 10 min"],
        "observed_at": emitted_at,
        "emitted_at": emitted_at,
    }
