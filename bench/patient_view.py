"""The patient view's two numbers, measured: how fast it opens, and what the courses cost in memory.

What it does, in one run:

1. starts a local Kafka broker and fills `patient-status` with 24 hours of per-minute statuses
   of a 200-bed ward (every sign, as the worker publishes them), plus one patient with 14 days
   of per-minute history, a CAR-T therapy 14 days ago, oxygen, tocilizumab and alert episodes;
2. starts `crsmon dashboard` with the defaults (14-day course window) and reads the server's
   resident memory (VmRSS, VmHWM) once it has read that back, against the same server with
   empty topics; and, in this process, the bytes one patient's 24 h course takes (tracemalloc);
3. opens the page in Debian's headless Chromium and times, from the click on a tile to the
   course drawn and painted, opening the 14-day patient at 24 h and over the whole risk period
   (desktop 1920×1080 and phone 390×844), and the HTTP request for the 14 days alone;
4. under a ward's load (every patient's status once a second), times topic → tile (ward view)
   and topic → patient view (the 14-day patient's view open), in the same run.

Memory does not depend on how often statuses come: each patient's course holds one row a minute
(the last value of each sign in that minute), so a 1 Hz ward costs what a per-minute one does;
per-minute history keeps the start-up fill to 288,000 messages.

Run: .venv/bin/python bench/patient_view.py [--patients 200] [--hours 24] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from alerting.dashboard.ward_view import WardView  # noqa: E402
from bench.dashboard_load import Patient, percentile  # noqa: E402
from crsmon.local_kafka import LocalKafka  # noqa: E402
from monitor.wire import PatientStatus, decode_as, format_timestamp  # noqa: E402
from tests.support.dashboard import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TOKEN = "bench-token"
LONG_STAY = "MRN-14DAYS"

# From the click to the course drawn and the frame after it painted.
OPEN = """async ([patientId, span]) => {
  const view = document.getElementById('patient-view');
  const before = Number(view.dataset.drawnAt || 0);
  const t0 = performance.now();
  if (span === 'all') view.querySelector('[data-span="all"]').click();
  else document.querySelector(`.tile[data-patient-id="${patientId}"]`).click();
  await new Promise((resolve) => {
    const check = () => (Number(view.dataset.drawnAt || 0) > Math.max(before, t0) ? resolve() : setTimeout(check, 1));
    check();
  });
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return { ms: performance.now() - t0, rows: Number(view.dataset.rows), drawMs: Number(view.dataset.drawMs),
           fetchMs: Number(view.dataset.fetchMs), drawnMs: Number(view.dataset.drawnAt) - t0 };
}"""

WATCH_VIEW = """() => {
  window.__viewLatencies = [];
  new MutationObserver(() => {
    const ts = document.getElementById('patient-view').dataset.statusTs;
    if (ts) window.__viewLatencies.push(Date.now() - Date.parse(ts));
  }).observe(document.getElementById('patient-view'), { attributes: true, attributeFilter: ['data-status-ts'] });
  window.__tileLatencies = [];
  new MutationObserver((mutations) => {
    const now = Date.now();
    for (const m of mutations) if (m.target.classList.contains('tile')) {
      window.__tileLatencies.push(now - Date.parse(m.target.getAttribute('data-ts')));
    }
  }).observe(document.getElementById('wards'), { subtree: true, attributes: true, attributeFilter: ['data-ts'] });
}"""


class FullPatient(Patient):
    """The load benchmark's patient with every sign the course draws."""

    def status(self, ts: str) -> bytes:
        message = json.loads(super().status(ts))
        systolic = message["latest"]["systolic_bp"]
        message["latest"].update(diastolic_bp=round(systolic * 0.62), mean_arterial_pressure=round(systolic * 0.75))
        return json.dumps(message).encode()


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def start_dashboard(bootstrap: str, topics: dict[str, str], log_name: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, CRSMON_BROKER=bootstrap, CRSMON_DASHBOARD_TOKEN=TOKEN, **topics)
    log = open(log_name, "wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "crsmon"), "dashboard", "--port", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started = time.monotonic()
    while True:
        text = Path(log_name).read_text()
        if "history read" in text and "the ward is at " in text:
            return server, text.split("the ward is at ", 1)[1].split()[0]
        if server.poll() is not None or time.monotonic() - started > 600:
            raise SystemExit(f"the dashboard did not go live:\n{text[-3000:]}")
        time.sleep(0.1)


def make_topics(bootstrap: str, suffix: str) -> dict[str, str]:
    topics = {
        f"CRSMON_TOPIC_{name}": f"bench-pv-{name.lower()}-{suffix}"
        for name in ("PATIENT_STATUS", "ALERTS", "ALERT_ACKS", "CLINICAL_EVENTS")
    }
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(name, 4, 1) for name in topics.values()])
    admin.close()
    return topics


async def fill(
    bootstrap: str, topics: dict[str, str], patients: list[FullPatient], long_stay: FullPatient, hours: float
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1, max_batch_size=262144)
    await producer.start()
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    sent = 0
    status_topic = topics["CRSMON_TOPIC_PATIENT_STATUS"]
    try:
        for minute in range(14 * 24 * 60, 0, -1):
            ts = format_timestamp(now - timedelta(minutes=minute))
            await producer.send(status_topic, long_stay.status(ts), key=long_stay.id.encode())
            sent += 1
            if minute <= hours * 60:
                for patient in patients:
                    await producer.send(status_topic, patient.status(ts), key=patient.id.encode())
                    sent += 1
        events: list[tuple[int, dict[str, Any]]] = [(14 * 24 * 60, {"type": "therapy", "therapy": "car-t"})]
        for day in range(1, 14):
            events.append((day * 24 * 60 - 600, {"type": "oxygen", "device": "nasal_cannula", "flow_l_min": 2}))
            events.append((day * 24 * 60 - 300, {"type": "medication", "drug": "antipyretic"}))
        events.append((9 * 24 * 60, {"type": "medication", "drug": "tocilizumab"}))
        for minutes_ago, fields in events:
            ts = format_timestamp(now - timedelta(minutes=minutes_ago))
            await producer.send(
                topics["CRSMON_TOPIC_CLINICAL_EVENTS"],
                json.dumps({"patient_id": LONG_STAY, "ts": ts, **fields}).encode(),
                key=LONG_STAY.encode(),
            )
        for day in range(1, 14):
            opened = now - timedelta(days=14 - day, hours=-3)
            episode = f"{LONG_STAY}:crs:{format_timestamp(opened)}"
            for status, severity, offset in (
                ("firing", "medium", 0),
                ("updated", "high", 40),
                ("resolved", "high", 300),
            ):
                at = format_timestamp(opened + timedelta(minutes=offset))
                await producer.send(
                    topics["CRSMON_TOPIC_ALERTS"],
                    json.dumps(
                        {
                            "record": "alert",
                            "alert_id": f"{episode}#{status}",
                            "episode_id": episode,
                            "patient_id": LONG_STAY,
                            "ward": long_stay.ward,
                            "bed": long_stay.bed,
                            "status": status,
                            "severity": severity,
                            "rule": "crs",
                            "crs_grade": 1,
                            "news2_score": 5,
                            "reasons": ["temperature 38.4 °C >= 38.0"],
                            "observed_at": at,
                            "emitted_at": at,
                        }
                    ).encode(),
                    key=LONG_STAY.encode(),
                )
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def live(bootstrap: str, topic: str, patients: list[FullPatient], seconds: float) -> int:
    """Every patient once a second, spread over the second, stamped when handed to Kafka."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
    await producer.start()
    loop = asyncio.get_running_loop()
    sent = 0
    try:
        end = loop.time() + seconds
        gap = 1.0 / len(patients)
        while loop.time() < end:
            for patient in patients:
                ts = format_timestamp(datetime.now(timezone.utc))
                await producer.send(topic, patient.status(ts), key=patient.id.encode())
                sent += 1
                await asyncio.sleep(gap)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def course_bytes_per_patient(hours: float) -> tuple[float, float]:
    """tracemalloc: what one patient's course (and its tile history) holds after `hours` of
    per-minute statuses, in this process."""
    rng = random.Random(3)
    patients = [FullPatient(index, rng) for index in range(20)]
    start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    statuses: list[PatientStatus] = []
    for minute in range(int(hours * 60)):
        ts = format_timestamp(start + timedelta(minutes=minute))
        statuses.extend(decode_as(PatientStatus, patient.status(ts)) for patient in patients)
    gc.collect()
    tracemalloc.start()
    view = WardView(timedelta(hours=6))
    before = tracemalloc.get_traced_memory()[0]
    for status in statuses:
        view.apply_status(status)
    view.take_delta()
    del statuses
    gc.collect()
    total = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return total / len(patients), view.courses.nbytes / len(patients)


async def run(args: argparse.Namespace) -> None:
    per_patient, rows_per_patient = course_bytes_per_patient(args.hours)
    print(
        f"in-process (tracemalloc): one patient's {args.hours:g} h of per-minute statuses cost "
        f"{per_patient / 1024:.0f} KB in the dashboard's view (tile + course + latest status), of which "
        f"the course's minute rows {rows_per_patient / 1024:.0f} KB"
    )

    broker = LocalKafka(heap="512m")
    broker.start()
    bootstrap = broker.bootstrap
    servers = []
    try:
        empty = make_topics(bootstrap, f"empty{int(time.time())}")
        server, _ = start_dashboard(bootstrap, empty, tempfile.mktemp(prefix="crsmon-pv-empty-", suffix=".log"))
        time.sleep(2)
        baseline = memory_kb(server.pid)
        server.terminate()
        server.wait(10)
        print(f"dashboard with empty topics: VmRSS {baseline['VmRSS'] / 1024:.0f} MB")

        topics = make_topics(bootstrap, f"{int(time.time())}")
        rng = random.Random(7)
        patients = [FullPatient(index, rng) for index in range(args.patients)]
        long_stay = FullPatient(args.patients, rng)
        long_stay.id = LONG_STAY
        started = time.monotonic()
        sent = await fill(bootstrap, topics, patients, long_stay, args.hours)
        print(
            f"history: {sent} statuses ({args.patients} patients × {args.hours:g} h and {LONG_STAY} × 14 days, "
            f"one a minute) produced in {time.monotonic() - started:.0f} s"
        )
        started = time.monotonic()
        log_name = tempfile.mktemp(prefix="crsmon-pv-", suffix=".log")
        server, url = start_dashboard(bootstrap, topics, log_name)
        servers.append(server)
        print(f"dashboard: read it back and went live in {time.monotonic() - started:.1f} s")
        time.sleep(3)
        filled = memory_kb(server.pid)
        print(
            f"dashboard memory, {args.patients} beds × {args.hours:g} h + one × 14 days: VmRSS "
            f"{filled['VmRSS'] / 1024:.0f} MB (peak VmHWM {filled['VmHWM'] / 1024:.0f} MB; "
            f"{(filled['VmRSS'] - baseline['VmRSS']) / 1024:.0f} MB above the empty server)"
        )

        request = urllib.request.Request(
            f"{url}api/patients/{LONG_STAY}/course?hours=all", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        timings = []
        for _ in range(5):
            began = time.monotonic()
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
            timings.append((time.monotonic() - began) * 1000)
        rows = len(json.loads(body)["minutes"])
        print(
            f"GET course?hours=all of {LONG_STAY}: {rows} rows, {len(body) / 1024:.0f} KB, "
            f"median {percentile(timings, 0.5):.0f} ms, max {max(timings):.0f} ms (5 requests)"
        )

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, options in (
                ("desktop 1920×1080", {"viewport": {"width": 1920, "height": 1080}}),
                (
                    "phone 390×844",
                    {
                        "viewport": {"width": 390, "height": 844},
                        "is_mobile": True,
                        "has_touch": True,
                        "device_scale_factor": 2,
                    },
                ),
            ):
                context = await browser.new_context(bypass_csp=True, **options)
                page = await context.new_page()
                await page.goto(f"{url}?token={TOKEN}")
                await page.wait_for_function(
                    f"document.querySelectorAll('.tile').length >= {args.patients}", timeout=60_000
                )
                if args.style:
                    await page.add_style_tag(content=args.style)
                await asyncio.sleep(1)
                results: dict[str, list[dict[str, Any]]] = {"24": [], "all": []}
                for _ in range(args.repeat):
                    for span in ("24", "all"):
                        results[span].append(await page.evaluate(OPEN, [LONG_STAY, span]))
                    await page.evaluate("() => document.getElementById('pv-close').click()")
                    await asyncio.sleep(0.3)
                for span, label in (("24", "24 h"), ("all", "risk period (14 days)")):
                    ms = [item["ms"] for item in results[span]]
                    draw = [item["drawMs"] for item in results[span]]
                    got = [item["fetchMs"] for item in results[span]]
                    drawn_at = [item["drawnMs"] for item in results[span]]
                    print(
                        f"open {LONG_STAY} at {label}, {name}: {results[span][0]['rows']} rows, click → painted "
                        f"median {percentile(ms, 0.5):.0f} ms, max {max(ms):.0f} ms; of which fetching and parsing "
                        f"median {percentile(got, 0.5):.0f} ms, drawing the SVG {percentile(draw, 0.5):.0f} ms, "
                        f"drawn {percentile(drawn_at, 0.5):.0f} ms after the click ({len(ms)} opens)"
                    )
                if name.startswith("desktop"):
                    await page.evaluate(WATCH_VIEW)
                    ward = asyncio.create_task(
                        live(bootstrap, topics["CRSMON_TOPIC_PATIENT_STATUS"], [*patients, long_stay], args.seconds)
                    )
                    await ward
                    tiles = await page.evaluate("window.__tileLatencies")
                    await page.evaluate(f"() => {{ location.hash = 'patient={LONG_STAY}&span=24'; }}")
                    await asyncio.sleep(2)
                    await page.evaluate("() => { window.__viewLatencies = []; }")
                    ward = asyncio.create_task(
                        live(bootstrap, topics["CRSMON_TOPIC_PATIENT_STATUS"], [*patients, long_stay], args.seconds)
                    )
                    sent = await ward
                    views = await page.evaluate("window.__viewLatencies")
                    draw_ms = float(await page.evaluate("document.getElementById('patient-view').dataset.drawMs"))
                    print(f"under load ({sent / args.seconds:.0f} statuses/s, every patient at 1 Hz):")
                    print(
                        f"  topic → tile in the DOM (ward view): {len(tiles)} updates, p50 "
                        f"{percentile(tiles, 0.5):.0f} ms, p95 {percentile(tiles, 0.95):.0f} ms, "
                        f"max {max(tiles, default=float('nan')):.0f} ms"
                    )
                    print(
                        f"  topic → patient view redrawn ({LONG_STAY}, 24 h, {draw_ms:.0f} ms a redraw): "
                        f"{len(views)} updates, p50 {percentile(views, 0.5):.0f} ms, "
                        f"p95 {percentile(views, 0.95):.0f} ms, "
                        f"max {max(views, default=float('nan')):.0f} ms"
                    )
                await context.close()
            await browser.close()
        after = memory_kb(server.pid)
        print(
            f"dashboard memory at the end: VmRSS {after['VmRSS'] / 1024:.0f} MB, "
            f"peak VmHWM {after['VmHWM'] / 1024:.0f} MB"
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        broker.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--hours", type=float, default=24, help="hours of per-minute history per bed")
    parser.add_argument("--seconds", type=float, default=15, help="length of each load phase")
    parser.add_argument("--repeat", type=int, default=5, help="opens per span and size")
    parser.add_argument("--style", help="CSS added to the page (to find what its drawing costs)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
