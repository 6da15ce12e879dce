"""Real HTTP receivers on 127.0.0.1 that fail in scripted ways, and the dispatcher run in a
thread of the test process; both usable from plain synchronous tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import orjson
from aiohttp import web

from alerting.dispatch.config import DispatchConfig
from alerting.dispatch.config_file import parse_config
from alerting.dispatch.service import Dispatcher

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW_SECRET = "whsec_bmV3IHNlY3JldCBmb3Igcm90YXRpb24tdGVzdHM="


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        return orjson.loads(self.body)


Script = Callable[[int, "Received"], Reply]


def always(status: int = 200, delay: float = 0.0, **headers: str) -> Script:
    return lambda number, request: Reply(status, delay, headers)


def first_then(replies: list[Reply], then: Reply = Reply()) -> Script:
    """The given replies to the first requests (counted per webhook-id), then `then`."""

    def script(number: int, request: Received) -> Reply:
        return replies[number] if number < len(replies) else then

    return script


class ScriptedReceiver:
    """An aiohttp server in its own thread; `script(n, request)` answers the n-th request
    (0-based) carrying the same webhook-id. It can go down and come back on the same port."""

    def __init__(self, script: Script = always(200)) -> None:
        self.script = script
        self.received: list[Received] = []
        self._per_id: Counter[str] = Counter()
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.come_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/pages"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            number = self._per_id[headers.get("webhook-id", "")]
            self._per_id[headers.get("webhook-id", "")] += 1
        reply = self.script(number, Received(time.time(), request.path, headers, body, 0))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        with self._lock:
            self.received.append(Received(time.time(), request.path, headers, body, reply.status))
        return web.Response(status=reply.status, headers=reply.headers, text="scripted")

    def _call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def come_up(self) -> None:
        async def start() -> web.AppRunner:
            app = web.Application()
            app.router.add_route("POST", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True).start()
            return runner

        self._runner = self._call(start())

    def go_down(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
            self._runner = None

    def close(self) -> None:
        self.go_down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # -- what arrived --------------------------------------------------------------------
    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def accepted(self) -> list[Received]:
        """Requests answered 2xx: the pages this receiver took."""
        return [r for r in self.snapshot() if 200 <= r.status < 300]

    def accepted_ids(self) -> Counter[str]:
        return Counter(r.id for r in self.accepted())

    def wait_until(
        self,
        condition: Callable[["ScriptedReceiver"], bool],
        timeout: float = 20.0,
        what: str = "condition",
        quiet_for: float = 0.0,
    ) -> None:
        """Until `condition` holds and, with `quiet_for`, no request has arrived for that long
        (so that what a test asserts next includes anything that was still on its way: a
        duplicate, a repeat, a page that should not have come). Bounded by `timeout`."""
        deadline = time.monotonic() + timeout
        seen, last_new = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.snapshot())
            if count != seen:
                seen, last_new = count, time.monotonic()
            if condition(self) and time.monotonic() - last_new >= quiet_for:
                return
            time.sleep(0.02)
        raise AssertionError(
            f"{what} not met in {timeout:.0f} s; received {[(r.id, r.status) for r in self.snapshot()]}"[:3000]
        )


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Until `condition()` holds; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met in {timeout:.0f} s")
        time.sleep(0.02)


class DispatcherThread:
    """A Dispatcher running in its own event loop thread; stop() shuts it down cleanly."""

    def __init__(self, config: DispatchConfig) -> None:
        self.dispatcher = Dispatcher(config)
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()
        self._thread.start()
        if not self._ready.wait(60):
            raise AssertionError("the dispatcher did not start within 60 s")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            task = asyncio.create_task(self.dispatcher.run(self._stop))
            started = asyncio.create_task(self.dispatcher.started.wait())
            await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
            self._ready.set()
            await task

        try:
            self._loop.run_until_complete(main())
        except BaseException as error:  # surfaced by stop() or the constructor
            self._error = error
            self._ready.set()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.dispatcher.http_port}"

    def metric(self, name: str, **labels: str) -> float:
        value = self.dispatcher.metrics.registry.get_sample_value(name, labels)
        return value or 0.0

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._error is not None:
            raise self._error


def dispatch_config(
    kafka: str, unique: str, tmp: Path, receivers: str, routes: str, extra: str = "", delivery: str = ""
) -> DispatchConfig:
    """A test configuration: unique topics and group, short timings, a ledger in `tmp`."""
    return parse_config(
        f"""
receivers:
{receivers}
{routes}
delivery: {{timeout: 1s, max_attempts: 5, backoff_initial: 50ms, backoff_max: 400ms, concurrency: 8 {delivery}}}
kafka:
  bootstrap: "{kafka}"
  group_id: dispatch-{unique}
  topics: {{alerts: alerts-{unique}, alert_acks: alert-acks-{unique}, dead_letters: dead-letters-{unique}}}
http: {{port: 0, token: token-{unique}}}
state_path: {tmp}/ledger-{unique}.sqlite3
timings: {{tick: 50ms, commit_interval: 50ms, quiet_recheck: 200ms}}
{extra}
""",
        "test-config",
    )


def alert(
    patient: str,
    *,
    episode: str | None = None,
    status: str = "firing",
    severity: str = "high",
    rule: str = "crs",
    ward: str = "5-West",
    change: int = 1,
) -> dict:
    """An Alert as the worker publishes it; the alert_id names the episode and the change."""
    episode = episode or f"{patient}:{rule}:2026-11-23T17:42:00Z"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "record": "alert",
        "alert_id": f"{episode}#{change}",
        "episode_id": episode,
        "patient_id": patient,
        "ward": ward,
        "bed": "12",
        "status": status,
        "severity": severity,
        "rule": rule,
        "crs_grade": 2,
        "news2_score": 6,
        "reasons": ["temperature 38.9 °C >= 38.0"],
        "observed_at": now,
        "emitted_at": now,
    }
