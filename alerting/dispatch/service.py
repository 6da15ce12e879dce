"""The dispatcher as a running service: Kafka in, pages out, books kept in between.

Three loops share one event loop. The consumer applies each alert and acknowledgement to the
`Pager` and hands the page orders to the receivers' channels; the ticker asks the pager what
has fallen due (batches closing, escalations, repeats, quiet ending); the committer makes the
ledger durable and only then commits the Kafka offsets of messages whose pages all have an
outcome. A restart therefore re-reads exactly the messages that might not have been paged,
and the ledger tells which of their pages already went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from alerting.dispatch import payloads
from alerting.dispatch.config import DispatchConfig
from alerting.dispatch.dead_letters import undelivered_page
from alerting.dispatch.delivery import DEAD_LETTERED, DELIVERED, Notification, ReceiverChannel
from alerting.dispatch.episodes import PageOrder, with_origins
from alerting.dispatch.grouping import combine
from alerting.dispatch.http_api import build_app, serve
from alerting.dispatch.ledger import PENDING, Ledger
from alerting.dispatch.metrics import DispatchMetrics
from alerting.dispatch.offsets import Hold, OffsetTracker
from alerting.dispatch.pager import Pager, ack_id_for
from kafka_client.security import kafka_client_options_from_env
from monitor.wire import (
    Acknowledgement,
    Alert,
    InvalidMessage,
    dead_letter,
    decode_acknowledgement,
    decode_as,
    encode,
)

log = logging.getLogger("crsmon.dispatch")

#: Messages consumed but not fully paged before consumption pauses: a memory bound for a long
#: outage of every receiver at once. Pages already taken on keep being retried meanwhile.
MAX_HELD_MESSAGES = 50_000


class Dispatcher:
    def __init__(self, config: DispatchConfig) -> None:
        self.config = config
        self.topics = config.kafka.topics
        self.metrics = DispatchMetrics()
        self.ledger: Ledger | None = None
        self.pager = Pager(config)
        self.tracker = OffsetTracker()
        self.channels: dict[str, ReceiverChannel] = {}
        self.in_flight: dict[tuple[str, str], Notification] = {}
        self.http_port: int | None = None
        self.started = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._batching = {name for name, receiver in config.receivers.items() if payloads.batches(receiver)}

    # -- life cycle ----------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, then leave the books and offsets consistent."""
        self._security = kafka_client_options_from_env()  # TLS/SASL, as for every Kafka client
        now = time.time()
        self.ledger = Ledger(self.config.state_path, self.config.durability)
        self.ledger.prune(now - self.config.timings.retention)
        self.pager.load(self.ledger.tracks(), self.ledger.acks(), now)
        await self._ensure_topics()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.config.kafka.bootstrap,
            acks="all",
            linger_ms=2,
            enable_idempotence=True,
            **self._security,
        )
        await self._producer.start()
        runner = None
        try:
            await self._start_channels()
            self._resume_pending()
            self._deliver(self.pager.due(time.time()), time.time())
            runner = await self._start_http()
            self._consumer = AIOKafkaConsumer(
                self.topics.alerts,
                self.topics.alert_acks,
                bootstrap_servers=self.config.kafka.bootstrap,
                group_id=self.config.kafka.group_id,
                enable_auto_commit=False,
                auto_offset_reset=self.config.kafka.start_from,
                max_poll_records=1000,
                group_instance_id=self.config.kafka.instance_id,
                session_timeout_ms=int(self.config.kafka.session_timeout * 1000),
                **self._security,
            )
            self._consumer.subscribe([self.topics.alerts, self.topics.alert_acks], listener=_Rebalance(self))
            await self._consumer.start()
            log.info(
                "dispatching %s and %s from %s to %d receivers",
                self.topics.alerts,
                self.topics.alert_acks,
                self.config.kafka.bootstrap,
                len(self.channels),
            )
            self.started.set()
            loops = [asyncio.create_task(loop()) for loop in (self._consume, self._tick, self._commit_loop)]
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([stopping, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in [*loops, stopping]:
                task.cancel()
            await asyncio.gather(*loops, stopping, return_exceptions=True)
            for ended in done:
                if ended is not stopping and (error := ended.exception()) is not None:
                    raise error
        finally:
            await self._shutdown(runner)

    async def _shutdown(self, runner: Any) -> None:
        grace = min(5.0, self.config.delivery.timeout)
        await asyncio.gather(*(channel.stop(grace) for channel in self.channels.values()))
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._commit()
            await self._consumer.stop()
        if runner is not None:
            await runner.cleanup()
        if self._producer is not None:
            await self._producer.stop()
        if self.ledger is not None:
            self._persist_pager()
            self.ledger.close()

    async def _ensure_topics(self) -> None:
        """Create the topics this dispatcher reads and writes when they are missing, so that
        a fresh installation does not wait minutes for a metadata refresh."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.kafka.bootstrap, **self._security)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [
                name
                for name in (self.topics.alerts, self.topics.alert_acks, self.topics.dead_letters)
                if name not in existing
            ]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(name, 4, 1) for name in missing])
        finally:
            await admin.close()

    async def _start_channels(self) -> None:
        assert self.ledger is not None
        disabled = self.ledger.disabled()
        for name, receiver in self.config.receivers.items():
            channel = ReceiverChannel(
                name,
                receiver.url,
                receiver.signing_keys(),
                receiver.headers,
                self.config.delivery_for(name),
                self.metrics,
                self._finish,
                self._failed_attempt,
                disabled_reason=disabled.get((name, receiver.url)),
            )
            channel.on_disable = lambda reason, name=name, url=receiver.url: self.ledger.disable(
                name, url, reason, time.time()
            )
            if channel.disabled_reason:
                log.error("receiver %s is DISABLED since an earlier run: %s", name, channel.disabled_reason)
            await channel.start()
            self.channels[name] = channel

    def _resume_pending(self) -> None:
        """Pages that had no outcome when the last dispatcher stopped go out again, under
        their old ids and with their attempt history."""
        assert self.ledger is not None
        grouped: dict[tuple[str, str], Notification] = {}
        for pending in self.ledger.pending():
            key = (pending.receiver, pending.notification_id)
            if key not in grouped:
                grouped[key] = Notification(
                    pending.receiver,
                    pending.notification_id,
                    [],
                    b"",
                    {},
                    since=pending.created_at,
                    attempts=pending.attempts,
                )
            grouped[key].orders.append(pending.order)
        for notification in grouped.values():
            self._start_notification(notification)
        if grouped:
            log.info("resumed %d notifications that had no outcome yet", len(grouped))

    async def _start_http(self) -> Any:
        settings = self.config.http
        app = build_app(
            settings.ack_token(), self._publish_ack, self.pager.episode_patient, self.metrics.exposition, self._health
        )
        runner, self.http_port = await serve(app, settings.host, settings.port)
        log.info("ack endpoint and /metrics on http://%s:%d", settings.host, self.http_port)
        return runner

    def _health(self) -> dict:
        return {
            "status": "ok",
            "in_flight": len(self.in_flight),
            "disabled": {
                name: channel.disabled_reason for name, channel in self.channels.items() if channel.disabled_reason
            },
        }

    async def _publish_ack(self, ack: Acknowledgement) -> None:
        assert self._producer is not None
        await self._producer.send_and_wait(self.topics.alert_acks, encode(ack), key=ack.patient_id.encode())

    # -- consuming -----------------------------------------------------------------------
    async def _consume(self) -> None:
        assert self._consumer is not None
        while True:
            if self.tracker.held() > MAX_HELD_MESSAGES:
                await asyncio.sleep(0.1)
                continue
            batch = await self._consumer.getmany(timeout_ms=100, max_records=1000)
            for partition, records in batch.items():
                for record in records:
                    hold = self.tracker.open(partition, record.offset)
                    try:
                        await self._handle(record, hold)
                    finally:
                        hold.release()

    async def _handle(self, record: Any, hold: Hold) -> None:
        assert self.ledger is not None
        self.metrics.labelled(self.metrics.consumed, record.topic).inc()
        now = time.time()
        try:
            if record.value is None:
                raise InvalidMessage("empty message (no value)", "not_json")
            if record.topic == self.topics.alert_acks:
                message: Alert | Acknowledgement = decode_acknowledgement(record.value)
            else:
                message = decode_as(Alert, record.value)
        except InvalidMessage as error:
            self.metrics.rejected.labels(record.topic, error.kind).inc()
            await self._dead_letter(
                record.key, dead_letter(record.topic, record.partition, record.offset, error.reason, record.value)
            )
            return
        message_id = message.alert_id if isinstance(message, Alert) else "ack~" + ack_id_for(message)
        if self.ledger.was_applied(message_id):
            self._wait_for_pages_of(message_id, hold)
            return
        if isinstance(message, Alert):
            orders = self.pager.on_alert(message, now, origin=hold)
            since = record.timestamp / 1000 if record.timestamp and record.timestamp > 0 else now
        else:
            orders = self._held_by(self.pager.on_ack(message, now), hold)
            since = now
        self.ledger.mark_applied(message_id, now)
        self._deliver(orders, since, first_time=True)

    def _wait_for_pages_of(self, message_id: str, hold: Hold) -> None:
        """A message applied before a restart: its offset waits for its pages still in flight."""
        for receiver in self.config.receivers:
            notification = self.in_flight.get((receiver, message_id))
            if notification is not None:
                hold.acquire()
                notification.holds.append(hold)

    @staticmethod
    def _held_by(orders: list[PageOrder], hold: Hold) -> list[PageOrder]:
        for _ in orders:
            hold.acquire()
        return [with_origins(order, (hold,)) for order in orders]

    # -- paging --------------------------------------------------------------------------
    def _deliver(self, orders: list[PageOrder], since: float, first_time: bool = False) -> None:
        """Turn page orders into notifications, skipping pages already sent or in flight.

        `first_time`: the orders come from a message applied just now, so none of their pages
        can be on the books yet and the lookup is skipped (it is the hot path)."""
        self._note_pager_events()
        if not orders:
            return
        assert self.ledger is not None
        for receiver, group in combine(orders, self.pager.routes, self._batching):
            fresh = []
            for order in group:
                known = self.in_flight.get((receiver, order.page_id))
                if known is not None:
                    for origin in order.origins:
                        origin.acquire()
                        known.holds.append(origin)
                elif not first_time and self.ledger.page_state(receiver, order.page_id) not in (None, PENDING):
                    self.metrics.notifications.labels(receiver, "duplicate").inc()
                else:
                    fresh.append(order)
            if fresh:
                notification = Notification(receiver, payloads.notification_id(fresh), fresh, b"", {}, since)
                for order in fresh:
                    for origin in order.origins:
                        origin.acquire()
                        notification.holds.append(origin)
                self.ledger.add_pending(receiver, notification.notification_id, fresh, time.time())
                self._start_notification(notification)
        for order in orders:
            for origin in order.origins:
                origin.release()

    def _start_notification(self, notification: Notification) -> None:
        channel = self.channels.get(notification.receiver)
        for order in notification.orders:
            self.in_flight[(notification.receiver, order.page_id)] = notification
        if channel is None:
            asyncio.get_running_loop().create_task(
                self._finish(notification, DEAD_LETTERED, "the receiver is no longer in the configuration")
            )
            return
        notification.body, notification.headers = payloads.render(
            self.config.receivers[notification.receiver], notification.orders
        )
        channel.submit(notification)

    def _note_pager_events(self) -> None:
        for route, receivers, reason in self.pager.quieted:
            for receiver in receivers:
                self.metrics.notifications.labels(receiver, reason).inc()
        for route, level in self.pager.escalated:
            self.metrics.escalations.labels(route, str(level)).inc()
            log.warning("route %s: an unacknowledged episode escalated to level %d", route, level)
        self.pager.quieted.clear()
        self.pager.escalated.clear()
        self.metrics.scheduled.set(self.pager.scheduled)

    async def _finish(self, notification: Notification, outcome: str, reason: str | None) -> None:
        """Record a notification's outcome durably-to-be (the committer commits it), then let
        its messages' offsets go."""
        assert self.ledger is not None
        now = time.time()
        if outcome == DEAD_LETTERED:
            log.error(
                "page to %s not delivered (%s): %s; sent to %s",
                notification.receiver,
                notification.notification_id,
                reason,
                self.topics.dead_letters,
            )
            await self._dead_letter(
                notification.orders[0].alert.patient_id.encode(),
                undelivered_page(notification, reason or "", self.topics.alerts),
            )
        elif outcome == DELIVERED:
            self.metrics.labelled(self.metrics.latency, notification.receiver).observe(
                max(now - notification.since, 0.0)
            )
        self.ledger.finish(notification.receiver, notification.page_ids, outcome, notification.attempts, now)
        if self.ledger.unwritten_outcomes() >= self.config.delivery.concurrency:
            # Every outcome not on disk is a page a SIGKILL sends again; at thousands of pages a
            # second the commit interval alone let hundreds wait (docs/dispatch.md, the bound).
            self._persist_pager()
            self.ledger.commit()
        self.metrics.labelled(self.metrics.notifications, notification.receiver, outcome).inc(len(notification.orders))
        for page_id in notification.page_ids:
            self.in_flight.pop((notification.receiver, page_id), None)
        holds, notification.holds = notification.holds, []
        for hold in holds:
            hold.release()

    def _failed_attempt(self, notification: Notification) -> None:
        assert self.ledger is not None
        self.ledger.record_attempts(notification.receiver, notification.page_ids, notification.attempts)

    async def _dead_letter(self, key: bytes | None, value: bytes) -> None:
        """Publish a dead letter, retrying while Kafka is away: it is the page's outcome."""
        assert self._producer is not None
        delay = 0.5
        while True:
            try:
                await self._producer.send_and_wait(self.topics.dead_letters, value, key=key)
                return
            except KafkaError as error:
                log.warning("cannot publish a dead letter yet (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    # -- time ----------------------------------------------------------------------------
    async def _tick(self) -> None:
        tick = self.config.timings.tick
        while True:
            await asyncio.sleep(tick)
            now = time.time()
            self._deliver(self.pager.due(now), now)

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.timings.commit_interval)
            await self._commit()

    def _persist_pager(self) -> None:
        assert self.ledger is not None
        saved, closed, acks = self.pager.take_changes()
        self.ledger.save_tracks(saved)
        self.ledger.delete_tracks(closed)
        self.ledger.save_acks(acks, time.time())

    async def _commit(self) -> None:
        """Ledger first, Kafka second: an offset is never ahead of the books."""
        assert self.ledger is not None and self._consumer is not None
        offsets = self.tracker.committable()
        self._persist_pager()
        self.ledger.commit()
        if offsets:
            try:
                await self._consumer.commit(offsets)
            except KafkaError as error:  # a rebalance; the next commit carries the same offsets
                log.warning("could not commit offsets yet: %s", error)
                return
            self.tracker.committed(offsets)


class _Rebalance(ConsumerRebalanceListener):
    """On losing partitions, commit what is done and stop counting their holds."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def on_partitions_revoked(self, revoked: Any) -> None:
        with contextlib.suppress(Exception):
            await self.dispatcher._commit()  # noqa: SLF001
        self.dispatcher.tracker.forget(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


def run_dispatcher(config: DispatchConfig) -> int:
    """Run in the foreground until SIGINT or SIGTERM."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await Dispatcher(config).run(stop)

    asyncio.run(main())
    return 0
