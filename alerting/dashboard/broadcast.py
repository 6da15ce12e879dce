"""Fan-out of the ward's changes to every connected browser, as Server-Sent Events.

With 200 patients updating every second, sending each status as it arrives would wake every
browser 200 times a second. Instead changes collect in the view and go out together every
flush interval (250 ms by default): one encoded delta per flush, shared by all browsers, with
each patient at most once in it.

A browser that cannot keep up is disconnected rather than buffered without bound; its
EventSource reconnects and the fresh snapshot resynchronises it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

import orjson

from alerting.dashboard import metrics
from alerting.dashboard.follower import FeedState
from alerting.dashboard.ward_view import WardView

log = logging.getLogger("crsmon.dashboard.broadcast")

MAX_QUEUED_EVENTS = 40  # ten seconds of deltas at the default flush interval
HEARTBEAT_INTERVAL_S = 5.0
RECONNECT_DELAY_MS = 1000
ORPHAN_ACK_CHECK_S = 60.0


def server_sent_event(event: str, data: Any) -> bytes:
    """One SSE frame. orjson never emits a newline, so the data fits on one `data:` line."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Browser:
    """One connected event stream: a bounded queue of encoded frames."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.dropped = False

    def send(self, frame: bytes) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= MAX_QUEUED_EVENTS:
            self.dropped = True
            metrics.BROWSERS_DROPPED.inc()
            self.queue.put_nowait(None)  # tells the stream handler to end the response
            return
        self.queue.put_nowait(frame)


class Broadcaster:
    """Owns the flush cadence: deltas, feed state changes and heartbeats to every browser."""

    def __init__(self, view: WardView, flush_interval_s: float) -> None:
        self.view = view
        self.flush_interval_s = flush_interval_s
        self.browsers: set[Browser] = set()
        self.feed = FeedState()
        self.server_id = uuid.uuid4().hex  # lets a page tell a restarted server from a reconnect
        self._sequence = 0

    def connect(self) -> Browser:
        """A new browser gets the retry hint, the feed state and a snapshot before any delta.

        Nothing here awaits, so no flush can slip between the snapshot and the registration:
        every later change reaches this browser as a delta.
        """
        browser = Browser()
        browser.send(f"retry: {RECONNECT_DELAY_MS}\n\n".encode())
        browser.send(server_sent_event("state", self._state()))
        snapshot = self.view.snapshot()
        snapshot.update(server_id=self.server_id, sequence=self._sequence)
        browser.send(server_sent_event("snapshot", snapshot))
        self.browsers.add(browser)
        metrics.BROWSERS_CONNECTED.set(len(self.browsers))
        return browser

    def disconnect(self, browser: Browser) -> None:
        self.browsers.discard(browser)
        metrics.BROWSERS_CONNECTED.set(len(self.browsers))

    def feed_changed(self, state: FeedState) -> None:
        self.feed = state
        self._send_all(server_sent_event("state", self._state()))

    async def run(self) -> None:
        """Flush until cancelled."""
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + HEARTBEAT_INTERVAL_S
        next_ack_check = loop.time() + ORPHAN_ACK_CHECK_S
        while True:
            await asyncio.sleep(self.flush_interval_s)
            self.flush()
            now = loop.time()
            if now >= next_heartbeat:
                self._send_all(server_sent_event("heartbeat", self._state()))
                next_heartbeat = now + HEARTBEAT_INTERVAL_S
            if now >= next_ack_check and self.feed.caught_up:
                self.view.forget_orphan_acks(datetime.now(timezone.utc) - self.view.history)
                next_ack_check = now + ORPHAN_ACK_CHECK_S

    def flush(self) -> None:
        delta = self.view.take_delta()
        if delta is None:
            return
        self._sequence += 1
        delta["sequence"] = self._sequence
        self._send_all(server_sent_event("delta", delta))

    def _state(self) -> dict[str, Any]:
        return {"server_id": self.server_id, **self.feed.describe()}

    def _send_all(self, frame: bytes) -> None:
        for browser in list(self.browsers):
            browser.send(frame)
            if browser.dropped:
                self.disconnect(browser)
                log.info("a browser fell %d events behind and was disconnected to resync", MAX_QUEUED_EVENTS)
