"""Is the ward dashboard smooth with 200 patients updating every second? Measured in real Chromium.

What it does, in one run:

1. starts a local Kafka broker (or uses --broker) and fills `patient-status` with six hours of
   per-minute history for every patient, as a ward that has been monitored all day;
2. starts `crsmon dashboard` as a user would and times how long it takes to read that back;
3. opens the page in Debian's headless Chromium and records, for an idle phase (the baseline)
   and a load phase (every patient's status once a second, spread over the second as
   unsynchronised monitors send them):
   - frames (requestAnimationFrame intervals) and long tasks (PerformanceObserver, > 50 ms),
   - main-thread time spent in script, style and layout (Chrome DevTools Protocol metrics),
   - topic-to-DOM latency: from the moment a status was handed to Kafka to the moment its tile's
     `data-ts` attribute changed (a MutationObserver), against the same latency to a plain
     Kafka consumer in this process, which is the floor no dashboard can beat;
   - the dashboard server's CPU use.

Run: .venv/bin/python bench/dashboard_load.py [--patients 200] [--seconds 30] [--viewport 1920x1080]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crsmon.local_kafka import LocalKafka  # noqa: E402
from monitor.wire import format_timestamp  # noqa: E402
from tests.support.dashboard import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

WARDS = ("4-East", "5-West", "6-North", "7-South", "ICU")
PLAUSIBLE = {
    "heart_rate": (45, 150),
    "systolic_bp": (75, 180),
    "temperature": (35.5, 40.5),
    "spo2": (85, 100),
    "respiratory_rate": (8, 35),
}

# Installed before the page's own scripts: everything the page does is observed, nothing in the
# page is changed for the benchmark.
INSTRUMENT = """
window.__bench = { recording: false, frames: [], longTasks: [], latencies: [] };
new PerformanceObserver((list) => {
  if (!window.__bench.recording) return;
  for (const entry of list.getEntries()) window.__bench.longTasks.push(entry.duration);
}).observe({ type: 'longtask', buffered: false });
window.__bench.loafs = [];
new PerformanceObserver((list) => {
  if (!window.__bench.recording) return;
  for (const e of list.getEntries()) {
    if (e.duration < 50) continue;
    window.__bench.loafs.push({ duration: e.duration, blocking: e.blockingDuration,
      render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
      styleLayout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
      scripts: e.scripts.map((s) => `${s.invoker} ${Math.round(s.duration)}ms`) });
  }
}).observe({ type: 'long-animation-frame', buffered: false });
const frame = (now) => { if (window.__bench.recording) window.__bench.frames.push(now); requestAnimationFrame(frame); };
requestAnimationFrame(frame);
new MutationObserver((mutations) => {
  if (!window.__bench.recording) return;
  const now = Date.now();
  for (const mutation of mutations) {
    const ts = mutation.target.getAttribute('data-ts');
    if (ts) window.__bench.latencies.push(now - Date.parse(ts));
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ts'] });
"""


class Patient:
    """Signs that wander around a baseline, so tiles and sparklines really change every second.

    The scores are rough stand-ins computed here (the dashboard only shows what it is sent);
    they only need to look like a ward, not to be NEWS2 or ASTCT.
    """

    def __init__(self, index: int, rng: random.Random) -> None:
        self.id = f"MRN-{100200 + index:06d}"
        self.ward = WARDS[index % len(WARDS)]
        self.bed = str(index // len(WARDS) + 1)
        self.baseline = {
            "heart_rate": rng.uniform(60, 100),
            "systolic_bp": rng.uniform(100, 140),
            "temperature": rng.uniform(36.4, 37.6),
            "spo2": rng.uniform(94, 99),
            "respiratory_rate": rng.uniform(12, 20),
        }
        self.signs = dict(self.baseline)
        self.rng = rng

    def fall_ill(self, **signs: float) -> None:
        self.baseline.update(signs)
        self.signs.update(signs)

    def status(self, ts: str) -> bytes:
        for name, step in (
            ("heart_rate", 2.0),
            ("systolic_bp", 2.0),
            ("temperature", 0.05),
            ("spo2", 0.5),
            ("respiratory_rate", 0.5),
        ):
            low, high = PLAUSIBLE[name]
            pulled = self.signs[name] + 0.05 * (self.baseline[name] - self.signs[name])
            self.signs[name] = min(high, max(low, pulled + self.rng.uniform(-step, step)))
        signs = self.signs
        latest = {name: round(value, 1) for name, value in signs.items()}
        fever, hypotension, hypoxia = signs["temperature"] >= 38, signs["systolic_bp"] < 90, signs["spo2"] < 92
        score = (
            int(signs["heart_rate"] > 110) * 2
            + int(signs["heart_rate"] > 90)
            + int(signs["temperature"] > 38)
            + int(signs["temperature"] > 39)
            + int(signs["systolic_bp"] < 100)
            + int(signs["systolic_bp"] < 90) * 2
            + int(signs["spo2"] < 96)
            + int(signs["spo2"] < 94)
            + int(signs["spo2"] < 92)
            + int(signs["respiratory_rate"] > 20) * 2
        )
        band = "low" if score <= 4 else "medium" if score <= 6 else "high"
        grade = 0 if not fever else 1 + int(hypotension or hypoxia) + int(hypotension and hypoxia)
        return json.dumps(
            {
                "record": "status",
                "patient_id": self.id,
                "ward": self.ward,
                "bed": self.bed,
                "ts": ts,
                "news2": {"score": score, "band": band, "complete": True, "components": {}},
                "shock_index": round(signs["heart_rate"] / signs["systolic_bp"], 2),
                "crs": {
                    "grade": grade,
                    "fever": fever,
                    "hypotension": hypotension,
                    "hypoxia": hypoxia,
                    "risk_period": True,
                },
                "latest": latest,
            }
        ).encode()


#: Alerts shaped as the worker's, one of each severity and then again, so the alert list is as
#: busy as a bad night's.
ALERTS = [
    (
        "critical",
        "crs",
        3,
        11,
        ["temperature 39.6 °C >= 38.0", "systolic BP 80 mmHg < 90 for 10 min", "SpO2 89 % < 92 % on oxygen"],
    ),
    ("high", "crs", 2, 7, ["temperature 38.9 °C >= 38.0", "systolic BP 86 mmHg < 90 for 10 min"]),
    ("medium", "news2", None, 5, ["NEWS2 5: respiratory rate 23/min, heart rate 104/min"]),
    ("low", "signal_loss", None, None, ["no SpO2 for 5 min (probe off?)"]),
]
#: What each alerted patient's signs settle around, so tile and alert tell the same story.
ILL = [
    {"temperature": 39.6, "heart_rate": 126, "systolic_bp": 80, "spo2": 89, "respiratory_rate": 26},
    {"temperature": 38.9, "heart_rate": 112, "systolic_bp": 86, "spo2": 95, "respiratory_rate": 20},
    {"temperature": 37.6, "heart_rate": 104, "systolic_bp": 108, "spo2": 95, "respiratory_rate": 23},
    {},
]


def alert(patient: Patient, number: int, ts: str) -> bytes:
    severity, rule, grade, news2, reasons = ALERTS[number % len(ALERTS)]
    return json.dumps(
        {
            "record": "alert",
            "alert_id": f"{patient.id}-{number}",
            "episode_id": f"{patient.id}:{rule}:{ts}",
            "patient_id": patient.id,
            "ward": patient.ward,
            "bed": patient.bed,
            "status": "firing",
            "severity": severity,
            "rule": rule,
            "crs_grade": grade,
            "news2_score": news2,
            "reasons": reasons,
            "observed_at": ts,
            "emitted_at": ts,
        }
    ).encode()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def fill_history(producer: AIOKafkaProducer, topic: str, patients: list[Patient], minutes: int) -> int:
    now = datetime.now(timezone.utc)
    sent = 0
    for minute in range(minutes, 0, -1):
        ts = format_timestamp(now - timedelta(minutes=minute))
        for patient in patients:
            await producer.send(topic, patient.status(ts), key=patient.id.encode())
            sent += 1
    await producer.flush()
    return sent


async def measure_kafka_floor(bootstrap: str, topic: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """Produce-to-consume latency to a plain consumer: what the dashboard adds is on top of it."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest", fetch_max_wait_ms=100
    )
    await consumer.start()
    try:
        await consumer.seek_to_end()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batch.values():
                for record in records:
                    sent = json.loads(record.value)["ts"]
                    latencies.append((now - datetime.fromisoformat(sent.replace("Z", "+00:00")).timestamp()) * 1000)
    finally:
        await consumer.stop()


async def produce_live(producer: AIOKafkaProducer, topic: str, patients: list[Patient], seconds: float) -> int:
    """Every patient once a second, one message every 1/len(patients) s."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / len(patients)
    start = loop.time()
    sent = 0
    while loop.time() - start < seconds:
        patient = patients[sent % len(patients)]
        ts = format_timestamp(datetime.now(timezone.utc))
        await producer.send(topic, patient.status(ts), key=patient.id.encode())
        sent += 1
        delay = start + sent * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    await producer.flush()
    return sent


async def chromium_cpu(browser_cdp) -> dict[str, float]:
    """CPU seconds used so far by Chromium's processes, by type (renderer, gpu, browser…).

    CPU time, unlike frame timing, does not grow when other programs take the cores: on a
    shared 2-core machine it is the figure to compare between runs.
    """
    info = await browser_cdp.send("SystemInfo.getProcessInfo")
    used: dict[str, float] = {}
    for process in info["processInfo"]:
        used[process["type"]] = used.get(process["type"], 0.0) + process["cpuTime"]
    return used


async def page_phase(page, cdp, browser_cdp, seconds: float, during=None) -> dict:
    """Record frames, long tasks, latencies and main-thread time for `seconds` (or `during`)."""
    await page.evaluate(
        "window.__bench.frames = []; window.__bench.longTasks = []; "
        "window.__bench.latencies = []; window.__bench.recording = true"
    )
    cpu_before = await chromium_cpu(browser_cdp)
    before = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    started = time.monotonic()
    if during is not None:
        await during
    else:
        await asyncio.sleep(seconds)
    await asyncio.sleep(1.0)  # let the last statuses reach the page
    elapsed = time.monotonic() - started
    after = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    cpu_after = await chromium_cpu(browser_cdp)
    cpu = {kind: (cpu_after[kind] - cpu_before.get(kind, 0.0)) / elapsed * 100 for kind in cpu_after}
    recorded = await page.evaluate("window.__bench.recording = false; window.__bench")
    frames = recorded["frames"]
    intervals = [b - a for a, b in zip(frames, frames[1:])]
    main_thread = {
        name: (after.get(name, 0) - before.get(name, 0)) / elapsed * 100
        for name in ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration")
    }
    return {
        "elapsed": elapsed,
        "intervals": intervals,
        "long_tasks": recorded["longTasks"],
        "latencies": recorded["latencies"],
        "main_thread": main_thread,
        "cpu": cpu,
    }


def print_hot_functions(profile: dict, top: int = 15) -> None:
    """Self time per function from a CPU profile of the page's main thread."""
    interval_ms = (profile["endTime"] - profile["startTime"]) / 1000 / max(1, len(profile["samples"]))
    self_ms: dict[str, float] = {}
    for node in profile["nodes"]:
        frame = node["callFrame"]
        name = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber']}"
        self_ms[name] = self_ms.get(name, 0) + node.get("hitCount", 0) * interval_ms
    for name, ms in sorted(self_ms.items(), key=lambda item: -item[1])[:top]:
        print(f"  {ms:8.0f} ms  {name}")


def describe_page(name: str, phase: dict) -> list[str]:
    intervals = phase["intervals"]
    fps = len(intervals) / phase["elapsed"] if intervals else 0
    janky = sum(1 for interval in intervals if interval > 50)
    long_tasks = phase["long_tasks"]
    main = phase["main_thread"]
    return [
        f"  {name}: {fps:5.1f} frames/s, frame interval p50 {percentile(intervals, 0.5):5.1f} ms "
        f"p99 {percentile(intervals, 0.99):6.1f} ms max {max(intervals, default=float('nan')):6.1f} ms, "
        f"{janky} frames > 50 ms",
        f"  {name}: {len(long_tasks)} long tasks (total {sum(long_tasks):.0f} ms, "
        f"longest {max(long_tasks, default=0):.0f} ms); main thread busy {main['TaskDuration']:.1f} % "
        f"(script {main['ScriptDuration']:.1f} %, style {main['RecalcStyleDuration']:.1f} %, "
        f"layout {main['LayoutDuration']:.1f} %)",
        f"  {name}: Chromium CPU "
        + ", ".join(f"{kind} {share:.1f} %" for kind, share in sorted(phase["cpu"].items(), key=lambda item: -item[1]))
        + " of a core",
    ]


async def run(args: argparse.Namespace) -> None:
    broker = None
    bootstrap = args.broker
    if bootstrap is None:
        broker = LocalKafka(heap="512m")
        broker.start()
        bootstrap = broker.bootstrap
    suffix = f"{int(time.time())}"
    topics = {
        "CRSMON_TOPIC_PATIENT_STATUS": f"bench-status-{suffix}",
        "CRSMON_TOPIC_ALERTS": f"bench-alerts-{suffix}",
        "CRSMON_TOPIC_ALERT_ACKS": f"bench-acks-{suffix}",
    }
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(name, 4, 1) for name in topics.values()])
    admin.close()
    status_topic = topics["CRSMON_TOPIC_PATIENT_STATUS"]

    rng = random.Random(7)
    patients = [Patient(index, rng) for index in range(args.patients)]
    alerted = patients[len(WARDS) :: 5 * len(WARDS)][:6]  # in the first ward, so they show on screen
    for number, patient in enumerate(alerted):
        patient.fall_ill(**ILL[number % len(ILL)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2, acks=1)
    await producer.start()
    started = time.monotonic()
    filled = await fill_history(producer, status_topic, patients, args.history_minutes)
    print(
        f"history: {filled} statuses ({args.patients} patients × {args.history_minutes} min) "
        f"produced in {time.monotonic() - started:.1f} s"
    )
    now = format_timestamp(datetime.now(timezone.utc))
    for number, patient in enumerate(alerted):
        await producer.send(topics["CRSMON_TOPIC_ALERTS"], alert(patient, number, now), key=patient.id.encode())
    await producer.flush()

    token = "bench-token"
    env = dict(
        os.environ,
        CRSMON_BROKER=bootstrap,
        CRSMON_DASHBOARD_TOKEN=token,
        CRSMON_DASHBOARD_FLUSH_MS=str(args.flush_ms),
        **topics,
    )
    log = tempfile.NamedTemporaryFile(prefix="crsmon-dashboard-bench-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "crsmon"), "dashboard", "--port", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        url = None
        while url is None:
            text = Path(log.name).read_text()
            if "the ward is at " in text:
                url = text.split("the ward is at ", 1)[1].split()[0]
            elif server.poll() is not None or time.monotonic() - started > 60:
                raise SystemExit(f"the dashboard did not start:\n{text}")
            await asyncio.sleep(0.05)
        while "history read" not in Path(log.name).read_text():
            if time.monotonic() - started > 300:
                raise SystemExit("the dashboard did not read its history within 300 s")
            await asyncio.sleep(0.1)
        print(
            f"dashboard: read {filled} statuses of history and went live in "
            f"{time.monotonic() - started:.1f} s (server start included)"
        )

        width, height = (int(part) for part in args.viewport.split("x"))
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # The page forbids eval (CSP); Playwright's wait_for_function needs it, the page does not.
            context = await browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
            page = await context.new_page()
            await page.add_init_script(INSTRUMENT)
            cdp = await page.context.new_cdp_session(page)
            browser_cdp = await browser.new_browser_cdp_session()
            await cdp.send("Performance.enable")
            started = time.monotonic()
            await page.goto(f"{url}?token={token}")
            await page.wait_for_function(
                f"document.querySelectorAll('.tile').length === {args.patients}", timeout=60_000
            )
            print(
                f"page: snapshot of {args.patients} tiles with full sparklines drawn "
                f"{(time.monotonic() - started) * 1000:.0f} ms after navigation "
                f"(viewport {args.viewport})"
            )
            await asyncio.sleep(2)

            cpu_before = cpu_seconds(server.pid)
            idle = await page_phase(page, cdp, browser_cdp, args.seconds)
            idle_cpu = (cpu_seconds(server.pid) - cpu_before) / idle["elapsed"] * 100

            floor: list[float] = []
            stop = asyncio.Event()
            floor_task = asyncio.create_task(measure_kafka_floor(bootstrap, status_topic, stop, floor))
            await asyncio.sleep(1)
            cpu_before = cpu_seconds(server.pid)
            if args.debug:
                await cdp.send("Profiler.enable")
                await cdp.send("Profiler.start")
            live = asyncio.create_task(produce_live(producer, status_topic, patients, args.seconds))
            loaded = await page_phase(page, cdp, browser_cdp, args.seconds, during=live)
            load_cpu = (cpu_seconds(server.pid) - cpu_before) / loaded["elapsed"] * 100
            stop.set()
            await floor_task
            sent = live.result()
            if args.debug:
                print_hot_functions((await cdp.send("Profiler.stop"))["profile"])
                print(json.dumps(await page.evaluate("window.__bench.loafs"), indent=1)[:3000])
            if args.screenshot:
                await page.screenshot(path=args.screenshot)
            await browser.close()
    finally:
        server.terminate()
        server.wait(10)
        await producer.stop()
        if broker is not None:
            broker.remove()

    latencies = loaded["latencies"]
    print(
        f"\nload: {sent} statuses in {args.seconds:.0f} s ({sent / args.seconds:.0f}/s, "
        f"{args.patients} patients × 1 Hz), flush every {args.flush_ms} ms"
    )
    print("page (Chromium " + CHROMIUM + ", headless):")
    for line in describe_page("idle (baseline)", idle) + describe_page("under load     ", loaded):
        print(line)
    print(
        f"latency, status handed to Kafka -> tile attribute changed in the DOM: "
        f"{len(latencies)} tile updates, p50 {percentile(latencies, 0.5):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, "
        f"max {max(latencies, default=float('nan')):.0f} ms"
    )
    print(
        f"latency, status handed to Kafka -> plain consumer (the floor): {len(floor)} messages, "
        f"p50 {percentile(floor, 0.5):.0f} ms, p95 {percentile(floor, 0.95):.0f} ms, "
        f"p99 {percentile(floor, 0.99):.0f} ms"
    )
    if floor and latencies:
        print(
            f"dashboard's own share of the median latency: "
            f"{statistics.median(latencies) - statistics.median(floor):.0f} ms "
            f"(half the flush interval is {args.flush_ms / 2:.0f} ms)"
        )
    print(
        f"dashboard server CPU: idle {idle_cpu:.1f} % of a core, under load {load_cpu:.1f} % "
        f"(ratio {load_cpu / max(idle_cpu, 0.1):.1f}×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--history-minutes", type=int, default=360)
    parser.add_argument("--flush-ms", type=int, default=250)
    parser.add_argument(
        "--viewport", default="1920x1080", help="e.g. 3840x4000 to have every tile on screen at once (the worst case)"
    )
    parser.add_argument("--broker", help="use this broker instead of starting one")
    parser.add_argument("--debug", action="store_true", help="print the long animation frames seen under load")
    parser.add_argument("--screenshot", help="save a screenshot of the page under load here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
