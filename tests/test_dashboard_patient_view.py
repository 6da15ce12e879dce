"""The patient view as a nurse uses it, at a desk and on a handheld: `crsmon dashboard` against the
real broker, looked at in Debian's headless Chromium.

Every test runs at desktop size (1400 × 900) and at a phone's (390 × 844, touch). Screenshots
go to test-artifacts/dashboard/.
"""

from __future__ import annotations

import re
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from monitor.organs.easix import m_easix
from monitor.wire import format_timestamp
from tests.support.dashboard import (
    ARTIFACTS,
    SIZES,
    Dashboard,
    alert_message,
    dashboard_env_with_topics,
    no_horizontal_scrolling,
    open_ward,
    shot,
    status_message,
    tap,
)
from tests.support.kafka_io import produce, read_until

pytestmark = pytest.mark.kafka

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def at(minutes_ago: float) -> str:
    return format_timestamp(NOW - timedelta(minutes=minutes_ago))


@pytest.fixture
def env(kafka, unique: str) -> dict[str, str]:
    return dashboard_env_with_topics(
        kafka.bootstrap, unique, ("PATIENT_STATUS", "ALERTS", "ALERT_ACKS", "CLINICAL_EVENTS")
    )


def band_of(score: int) -> str:
    return "high" if score >= 7 else "medium" if score >= 5 else "low"


def a_crs_course(kafka, env) -> str:
    """Three hours of one patient with a fever, tocilizumab, a signal loss and an episode that
    was acknowledged and escalated; the therapy two days ago."""
    status_topic, alerts = env["CRSMON_TOPIC_PATIENT_STATUS"], env["CRSMON_TOPIC_ALERTS"]
    statuses = []
    for step in range(0, 37):
        minutes_ago = 180 - 5 * step
        fever = 37.2 + min(step, 20) * 0.09
        statuses.append(
            (
                "MRN-1",
                status_message(
                    "MRN-1",
                    at(minutes_ago),
                    ward="5-West",
                    bed="12",
                    news2=min(8, step // 4),
                    band=band_of(min(8, step // 4)),
                    grade=2 if step > 24 else (1 if step > 8 else 0),
                    fever=step > 8,
                    temperature=round(fever, 1),
                    heart_rate=88 + step,
                    systolic_bp=124 - step,
                    diastolic_bp=70 - step // 2,
                    mean_arterial_pressure=88 - step // 2,
                    spo2=0 if step in (14, 15) else 97 - step // 8,
                    respiratory_rate=16 + step // 5,
                ),
            )
        )
    produce(kafka.bootstrap, status_topic, statuses)
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_CLINICAL_EVENTS"],
        [
            ("MRN-1", {"patient_id": "MRN-1", "ts": at(2 * 24 * 60), "type": "therapy", "therapy": "car-t"}),
            (
                "MRN-1",
                {"patient_id": "MRN-1", "ts": at(60), "type": "oxygen", "device": "nasal_cannula", "flow_l_min": 4},
            ),
            ("MRN-1", {"patient_id": "MRN-1", "ts": at(30), "type": "medication", "drug": "tocilizumab"}),
            ("MRN-1", {"patient_id": "MRN-1", "ts": at(20), "type": "vasopressor", "count": 1, "vasopressin": False}),
            ("MRN-1", {"patient_id": "MRN-1", "ts": at(12), "type": "medication", "drug": "corticosteroid"}),
            ("MRN-1", {"patient_id": "MRN-1", "ts": at(0), "type": "discharge"}),
        ],
    )
    episode = f"MRN-1:crs:{at(90)}"
    produce(
        kafka.bootstrap,
        alerts,
        [
            (
                "MRN-1",
                alert_message(
                    "MRN-1",
                    episode,
                    severity="high",
                    bed="12",
                    emitted_at=at(90),
                    reasons=["temperature 38.3 °C >= 38.0", "systolic BP 89 mmHg < 90"],
                ),
            ),
            (
                "MRN-1",
                {
                    **alert_message(
                        "MRN-1",
                        "MRN-1:signal_loss:x",
                        severity="low",
                        bed="12",
                        emitted_at=at(110),
                        reasons=["no SpO2 for 10 min"],
                    ),
                    "rule": "signal_loss",
                },
            ),
            (
                "MRN-1",
                {
                    **alert_message(
                        "MRN-1", "MRN-1:signal_loss:x", status="resolved", severity="low", bed="12", emitted_at=at(100)
                    ),
                    "rule": "signal_loss",
                },
            ),
            (
                "MRN-1",
                alert_message(
                    "MRN-1",
                    episode,
                    status="updated",
                    severity="critical",
                    bed="12",
                    emitted_at=at(40),
                    reasons=["systolic BP 86 mmHg < 90", "SpO2 93 % on air"],
                ),
            ),
        ],
    )
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERT_ACKS"],
        [
            (
                "MRN-1",
                {
                    "record": "ack",
                    "episode_id": episode,
                    "patient_id": "MRN-1",
                    "ts": at(39),
                    "by": "rn-4411",
                    "source": "dashboard",
                },
            ),
        ],
    )
    return episode


def test_a_tile_opens_the_patients_course_with_alert_spans_and_clinical_events(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    episode = a_crs_course(kafka, env)
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [("MRN-2", status_message("MRN-2", at(0), ward="5-West", bed="3"))],
    )
    dashboard.wait_until_live()
    page = open_ward(browser, dashboard, size)
    expect(page.locator(".tile")).to_have_count(2, timeout=20_000)  # the statuses come through Kafka
    tap(page.locator('.tile[data-patient-id="MRN-1"]'), size)

    view = page.locator("#patient-view")
    expect(view).to_be_visible()
    expect(page.locator("#wards")).to_be_hidden()
    assert "patient=MRN-1" in page.url
    expect(view.locator(".pv-bed")).to_have_text("Bed 12")
    chart = view.locator("svg.course")
    expect(chart).to_be_visible()
    expect(chart.locator(".panel .panel-label")).to_have_text(["Temp", "HR", "BP", "SpO₂", "RR"])
    expect(chart.locator(".panel .panel-unit")).to_have_text(["°C", "/min", "mmHg", "%", "/min"])  # the catalogue's
    assert chart.get_attribute("data-rows") == "37"
    for series in (
        "temperature",
        "heart_rate",
        "systolic_bp",
        "diastolic_bp",
        "mean_arterial_pressure",
        "spo2",
        "respiratory_rate",
    ):
        expect(chart.locator(f'path[data-series="{series}"]')).to_have_count(1)
    # The two probe-off minutes are a gap: the SpO2 line is drawn in two pieces.
    assert chart.locator('path[data-series="spo2"]').get_attribute("d").count("M") == 2
    assert chart.locator('path[data-series="heart_rate"]').get_attribute("d").count("M") == 1
    expect(chart.locator(".news2-band-high")).to_have_count(1)
    expect(chart.locator(".news2-band-medium")).to_have_count(1)
    expect(chart.locator('.band[data-grade="2"]')).to_have_count(1)

    # What the courses cost is a metric (and names no patient).
    with urllib.request.urlopen(f"{dashboard.url}metrics", timeout=5) as response:
        exposition = response.read().decode()
    assert "crsmon_dashboard_courses 2.0" in exposition and "MRN" not in exposition
    row_bytes = float(re.search(r"^crsmon_dashboard_course_row_bytes (\S+)$", exposition, re.M).group(1))
    assert row_bytes == 24 * (37 + 1)  # MRN-1's 37 minutes and MRN-2's one, 24 bytes each

    # Clinical events are marks; the therapy of two days ago is outside the 24 h span.
    expect(chart.locator(".mark")).to_have_count(5)
    expect(chart.locator('.mark[data-type="medication"] title')).to_have_text(
        [re.compile("^Tocilizumab, "), re.compile("^Steroid, ")]
    )
    expect(chart.locator('.mark[data-type="oxygen"] title')).to_contain_text("O₂ nasal cannula 4 L/min")
    expect(chart.locator('.mark[data-type="vasopressor"] title')).to_contain_text("Vasopressor ×1")
    expect(chart.locator('.mark[data-type="discharge"] title')).to_contain_text("Discharge")
    # Minutes apart on a day's axis, the last events share a finger's width: a tap on any of
    # them lists them all.
    tap(chart.locator('.mark[data-type="vasopressor"] .mark-hit'), size, force=True)
    expect(view.locator(".pv-details h3")).to_have_text(re.compile("^[3-5] clinical events$"))  # more on a phone
    expect(view.locator(".pv-details li")).to_contain_text(["Vasopressor ×1", "Steroid", "Discharge"])

    # Episodes are spans: the CRS one high then critical, acknowledged; the signal loss resolved.
    crs = chart.locator(f'.span[data-episode-id="{episode}"]')
    expect(crs.locator(".segment")).to_have_count(2)
    assert [crs.locator(".segment").nth(i).get_attribute("data-severity") for i in (0, 1)] == ["high", "critical"]
    expect(crs.locator(".ack-mark title")).to_contain_text("acknowledged by rn-4411")
    red = crs.locator(".segment").first.evaluate("element => getComputedStyle(element).fill")
    assert red == "rgb(255, 45, 45)", "high priority is red, as on the rest of the page"
    expect(chart.locator('.span[data-episode-id="MRN-1:signal_loss:x"] .segment')).to_have_count(1)
    assert (
        chart.locator('.span[data-episode-id="MRN-1:signal_loss:x"] .segment')
        .get_attribute("class")
        .endswith("priority-low")
    )

    # Its reasons on a tap (phone) or a click (desk).
    tap(crs.locator(".segment").nth(1), size)
    details = view.locator(".pv-details")
    expect(details).to_contain_text("Fired")
    expect(details).to_contain_text("temperature 38.3 °C >= 38.0")
    expect(details).to_contain_text("Updated")
    expect(details).to_contain_text("SpO2 93 % on air")
    expect(details).to_contain_text("Acknowledged by rn-4411")
    expect(details).to_contain_text("Still open")
    no_horizontal_scrolling(page)
    shot(page, f"patient-view-{size}")

    # The whole risk period: from the therapy (day 0) on, with its mark and the days counted.
    tap(view.locator('[data-span="all"]'), size)
    expect(chart.locator('.mark[data-type="therapy"]')).to_have_count(1)
    expect(view.locator(".pv-note")).to_contain_text("Day 2 after CAR-T")
    expect(chart.locator(".axis-day").first).to_have_text("day 0")
    no_horizontal_scrolling(page)
    shot(page, f"patient-view-risk-period-{size}")

    page.go_back()
    page.go_back()
    expect(view).to_be_hidden()
    expect(page.locator(".tile")).to_have_count(2, timeout=20_000)  # the statuses come through Kafka


def test_an_alert_opens_the_course_which_follows_live_and_acknowledges(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (
                "MRN-7",
                status_message(
                    "MRN-7",
                    at(minutes),
                    ward="5-West",
                    bed="7",
                    heart_rate=100 + minutes,
                    temperature=38.6,
                    systolic_bp=92,
                    spo2=95,
                ),
            )
            for minutes in (30, 20, 10, 1)
        ],
    )
    episode = f"MRN-7:crs:{at(20)}"
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            (
                "MRN-7",
                alert_message(
                    "MRN-7",
                    episode,
                    severity="high",
                    bed="7",
                    emitted_at=at(20),
                    reasons=["temperature 38.6 °C >= 38.0"],
                ),
            )
        ],
    )
    dashboard.wait_until_live()
    page = open_ward(browser, dashboard, size)
    page.fill("#who", "rn-77")
    tap(page.locator(f'#alert-list .alert[data-episode-id="{episode}"] .open-course'), size)
    view = page.locator("#patient-view")
    expect(view.locator(".pv-pid")).to_have_text("MRN-7")
    chart = view.locator("svg.course")
    expect(chart).to_have_attribute("data-rows", "4")

    # A new status reaches the open view when it reaches the patient's tile (hidden behind the
    # view, still kept up to date): both follow the same event stream, and the view adds no wait.
    page.evaluate("""() => {
      window.__seen = {};
      const note = (key) => () => { if (!(key in window.__seen)) window.__seen[key] = Date.now(); };
      new MutationObserver(note('view')).observe(document.getElementById('patient-view'),
        { attributes: true, attributeFilter: ['data-status-ts'] });
      new MutationObserver(note('tile')).observe(document.querySelector('.tile[data-patient-id="MRN-7"]'),
        { attributes: true, attributeFilter: ['data-ts'] });
    }""")
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (
                "MRN-7",
                status_message(
                    "MRN-7",
                    format_timestamp(datetime.now(timezone.utc)),
                    ward="5-West",
                    bed="7",
                    heart_rate=131,
                    temperature=39.1,
                    systolic_bp=88,
                    spo2=94,
                ),
            )
        ],
    )
    on_topic = time.time() * 1000
    expect(view.locator('.pv-latest [data-sign="heart_rate"] b')).to_have_text("131", timeout=5_000)
    expect(view.locator('.pv-latest [data-sign="temperature"]')).to_have_text("Temp 39.1 °C")
    expect(view.locator('.pv-latest [data-sign="blood_pressure"]')).to_contain_text("(MAP")
    expect(chart).to_have_attribute("data-rows", "5")
    page.wait_for_function("() => 'tile' in window.__seen && 'view' in window.__seen", timeout=5_000)
    seen = page.evaluate("() => window.__seen")
    assert seen["view"] - seen["tile"] <= 300, f"the view lagged its tile: {seen}"
    assert seen["view"] - on_topic < 3000, f"{seen['view'] - on_topic:.0f} ms from the topic to the view"

    # A clinical event arriving now becomes a mark without reopening the view.
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_CLINICAL_EVENTS"],
        [("MRN-7", {"patient_id": "MRN-7", "ts": at(0), "type": "medication", "drug": "antipyretic"})],
    )
    expect(view.locator('.mark[data-type="medication"] title')).to_contain_text("Antipyretic", timeout=5_000)

    # Acknowledge from the patient view: the Acknowledgement reaches alert-acks, the view says so.
    button = view.locator(f'.pv-alerts .alert[data-episode-id="{episode}"] button.ack')
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, f"touch target {box}"
    tap(button, size)
    [ack] = read_until(kafka.bootstrap, env["CRSMON_TOPIC_ALERT_ACKS"], lambda records: len(records) >= 1, timeout=20)
    assert (ack["episode_id"], ack["by"], ack["patient_id"]) == (episode, "rn-77", "MRN-7")
    expect(view.locator(".pv-alerts .ack-state")).to_contain_text("Acknowledged by rn-77", timeout=5_000)
    expect(chart.locator(".ack-mark title")).to_contain_text("acknowledged by rn-77", timeout=5_000)
    no_horizontal_scrolling(page)
    shot(page, f"patient-view-live-{size}")

    tap(view.locator("#pv-close"), size)
    expect(view).to_be_hidden()
    expect(page.locator(f'#alert-list .alert[data-episode-id="{episode}"]')).to_be_visible()


def test_alerts_and_tiles_fit_the_screen_with_touch_targets_of_44_px(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    long_reasons = [
        "temperature 39.4 °C >= 38.0",
        "systolic BP 84 mmHg < 90 for 10 min",
        "SpO2 91 % on air <= 93",
        "respiratory rate 26 /min >= 25",
        "heart rate 131 /min >= 131",
    ]
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (f"MRN-{n}", status_message(f"MRN-{n}", at(0), ward="Haematology-2", bed=str(n), heart_rate=70 + n))
            for n in range(1, 7)
        ],
    )
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_ALERTS"],
        [
            (
                f"MRN-{n}",
                alert_message(
                    f"MRN-{n}",
                    f"MRN-{n}:crs:{at(n)}",
                    severity=severity,
                    ward="Haematology-2",
                    bed=str(n),
                    emitted_at=at(n),
                    reasons=long_reasons,
                ),
            )
            for n, severity in ((1, "critical"), (2, "high"), (3, "medium"), (4, "low"))
        ],
    )
    dashboard.wait_until_live()
    page = open_ward(browser, dashboard, size)
    expect(page.locator("#alert-list .alert")).to_have_count(4)
    expect(page.locator(".tile")).to_have_count(6)
    width = page.evaluate("() => window.innerWidth")
    no_horizontal_scrolling(page)
    for button in page.locator(".alert button.ack, .alert button.open-course").all():
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"touch target {box}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{box} runs off a {width} px screen"
    for reasons in page.locator(".alert-reasons").all():
        box = reasons.bounding_box()
        assert box["x"] + box["width"] <= width, "the reasons are cut at the right edge"
    if size == "phone":  # one column: every tile and alert card starts at the same left edge
        assert len({round(tile.bounding_box()["x"]) for tile in page.locator(".tile").all()}) == 1
        assert len({round(card.bounding_box()["x"]) for card in page.locator(".alert").all()}) == 1
    tap(page.locator(".alert").first.locator("button.ack"), size)  # no name yet: it says what to do
    expect(page.locator(".alert").first.locator(".ack-error")).to_contain_text("Type your name")
    shot(page, f"ward-{size}")


def a_course_with_labs_and_icans(kafka, env) -> dict:
    """Three hours of MRN-9: creatinine rising 1.0 → 1.6 → 2.1 mg/dL (the first in µmol/L) with
    the worker's AKI stage 2, platelets falling to 40 ×10⁹/L (CTCAE grade 3, with a note), CRP
    falling; an ICE of 10 then 5 (ICANS grade 0, then 2)."""
    labs_at = {"early": at(170), "middle": at(120), "late": at(60)}
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_CLINICAL_EVENTS"],
        [
            (
                "MRN-9",
                {"patient_id": "MRN-9", "ts": labs_at[when], "type": "lab", "test": test, "value": value, "unit": unit},
            )
            for when, test, value, unit in (
                ("early", "creatinine", 88.4, "µmol/L"),
                ("early", "platelets", 90, "10*9/L"),
                ("early", "crp", 15, "mg/dL"),
                ("middle", "creatinine", 1.6, "mg/dL"),
                ("late", "creatinine", 2.1, "mg/dL"),
                ("late", "platelets", 40, "K/uL"),
                ("late", "crp", 120, "mg/L"),
            )
        ]
        + [
            ("MRN-9", {"patient_id": "MRN-9", "ts": at(150), "type": "neuro", "ice": 10, "arousal": "alert"}),
            (
                "MRN-9",
                {"patient_id": "MRN-9", "ts": at(50), "type": "neuro", "ice": 5, "arousal": "voice", "by": "rn-4411"},
            ),
        ],
    )
    statuses = []
    for minutes_ago in range(180, -1, -10):
        status = status_message(
            "MRN-9",
            at(minutes_ago),
            ward="5-West",
            bed="9",
            grade=1,
            fever=True,
            temperature=38.4,
            heart_rate=104,
            systolic_bp=112,
            spo2=96,
            respiratory_rate=18,
        )
        late = minutes_ago <= 60
        if minutes_ago <= 170:
            status["labs"] = {
                "creatinine": {
                    "value": 2.1 if late else 1.6 if minutes_ago <= 120 else 1.0,
                    "unit": "mg/dL",
                    "at": labs_at["late" if late else "middle" if minutes_ago <= 120 else "early"],
                },
                "platelets": {
                    "value": 40.0 if late else 90.0,
                    "unit": "10^9/L",
                    "at": labs_at["late" if late else "early"],
                    **({"grade": 3, "note": "repeat sample"} if late else {"grade": 1}),
                },
                "crp": {"value": 120.0 if late else 150.0, "unit": "mg/L", "at": labs_at["late" if late else "early"]},
            }
            status["kidney"] = {
                "aki_stage": 2 if late else 0,
                "creatinine": status["labs"]["creatinine"]["value"],
                "baseline": 1.0,
            }
        if minutes_ago <= 150:
            status["icans"] = (
                {"grade": 2, "ice": 5, "assessed_at": at(50)}
                if minutes_ago <= 50
                else {"grade": 0, "ice": 10, "assessed_at": at(150)}
            )
        statuses.append(("MRN-9", status))
    produce(kafka.bootstrap, env["CRSMON_TOPIC_PATIENT_STATUS"], statuses)
    return statuses[-1][1]


def test_labs_and_the_icans_grade_reach_the_tile_the_labs_panel_and_the_courses_lanes(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    newest = a_course_with_labs_and_icans(kafka, env)
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [("MRN-2", status_message("MRN-2", at(0), ward="5-West", bed="3"))],
    )
    dashboard.wait_until_live()
    page = open_ward(browser, dashboard, size)
    expect(page.locator(".tile")).to_have_count(2, timeout=20_000)

    # The tile: ICANS beside CRS, and one line of what is abnormal beyond the vital signs
    # (platelets G3 is there; CRP without a grade and an ICANS of 0 would not be).
    tile = page.locator('.tile[data-patient-id="MRN-9"]')
    expect(tile.locator(".icans")).to_be_visible()
    expect(tile.locator(".icans-grade")).to_have_text("2")
    expect(tile.locator(".organ")).to_have_text("AKI stage 2 · Plt G3 · ICANS 2")
    quiet = page.locator('.tile[data-patient-id="MRN-2"]')
    expect(quiet.locator(".icans")).to_be_hidden()  # never assessed: no ICANS badge
    expect(quiet.locator(".organ")).to_be_hidden()
    box = tile.locator(".organ").bounding_box()
    tile_box = tile.bounding_box()
    assert box["y"] + box["height"] <= tile_box["y"] + tile_box["height"], "the organ line is cut off"
    footer = tile.locator(".tile-foot").bounding_box()
    assert footer["y"] + footer["height"] <= tile_box["y"] + tile_box["height"], "the tile's footer is cut off"
    no_horizontal_scrolling(page)

    tap(tile, size)
    view = page.locator("#patient-view")
    expect(view.locator(".pv-scores")).to_contain_text("CRS grade 1 (provisional) · ICANS grade 2 (provisional)")
    labs = view.locator(".pv-labs")
    expect(labs).to_be_visible()
    # In the catalogue's order, with its short names, precision and units.
    expect(labs.locator("tbody tr")).to_have_count(3)
    assert [row.get_attribute("data-test") for row in labs.locator("tbody tr").all()] == [
        "creatinine",
        "platelets",
        "crp",
    ]
    creatinine = labs.locator('tr[data-test="creatinine"]')
    expect(creatinine.locator(".lab-name")).to_have_text("Creat")
    expect(creatinine.locator(".lab-value")).to_have_text("2.10 mg/dL")
    expect(creatinine.locator(".lab-trend")).to_have_text("↑")  # 2.1 after 1.6
    assert "from 1.60 mg/dL" in creatinine.locator(".lab-trend").get_attribute("title")
    platelets = labs.locator('tr[data-test="platelets"]')
    expect(platelets.locator(".lab-value")).to_have_text("40 10^9/L")
    expect(platelets.locator(".lab-trend")).to_have_text("↓")
    expect(platelets.locator(".lab-grade")).to_have_text("G3 · repeat sample")
    crp = labs.locator('tr[data-test="crp"]')
    expect(crp.locator(".lab-value")).to_have_text("120.0 mg/L")
    expect(crp.locator(".lab-trend")).to_have_text("↓")  # 15 mg/dL was 150 mg/L
    expect(crp.locator(".lab-grade")).to_have_text("")

    chart = view.locator("svg.course")
    # The labs lane: one marker per time results came (three samples), details on a tap.
    expect(chart.locator(".lab-mark")).to_have_count(3)
    expect(chart.locator(".lab-mark").first.locator("title")).to_contain_text("Creat 1.00 mg/dL, Plt 90 10^9/L")
    # The ICANS lane: grade 0 then 2, and the two ICE points.
    expect(chart.locator('.band[data-grade="2"][class*="icans-band"]')).to_have_count(1)
    expect(chart.locator('.band[class*="icans-band-0"]')).to_have_count(1)
    expect(chart.locator(".ice-point")).to_have_count(2)
    assert [point.get_attribute("data-ice") for point in chart.locator(".ice-point").all()] == ["10", "5"]
    tap(chart.locator(".ice-point").nth(1).locator(".mark-hit"), size, force=True)
    expect(view.locator(".pv-details h3")).to_have_text("Neurological assessment")
    expect(view.locator(".pv-details li")).to_contain_text("ICE 5/10 · wakes to voice · by rn-4411")
    tap(chart.locator(".lab-mark").last.locator(".mark-hit"), size, force=True)
    expect(view.locator(".pv-details li")).to_contain_text(["Creat 2.10 mg/dL", "Plt 40 10^9/L", "CRP 120.0 mg/L"])
    for target in chart.locator(".lab-mark .mark-hit, .ice-point .mark-hit").all():
        hit = target.bounding_box()
        assert hit["width"] >= 44 and hit["height"] >= (40 if size == "phone" else 24), f"target {hit}"
    no_horizontal_scrolling(page)
    shot(page, f"patient-view-labs-{size}")

    # A new status with a new ICANS grade extends the lane without a new request.
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [
            (
                "MRN-9",
                {
                    **newest,
                    "ts": format_timestamp(datetime.now(timezone.utc)),
                    "icans": {"grade": 3, "ice": 2, "assessed_at": at(0)},
                },
            )
        ],
    )
    expect(chart.locator('.band[class*="icans-band-3"]')).to_have_count(1, timeout=5_000)
    expect(labs.locator("tbody tr")).to_have_count(3)  # the labs stay: the status carries them


def test_m_easix_before_therapy_stands_beside_the_crs_grade_in_words_and_leaves_with_the_patient(
    browser, dashboard: Dashboard, env, kafka, size: str
) -> None:
    """The status's `risk` (m-EASIX from the LDH, CRP and platelets before therapy) is shown as
    what it is, a number with its source, never as a band: the clinical reference gives no cut-off."""
    therapy_at, labs_at = at(2 * 24 * 60), at(2 * 24 * 60 + 6 * 60)
    before_therapy = {"ldh": (480.0, "U/L"), "crp": (24.0, "mg/L"), "platelets": (84.0, "10^9/L")}
    score = m_easix(before_therapy["ldh"][0], before_therapy["crp"][0], before_therapy["platelets"][0])
    assert score is not None
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_CLINICAL_EVENTS"],
        [("MRN-5", {"patient_id": "MRN-5", "ts": therapy_at, "type": "therapy", "therapy": "car-t"})],
    )
    status = status_message(
        "MRN-5",
        at(0),
        ward="5-West",
        bed="5",
        grade=1,
        fever=True,
        temperature=38.3,
        heart_rate=104,
        systolic_bp=112,
        diastolic_bp=68,
        mean_arterial_pressure=83,
        spo2=96,
        respiratory_rate=18,
    )
    status["labs"] = {
        test: {"value": value, "unit": unit, "at": labs_at} for test, (value, unit) in before_therapy.items()
    }
    status["risk"] = {"m_easix": round(score, 2), "at": labs_at}
    produce(
        kafka.bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [("MRN-5", status), ("MRN-6", status_message("MRN-6", at(0), ward="5-West", bed="6"))],
    )
    dashboard.wait_until_live()
    page = open_ward(browser, dashboard, size)
    expect(page.locator(".tile")).to_have_count(2, timeout=20_000)

    tap(page.locator('.tile[data-patient-id="MRN-5"]'), size)
    view = page.locator("#patient-view")
    risk = view.locator(".pv-risk")
    expect(risk).to_be_visible()
    expect(risk.locator("b")).to_have_text(f"m-EASIX {score:.1f}")
    expect(risk).to_contain_text("before therapy (LDH, CRP, platelets, latest ")
    expect(risk).to_contain_text("not an alarm")
    expect(risk).to_have_attribute("data-at", labs_at)
    assert not re.search(r"\b(low|high|medium)\b", risk.inner_text(), re.I), "no band the reference does not give"
    # Beside the CRS grade: between the header's scores and the labs it was computed from.
    scores, labs = view.locator(".pv-scores").bounding_box(), view.locator(".pv-labs").bounding_box()
    box = risk.bounding_box()
    assert scores["y"] + scores["height"] <= box["y"] + 1 and box["y"] + box["height"] <= labs["y"] + 1, (
        scores,
        box,
        labs,
    )
    no_horizontal_scrolling(page)
    shot(page, f"patient-view-risk-{size}")
    if size == "phone":  # the view's head, from the bar to the labs: what docs/dashboard.md shows
        page.screenshot(
            path=str(ARTIFACTS / "patient-view-risk-phone-head.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": SIZES["phone"]["viewport"]["width"], "height": labs["y"] + labs["height"]},
        )

    # Another patient without the three results: no score, and none left over from MRN-5.
    tap(view.locator("#pv-close"), size)
    tap(page.locator('.tile[data-patient-id="MRN-6"]'), size)
    expect(view.locator(".pv-pid")).to_have_text("MRN-6")
    expect(view.locator("svg.course")).to_be_visible()
    expect(risk).to_be_hidden()

    # The score follows the status live, as the labs do: a status that brings one shows it.
    later = {"ldh": (300.0, "U/L"), "crp": (10.0, "mg/L"), "platelets": (150.0, "10^9/L")}
    later_score = m_easix(later["ldh"][0], later["crp"][0], later["platelets"][0])
    assert later_score is not None
    newest = status_message("MRN-6", format_timestamp(datetime.now(timezone.utc)), ward="5-West", bed="6")
    newest["labs"] = {test: {"value": value, "unit": unit, "at": labs_at} for test, (value, unit) in later.items()}
    newest["risk"] = {"m_easix": round(later_score, 2), "at": labs_at}
    produce(kafka.bootstrap, env["CRSMON_TOPIC_PATIENT_STATUS"], [("MRN-6", newest)])
    expect(risk.locator("b")).to_have_text(f"m-EASIX {later_score:.1f}", timeout=5_000)
    expect(risk).to_be_visible()
