"""The bedside ICE form's round trip, measured: submit on the phone → the worker's status back in
the patient view (issue 21: ≤ 2 s at p95 on this machine).

What it does, in one run:

1. starts a local Kafka broker (or uses `--broker`), a `crsmon worker` and a `crsmon dashboard`
   on topics of their own, as a user would start them;
2. publishes one status per patient as an earlier worker would, so that the dashboard shows
   each patient and opens its view;
3. in Debian's headless Chromium at a phone's size (390 × 844, touch), for each of N patients:
   opens the patient view, taps the five ICE tasks and the findings, then times from the tap on
   "Chart assessment" to
   - `answered`: the dashboard's 202 (Kafka has the `neuro` event),
   - `on course`: the ICE point drawn on the course's ICANS lane (the dashboard read the event
     back), and
   - `status`: the view drawing a status of that patient from the worker whose time is the
     assessment's or later — the round trip the issue asks for.

One patient per submit, each the worker's first event of its patient: the engine answers every
assessment with a status (its `icans` part changes), the first as any other, so the path
measured (form → dashboard → Kafka → worker → Kafka → dashboard → view) is every assessment's.

Run: .venv/bin/python bench/ice_round_trip.py [--rounds 20] [--broker HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kafka.admin import KafkaAdminClient, NewTopic
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.dashboard_load import percentile  # noqa: E402
from crsmon.local_kafka import LocalKafka, free_port  # noqa: E402
from monitor.wire import format_timestamp  # noqa: E402
from tests.support.dashboard import Dashboard, dashboard_env, launch_chromium, status_message  # noqa: E402
from tests.support.kafka_io import produce  # noqa: E402
from tests.support.processes import Service  # noqa: E402

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TOPICS = ("VITALS", "CLINICAL_EVENTS", "PATIENT_STATUS", "ALERTS", "ALERT_ACKS", "DEAD_LETTERS")

# From the tap on "Chart assessment" to: the server's answer, the ICE point on the course, and a
# status of the worker at or after the assessment's time drawn in the view.
ROUND_TRIP = """async () => {
  const form = document.querySelector('.ice-form');
  const view = document.getElementById('patient-view');
  delete form.dataset.submittedTs;
  const began = performance.now();
  const times = {};
  document.querySelector('.ice-submit').click();
  while (performance.now() - began < 30000) {
    const now = performance.now() - began;
    const submitted = form.dataset.submittedTs;
    if (submitted && times.answered === undefined) times.answered = now;
    if (times.course === undefined && view.querySelector('.pv-chart .ice-point')) times.course = now;
    if (times.status === undefined && submitted && Date.parse(view.dataset.statusTs) >= Date.parse(submitted)) {
      times.status = now;
    }
    if (times.status !== undefined && times.course !== undefined) return times;
    const error = form.querySelector('.ice-error').textContent;
    if (error) return { error };
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  return { ...times, error: 'timed out after 30 s' };
}"""


def environment(bootstrap: str, suffix: str, data_dir: Path) -> dict[str, str]:
    """One environment for both processes: the dashboard's, plus the worker's own settings."""
    env = dashboard_env(bootstrap, suffix)
    env.update(
        {
            "CRSMON_APP_ID": f"crsmon-ice-bench-{suffix}",
            "CRSMON_DATA_DIR": str(data_dir),
            "CRSMON_WEB_PORT": str(free_port()),
            "CRSMON_TOPIC_VITALS": f"vitals-{suffix}",
            "CRSMON_TOPIC_DEAD_LETTERS": f"dead-letters-{suffix}",
        }
    )
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(env[f"CRSMON_TOPIC_{name}"], 4, 1) for name in TOPICS])
    finally:
        admin.close()
    return env


def fill(page, value_of: dict[str, str]) -> None:
    for field, value in value_of.items():
        page.locator(f'.ice-group[data-field="{field}"] input[value="{value}"] + span').tap()


def measure(bootstrap: str, rounds: int, workdir: Path) -> list[dict]:
    suffix = f"{int(time.time())}"
    env = environment(bootstrap, suffix, workdir / "worker")
    patients = [f"BENCH-ICE-{n:03d}" for n in range(rounds)]
    earlier = format_timestamp(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5))
    produce(
        bootstrap,
        env["CRSMON_TOPIC_PATIENT_STATUS"],
        [(pid, status_message(pid, earlier, bed=str(n + 1))) for n, pid in enumerate(patients)],
    )
    worker = Service(["worker"], env, workdir / "worker.log")
    dashboard = Dashboard(env, workdir / "dashboard.log", free_port())
    results = []
    try:
        worker.wait_for_output("Ready", timeout=180)
        dashboard.wait_until_live()
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_context(**PHONE).new_page()
            page.goto(dashboard.link)
            page.locator("#connection").filter(has_text="Live").wait_for(timeout=30_000)
            page.fill("#who", "rn-bench")
            for n, patient in enumerate(patients):
                page.evaluate("id => { location.hash = `patient=${encodeURIComponent(id)}&span=24`; }", patient)
                page.locator(".pv-chart svg").wait_for(timeout=10_000)
                fill(
                    page,
                    {
                        "orientation": str(4 - n % 3),
                        "naming": "3",
                        "commands": "1",
                        "writing": str(n % 2),
                        "attention": "1",
                        "arousal": "alert",
                        "seizure": "none",
                        "motor": "none",
                        "cerebral_edema": "none",
                    },
                )
                times = page.evaluate(ROUND_TRIP)
                if "error" in times:
                    raise SystemExit(
                        f"round {n} ({patient}) failed: {times['error']}\n"
                        f"worker log: {worker.log}\ndashboard log: {dashboard.log}"
                    )
                results.append(times)
                print(
                    f"  {patient}: answered {times['answered']:.0f} ms, on course {times['course']:.0f} ms, "
                    f"worker's status {times['status']:.0f} ms",
                    flush=True,
                )
            browser.close()
    finally:
        dashboard.stop()
        worker.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="submits, one patient each")
    parser.add_argument("--broker", help="an existing broker (default: start a local one)")
    args = parser.parse_args()
    broker = None
    bootstrap = args.broker
    if bootstrap is None:
        broker = LocalKafka(heap="512m")
        broker.start()
        bootstrap = broker.bootstrap
    try:
        with tempfile.TemporaryDirectory(prefix="crsmon-ice-bench-") as workdir:
            results = measure(bootstrap, args.rounds, Path(workdir))
    finally:
        if broker is not None:
            broker.remove()
    summary = {}
    for key, words in (
        ("answered", "submit → dashboard's 202 (Kafka has it)"),
        ("course", "submit → ICE point on the course"),
        ("status", "submit → worker's status in the view (target p95 ≤ 2000 ms)"),
    ):
        values = [result[key] for result in results]
        summary[key] = {
            "p50_ms": round(percentile(values, 0.50)),
            "p95_ms": round(percentile(values, 0.95)),
            "max_ms": round(max(values)),
        }
        print(
            f"{words}: p50 {summary[key]['p50_ms']} ms, p95 {summary[key]['p95_ms']} ms, "
            f"max {summary[key]['max_ms']} ms over {len(values)} submits"
        )
    print(json.dumps({"rounds": len(results), "cores": os.cpu_count(), **summary}))


if __name__ == "__main__":
    main()
