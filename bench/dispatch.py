"""Benchmark of `crsmon dispatch`: notifications per second to a healthy local receiver, and the
p99 from an alert on the topic to its webhook being received (group_wait 0).

Baseline in the same run: a bare forwarder (an aiokafka consumer in a process of its own that
POSTs each message with the same concurrency and does nothing else: no ledger, no signature,
no retries) against the same receiver, alternating with the dispatcher. The ratio is what the
dispatcher's guarantees cost on this machine.

    .venv/bin/python bench/dispatch.py [--count 20000] [--rate 200] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402

from crsmon.local_kafka import LocalKafka, free_port  # noqa: E402

SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLWNyc21vbi1kaXNwYXRjaA=="
CONCURRENCY = 32


# -- the receiver: its own process, records when each webhook-id arrived -------------------------


def serve_receiver(port: int) -> None:
    arrivals: dict[str, float] = {}

    async def page(request: web.Request) -> web.Response:
        await request.read()
        arrivals.setdefault(request.headers.get("webhook-id", ""), time.time())
        return web.Response(text="ok")

    async def dump(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def reset(request: web.Request) -> web.Response:
        arrivals.clear()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/pages", page)
    app.router.add_get("/arrivals", dump)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def arrivals(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/arrivals", timeout=30) as response:
        return json.loads(response.read())


def reset(port: int) -> None:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/reset", method="POST"), timeout=10).read()


def wait_for(port: int, count: int, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = arrivals(port)
        if len(got) >= count:
            return got
        time.sleep(0.25)
    raise SystemExit(f"only {len(arrivals(port))} of {count} pages arrived in {timeout:.0f} s")


# -- load ------------------------------------------------------------------------------------


def alert(n: int, tag: str) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    episode = f"MRN-{n % 5000}:crs:{tag}-{n}"
    return {
        "record": "alert",
        "alert_id": f"{tag}-{n}",
        "episode_id": episode,
        "patient_id": f"MRN-{n % 5000}",
        "ward": "5-West",
        "bed": str(n % 30),
        "status": "firing",
        "severity": "high",
        "rule": "crs",
        "crs_grade": 2,
        "news2_score": 6,
        "reasons": ["temperature 38.9 °C >= 38.0"],
        "observed_at": now,
        "emitted_at": now,
    }


async def produce_backlog(bootstrap: str, topic: str, count: int, tag: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        batch = []
        for n in range(count):
            body = alert(n, tag)
            batch.append(await producer.send(topic, json.dumps(body).encode(), key=body["patient_id"].encode()))
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def produce_steadily(bootstrap: str, topic: str, rate: float, seconds: float, tag: str) -> dict[str, float]:
    """Alerts at `rate` per second; returns when each was acknowledged by the broker (on the topic)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks="all")
    await producer.start()
    on_topic: dict[str, float] = {}
    try:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < seconds:
            body = alert(n, tag)
            await producer.send_and_wait(topic, json.dumps(body).encode(), key=body["patient_id"].encode())
            on_topic[body["alert_id"]] = time.time()
            n += 1
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
    finally:
        await producer.stop()
    return on_topic


# -- the baseline: a bare forwarder ----------------------------------------------------------------


async def bare_forwarder(bootstrap: str, topic: str, url: str, stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"bare-{topic}", auto_offset_reset="earliest"
    )
    await consumer.start()
    queue: asyncio.Queue = asyncio.Queue(maxsize=CONCURRENCY * 4)
    async with ClientSession(connector=TCPConnector(limit=CONCURRENCY)) as session:

        async def post() -> None:
            while True:
                record = await queue.get()
                alert_id = json.loads(record.value)["alert_id"]
                async with session.post(url, data=record.value, headers={"webhook-id": alert_id}) as response:
                    await response.read()

        workers = [asyncio.create_task(post()) for _ in range(CONCURRENCY)]
        try:
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    for record in records:
                        await queue.put(record)
        finally:
            for worker in workers:
                worker.cancel()
            await consumer.stop()


# -- measuring -------------------------------------------------------------------------------------


def throughput(got: dict[str, float]) -> float:
    """Pages per second from the first page received to the last (start-up not counted)."""
    return (len(got) - 1) / (max(got.values()) - min(got.values()))


def p99_ms(on_topic: dict[str, float], got: dict[str, float]) -> tuple[float, float]:
    latencies = sorted((got[i] - t) * 1000 for i, t in on_topic.items() if i in got)
    missing = len(on_topic) - len(latencies)
    if missing:
        raise SystemExit(f"{missing} of {len(on_topic)} timed pages never arrived")
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]


def run_bare_forwarder(bootstrap: str, topic: str, url: str) -> None:
    """The baseline in a process of its own, as the dispatcher is; SIGTERM stops it."""

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await bare_forwarder(bootstrap, topic, url, stop)

    asyncio.run(main())


def measure(
    command: list[str], bootstrap: str, receiver: int, topic: str, count: int, rate: float, seconds: float, log: Path
) -> tuple:
    """Notifications/s draining a backlog of `count`, then latency at a steady `rate`."""
    asyncio.run(produce_backlog(bootstrap, topic, count, "backlog"))
    reset(receiver)
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            got = wait_for(receiver, count, timeout=max(120.0, count / 100))
            rate_found = throughput(got)
            on_topic = asyncio.run(produce_steadily(bootstrap, topic, rate, seconds, "timed"))
            time.sleep(1.0)
            latency = p99_ms(on_topic, arrivals(receiver))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
    return rate_found, latency


def measure_bare(
    bootstrap: str, receiver: int, count: int, rate: float, seconds: float, work: Path, round_: int
) -> tuple:
    topic = f"bench-bare-{round_}"
    command = [sys.executable, __file__, "--bare", bootstrap, topic, f"http://127.0.0.1:{receiver}/pages"]
    return measure(command, bootstrap, receiver, topic, count, rate, seconds, work / f"bare-{round_}.log")


def measure_dispatcher(
    bootstrap: str, receiver: int, count: int, rate: float, seconds: float, work: Path, round_: int
) -> tuple:
    config = work / f"dispatch-{round_}.yaml"
    topic = f"bench-alerts-{round_}"
    config.write_text(f"""
receivers:
  ward: {{type: webhook, url: "http://127.0.0.1:{receiver}/pages", secrets: [{SECRET}]}}
default_route: {{receivers: [ward], group_wait: 0s, repeat_interval: null}}
delivery: {{concurrency: {CONCURRENCY}}}
kafka: {{bootstrap: "{bootstrap}", group_id: bench-dispatch-{round_},
        topics: {{alerts: {topic}, alert_acks: bench-acks, dead_letters: bench-dead-letters}}}}
http: {{port: 0}}
state_path: {work}/ledger-{round_}.sqlite3
""")
    command = [str(REPO / ".venv" / "bin" / "crsmon"), "dispatch", "--config", str(config)]
    return measure(command, bootstrap, receiver, topic, count, rate, seconds, work / f"dispatch-{round_}.log")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="backlog size for notifications/s")
    parser.add_argument("--rate", type=float, default=200, help="alerts/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=10, help="length of the latency phase")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate baseline and dispatcher this many times (the machine is shared)",
    )
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        serve_receiver(args.receiver)
        return 0
    if args.bare:
        run_bare_forwarder(*args.bare)
        return 0
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # fresh topics: leader elections
    port = free_port()
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)], start_new_session=True)
    try:
        with LocalKafka() as kafka, tempfile.TemporaryDirectory(prefix="crsmon-bench-") as work:
            deadline = time.monotonic() + 20
            while True:
                try:
                    reset(port)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            print(
                f"machine: {os.cpu_count()} cores; backlog {args.count} alerts; latency phase "
                f"{args.rate:g} alerts/s for {args.seconds:g} s; receiver concurrency {CONCURRENCY}"
            )
            bare, dispatch = [], []
            for round_ in range(args.rounds):
                bare_rate, (bare_p50, bare_p99) = measure_bare(
                    kafka.bootstrap, port, args.count, args.rate, args.seconds, Path(work), round_
                )
                rate, (p50, p99) = measure_dispatcher(
                    kafka.bootstrap, port, args.count, args.rate, args.seconds, Path(work), round_
                )
                bare.append((bare_rate, bare_p99))
                dispatch.append((rate, p99))
                print(
                    f"round {round_ + 1} bare forwarder (baseline): {bare_rate:6.0f} notifications/s   "
                    f"alert on topic -> received p50 {bare_p50:6.1f} ms  p99 {bare_p99:6.1f} ms"
                )
                print(
                    f"round {round_ + 1} crsmon dispatch:           {rate:6.0f} notifications/s   "
                    f"alert on topic -> received p50 {p50:6.1f} ms  p99 {p99:6.1f} ms",
                    flush=True,
                )
            rate, p99 = median([r for r, _ in dispatch]), median([p for _, p in dispatch])
            bare_rate, bare_p99 = median([r for r, _ in bare]), median([p for _, p in bare])
            print(
                f"median of {args.rounds}: crsmon dispatch {rate:.0f} notifications/s, p99 {p99:.1f} ms; "
                f"baseline {bare_rate:.0f} notifications/s, p99 {bare_p99:.1f} ms"
            )
            print(f"dispatch / baseline: throughput {rate / bare_rate:.2f}x, p99 {p99 / bare_p99:.2f}x")
            print(
                f"targets: >= 2000 notifications/s: {'met' if rate >= 2000 else 'NOT met'}; "
                f"p99 <= 200 ms: {'met' if p99 <= 200 else 'NOT met'}"
            )
    finally:
        os.killpg(receiver.pid, signal.SIGTERM)
        receiver.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
