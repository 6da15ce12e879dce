"""The bedside ICE form as a nurse uses it, at a desk and on a phone: a real `crsmon worker` and
`crsmon dashboard` on the real broker, looked at in Debian's headless Chromium.

The round trip is the whole path: the form → the dashboard server → `clinical-events` → the
worker → `patient-status` → the dashboard → the patient view. The patient is known to the
dashboard from a status as an earlier worker published it, and the assessment is the first
event this worker has of it: today's engine publishes a status for a patient's first event,
and for a later neuro event only once the `icans` part of the status (issue 21, outcome 2)
changes with it. Screenshots go to test-artifacts/dashboard/.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from monitor.wire import format_timestamp, parse_timestamp
from tests.conftest import worker_environment
from tests.support.dashboard import (
    ARTIFACTS,
    Dashboard,
    dashboard_env_with_topics,
    no_horizontal_scrolling,
    open_ward,
    screenshot,
    status_message,
    tap,
)
from tests.support.kafka_io import produce, read_until
from tests.support.processes import Service

pytestmark = pytest.mark.kafka


@pytest.fixture
def env(kafka, unique: str, tmp_path: Path) -> dict[str, str]:
    """One set of topics for the worker and the dashboard."""
    dashboard = dashboard_env_with_topics(
        kafka.bootstrap, unique, ("PATIENT_STATUS", "ALERTS", "ALERT_ACKS", "CLINICAL_EVENTS")
    )
    worker = worker_environment(kafka.bootstrap, unique, tmp_path)
    shared = ("PATIENT_STATUS", "ALERTS", "ALERT_ACKS", "CLINICAL_EVENTS")
    assert all(dashboard[f"CRSMON_TOPIC_{name}"] == worker[f"CRSMON_TOPIC_{name}"] for name in shared)
    return {**worker, **dashboard}


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[Service]:
    service = Service(["worker"], env, tmp_path / "worker.log")
    try:
        service.wait_for_output("Ready", timeout=120)
        yield service
    finally:
        service.stop()


@pytest.fixture
def dashboard(dashboard: Dashboard) -> Dashboard:
    """Live before the test begins (tests/conftest.py's, waited for): the patient's status is
    produced after it, as the worker would."""
    dashboard.wait_until_live()
    return dashboard


def open_patient(browser, dashboard: Dashboard, size: str, patient_id: str) -> Page:
    page = open_ward(browser, dashboard, size, live_within_ms=20_000)
    expect(page.locator(f'.tile[data-patient-id="{patient_id}"]')).to_have_count(1, timeout=10_000)
    page.fill("#who", "rn-4411")
    page.evaluate("id => { location.hash = `patient=${encodeURIComponent(id)}&span=24`; }", patient_id)
    expect(page.locator(".pv-chart svg")).to_have_count(1, timeout=10_000)
    return page


def choose(page: Page, size: str, field: str, value: str) -> None:
    """A finger on the phone, the mouse at the desk, on the choice's visible face."""
    tap(page.locator(f'.ice-group[data-field="{field}"] input[value="{value}"] + span'), size)


def submit(page: Page, size: str) -> None:
    tap(page.locator(".ice-submit"), size)


def test_an_ice_assessment_charted_on_the_form_reaches_kafka_the_course_and_the_worker(
    browser, worker: Service, dashboard: Dashboard, env, kafka, size: str
) -> None:
    patient = f"MRN-ICE-{size}"
    earlier = format_timestamp(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5))
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (patient, status_message(patient, earlier, ward="5-West", bed="12")),
        ],
    )
    page = open_patient(browser, dashboard, size, patient)
    form = page.locator(".ice-form")

    # Every choice is a target a finger can hit: 44 px at least (WCAG 2.5.5).
    faces = form.locator(".choice span")
    assert faces.count() == 5 + 4 + 2 + 2 + 2 + 6 + 3 + 2 + 3  # scores 0–4, 0–3, three 0–1; the findings
    for box in faces.evaluate_all("faces => faces.map(face => face.getBoundingClientRect().toJSON())"):
        assert box["width"] >= 44 and box["height"] >= 44, box
    no_horizontal_scrolling(page)

    # The total follows each tap; an ICE scored in part is refused by the server, in words.
    expect(form.locator(".ice-total")).to_have_text("ICE –/10")
    choose(page, size, "orientation", "3")
    choose(page, size, "naming", "3")
    expect(form.locator(".ice-total")).to_have_text("ICE 6/10 so far · 3 tasks to score")
    submit(page, size)
    expect(form.locator(".ice-error")).to_have_text(
        "Not charted: score every ICE task or none: commands, writing, attention not scored"
    )

    # Nobody to chart it: the form asks for the name, as Acknowledge does.
    page.fill("#who", "")
    choose(page, size, "commands", "1")
    choose(page, size, "writing", "0")
    choose(page, size, "attention", "1")
    expect(form.locator(".ice-total")).to_have_text("ICE 8/10")
    submit(page, size)
    expect(form.locator(".ice-error")).to_contain_text('Type your name or initials in "Acknowledging as"')
    page.fill("#who", "rn-4411")

    for field, value in (("arousal", "voice"), ("seizure", "none"), ("motor", "none"), ("cerebral_edema", "none")):
        choose(page, size, field, value)
    expect(form.locator(".ice-error")).to_have_text("")  # a change clears what no longer applies
    if size == "phone":  # the form as a whole, from the page as laid out from its top (the bar sticks there)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => window.scrollTo(0, 0)")
        box = form.evaluate(
            "form => { const r = form.getBoundingClientRect(); "
            "return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }"
        )
        page.screenshot(path=str(ARTIFACTS / "ice-form-phone.png"), full_page=True, clip=box)
    submit(page, size)
    expect(form.locator(".ice-sent")).to_have_text(
        "Charted: ICE 8/10 by rn-4411. It appears on the course in a moment.", timeout=15_000
    )
    expect(form.locator(".ice-error")).to_have_text("")
    expect(form.locator(".ice-total")).to_have_text("ICE –/10")  # cleared for the next one
    submitted = parse_timestamp(form.get_attribute("data-submitted-ts"))

    # On `clinical-events`, once (the refused submissions published nothing), keyed by patient.
    [event] = read_until(
        kafka.bootstrap, env["CRSMON_TOPIC_CLINICAL_EVENTS"], lambda records: len(records) >= 1, timeout=20, quiet_for=2
    )
    assert (event["type"], event["patient_id"], event["_key"], event["ice"], event["by"]) == (
        "neuro",
        patient,
        patient,
        8,
        "rn-4411",
    )
    assert event["ice_items"] == {"orientation": 3, "naming": 3, "commands": 1, "writing": 0, "attention": 1}
    assert (event["arousal"], event["seizure"], event["motor"], event["cerebral_edema"]) == (
        "voice",
        "none",
        "none",
        "none",
    )
    assert parse_timestamp(event["ts"]) == submitted
    assert abs((submitted - datetime.now(timezone.utc)).total_seconds()) < 60

    # The course shows it, read back from the topic by the dashboard, with who charted it.
    # (a point on the course's ICANS lane, its ICE score written in it and the rest in words)
    point = page.locator(".pv-chart .ice-point")
    expect(point).to_have_count(1, timeout=5_000)
    expect(point).to_have_attribute("data-ice", "8")
    expect(point).to_have_attribute("aria-label", "ICE 8/10 · wakes to voice · by rn-4411")

    # And the worker's status that follows the event is what the view now shows.
    view = page.locator("#patient-view")
    expect(view).to_have_attribute("data-status-ts", format_timestamp(submitted), timeout=10_000)
    statuses = read_until(kafka.bootstrap, env["CRSMON_TOPIC_PATIENT_STATUS"], lambda records: len(records) >= 2)
    assert [parse_timestamp(status["ts"]) for status in statuses] == [parse_timestamp(earlier), submitted]
    screenshot(page, f"ice-form-charted-{size}")
    assert worker.alive()


def test_a_patient_who_cannot_do_the_tasks_is_charted_without_an_ice_score(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    """Unarousable: no task can be scored, and the assessment still counts (ICANS grade 4 by
    consciousness alone). No worker here: what is checked is the form, the topic and the course."""
    patient = f"MRN-U-{size}"
    earlier = format_timestamp(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5))
    produce(kafka.bootstrap, env["CRSMON_TOPIC_PATIENT_STATUS"], [(patient, status_message(patient, earlier))])
    page = open_patient(browser, dashboard, size, patient)
    form = page.locator(".ice-form")
    choose(page, size, "arousal", "unarousable")
    choose(page, size, "seizure", "prolonged")
    expect(form.locator(".ice-total")).to_have_text("ICE –/10")
    submit(page, size)
    expect(form.locator(".ice-sent")).to_have_text(
        "Charted: no ICE score by rn-4411. It appears on the course in a moment.", timeout=15_000
    )

    [event] = read_until(
        kafka.bootstrap, env["CRSMON_TOPIC_CLINICAL_EVENTS"], lambda records: len(records) >= 1, timeout=20, quiet_for=1
    )
    assert "ice" not in event and "ice_items" not in event  # absent: not assessed, never a 0
    assert "motor" not in event and "cerebral_edema" not in event
    assert (event["arousal"], event["seizure"], event["by"]) == ("unarousable", "prolonged", "rn-4411")
    # In words (the phone's chip shortens its label to 14 characters, as for every mark).
    point = page.locator(".pv-chart .ice-point")
    expect(point).to_have_attribute(
        "aria-label", "ICE not assessable · unarousable · seizure prolonged · by rn-4411", timeout=5_000
    )
    expect(point).to_have_attribute("data-ice", "")
