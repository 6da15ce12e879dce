"""Taking notifications to one receiver over HTTP: timeouts, retries, Retry-After, 410.

Each receiver has its own queue, its own workers and its own connection pool, so a receiver
that is slow, down or answering 500s only ever delays its own pages. Within one receiver,
pages of the same episode go out one after the other (a PagerDuty `resolve` must not overtake
its `trigger`); pages of different episodes go out in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import aiohttp

from alerting.dispatch.config import DeliverySettings
from alerting.dispatch.episodes import PageOrder
from alerting.dispatch.metrics import DispatchMetrics
from alerting.dispatch.retry_policy import Attempt, judge, next_delay, retry_after_seconds
from alerting.dispatch.signing import signed_headers

log = logging.getLogger("crsmon.dispatch")

DELIVERED = "delivered"
DEAD_LETTERED = "dead_lettered"


@dataclass(eq=False)
class Notification:
    """One request's worth of pages to one receiver, with its attempt history."""

    receiver: str
    notification_id: str
    orders: list[PageOrder]
    body: bytes
    headers: dict[str, str]
    since: float  # the alert on the topic, or the page falling due: latency starts here
    holds: list[Any] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)

    @property
    def order_key(self) -> str | None:
        episodes = {order.alert.episode_id for order in self.orders}
        return episodes.pop() if len(episodes) == 1 else None

    @property
    def page_ids(self) -> list[str]:
        return [order.page_id for order in self.orders]


Finish = Callable[[Notification, str, str | None], Awaitable[None]]
Failed = Callable[[Notification], None]


def _result_label(status: int | None, error: str | None) -> str:
    if status is None:
        return "timeout" if error and error.startswith("timed out") else "connection_error"
    if status in (410, 429):
        return str(status)
    return f"{status // 100}xx"


class ReceiverChannel:
    """The queue and workers of one receiver."""

    def __init__(
        self,
        name: str,
        url: str,
        keys: list[bytes],
        extra_headers: dict[str, str],
        settings: DeliverySettings,
        metrics: DispatchMetrics,
        finish: Finish,
        failed: Failed,
        disabled_reason: str | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.keys = keys
        self.extra_headers = extra_headers
        self.settings = settings
        self.metrics = metrics
        self._finish = finish
        self._failed = failed
        self.disabled_reason = disabled_reason
        self.on_disable: Callable[[str], None] | None = None
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        self._chains: dict[str, deque[Notification]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._workers: list[asyncio.Task] = []
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self._busy = 0
        metrics.disabled.labels(name).set(1 if disabled_reason else 0)
        metrics.retry_queue.labels(name).set(0)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.settings.concurrency, limit_per_host=self.settings.concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
        )
        self._workers = [
            asyncio.create_task(self._work(), name=f"deliver-{self.name}-{index}")
            for index in range(self.settings.concurrency)
        ]

    async def stop(self, grace: float = 5.0) -> None:
        """Stop sending: requests under way get `grace` seconds to be answered (so that a
        clean stop sends nothing twice); what has no outcome then stays pending in the ledger
        for the next start."""
        self._closing = True
        for timer in self._timers:
            timer.cancel()
        deadline = time.monotonic() + grace
        while self._busy and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def submit(self, notification: Notification) -> None:
        self.metrics.labelled(self.metrics.in_flight, self.name).inc()
        key = notification.order_key
        if key is not None:
            if key in self._chains:
                self._chains[key].append(notification)
                return
            self._chains[key] = deque()
        self._queue.put_nowait(notification)

    async def _work(self) -> None:
        while True:
            notification = await self._queue.get()
            if self._closing:
                continue  # stays pending in the ledger
            self._busy += 1
            try:
                await self._attempt(notification)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not kill the worker and strand the queue
                log.exception("receiver %s: unexpected error delivering %s", self.name, notification.notification_id)
                await self._done(notification, DEAD_LETTERED, "internal error while delivering; see the dispatcher log")
            finally:
                self._busy -= 1

    async def _attempt(self, notification: Notification) -> None:
        if self.disabled_reason is not None:
            await self._done(notification, DEAD_LETTERED, self.disabled_reason)
            return
        assert self._session is not None
        headers = {
            **notification.headers,
            **self.extra_headers,
            **signed_headers(self.keys, notification.notification_id, notification.body),
        }
        started_at, started = time.time(), time.monotonic()
        status = retry_after = error = None
        try:
            async with self._session.post(
                self.url,
                data=notification.body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                await response.read()
        except asyncio.TimeoutError:
            error = f"timed out after {self.settings.timeout:g} s"
        except aiohttp.ClientError as problem:
            error = f"{type(problem).__name__}: {problem}"
        attempt = Attempt(started_at, round(time.monotonic() - started, 4), status, error)
        notification.attempts.append(attempt.as_dict())
        self.metrics.labelled(self.metrics.attempts, self.name, _result_label(status, error)).inc()
        verdict = judge(status)
        if verdict == "delivered":
            await self._done(notification, DELIVERED, None)
        elif verdict == "gone":
            self._disable(
                f"endpoint disabled: {self.url} answered 410 Gone at "
                f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started_at))}"
            )
            await self._done(notification, DEAD_LETTERED, self.disabled_reason)
        elif verdict == "rejected":
            await self._done(notification, DEAD_LETTERED, f"rejected with HTTP {status}; a 4xx is not retried")
        elif len(notification.attempts) >= self.settings.max_attempts:
            await self._done(
                notification,
                DEAD_LETTERED,
                f"gave up after {len(notification.attempts)} attempts; last: {status or error}",
            )
        else:
            delay = next_delay(len(notification.attempts), self.settings, retry_after_seconds(retry_after, time.time()))
            self._failed(notification)
            self._retry_later(notification, delay)

    def _retry_later(self, notification: Notification, delay: float) -> None:
        loop = asyncio.get_running_loop()
        gauge = self.metrics.retry_queue.labels(self.name)
        gauge.inc()

        def ready() -> None:
            self._timers.discard(timer)
            gauge.dec()
            self._queue.put_nowait(notification)

        timer = loop.call_later(delay, ready)
        self._timers.add(timer)

    def _disable(self, reason: str) -> None:
        if self.disabled_reason is None:
            self.disabled_reason = reason
            self.metrics.disabled.labels(self.name).set(1)
            log.error(
                "receiver %s DISABLED: %s. Every page for it now goes to the dead-letter "
                "topic. Fix the endpoint, then change its url in the configuration (a new "
                "url is a new endpoint) and restart the dispatcher.",
                self.name,
                reason,
            )
            if self.on_disable is not None:
                self.on_disable(reason)

    async def _done(self, notification: Notification, outcome: str, reason: str | None) -> None:
        await self._finish(notification, outcome, reason)
        self.metrics.labelled(self.metrics.in_flight, self.name).dec()
        key = notification.order_key
        if key is not None and key in self._chains:
            waiting = self._chains[key]
            if waiting:
                self._queue.put_nowait(waiting.popleft())
            else:
                del self._chains[key]
