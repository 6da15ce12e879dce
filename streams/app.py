"""The Faust application: one worker owns each patient's partition of every input topic, and
takes their records a fetched batch at a time (streams/batch_lane.py)."""

import asyncio
import logging
from typing import Any

import faust
from faust.types import TP
from faust.web import Request, Response, View

from monitor.config import load_config
from monitor.engine import Engine, Outputs
from monitor.patient_state import RULES
from streams import metrics
from streams.batch_lane import BatchLane, InputRecord
from streams.event_clock import EventClock
from streams.kafka_transport import use_short_fetch_wait
from streams.long_lived import LongLivedObjects
from streams.loop_watchdog import LoopWatchdog
from streams.lost_records import LostRecordsWatchdog
from streams.patient_states import PatientStates
from streams.patient_table import patient_state_table
from streams.pipeline import Handled, Pipeline
from streams.settings import WorkerSettings
from streams.topic_setup import ensure_topics

log = logging.getLogger(__name__)


def configured_app(settings: WorkerSettings) -> faust.App:
    """The worker's Faust app with every setting and no agent (the benchmark's floor uses it
    too, so that its figure is Faust's cost under exactly the worker's configuration)."""
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=settings.faust_credentials(),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        store=settings.store,
        datadir=settings.data_dir,
        # Table contents are patient data: never served; the web server listens on loopback.
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=False,
        web_stats_enabled=False,
        consumer_auto_offset_reset="earliest",
        # A dead worker's patients move to the others after this long without a heartbeat.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 5),
        consumer_group_instance_id=settings.instance_id,
        # Faust's assignor checks that a static member's URL is the one it had before; derived
        # from the id, it survives a restart on another host or port.
        **({"canonical_url": f"http://{settings.instance_id}"} if settings.instance_id else {}),
    )
    use_short_fetch_wait(app, settings.fetch_max_wait_ms)
    return app


class Worker:
    """The engine, its durable state and the Faust app, wired together.

    The input topics share one agent (and one batch lane) so that a patient's vitals, clinical
    events and acknowledgements, which share a key and so a partition number, land on the same
    worker.
    """

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.ready = False
        self.app = app = configured_app(settings)
        topics = settings.topics
        self.engine = Engine(load_config(settings.clinical_config))
        self.pipeline = Pipeline(self.engine, topics)
        self.clock = EventClock()
        self.table = patient_state_table(app, "patient-state", settings.partitions)
        self.states = PatientStates(self.engine, self.table, settings.checkpoint_interval_s)
        self.inputs = app.topic(topics.vitals, topics.clinical_events, topics.alert_acks)
        self.input_names = {topics.vitals, topics.clinical_events, topics.alert_acks}
        # Faust can drop records in flight as a rebalance ends: this re-reads them.
        self.lost_records = LostRecordsWatchdog(app, self.input_names, lambda: self.ready)
        self.long_lived = LongLivedObjects()
        self.loop_watchdog = LoopWatchdog(settings.loop_stall_s, settings.stop_timeout_s)
        self._register()

    # -- wiring --------------------------------------------------------------------------
    def _register(self) -> None:
        app, settings = self.app, self.settings
        app.agent(self.inputs, name="observe")(self._observe)
        app.transport.batch_lane = BatchLane(frozenset(self.input_names), self._take, self.lost_records.sensor.took)
        app.timer(settings.tick_interval_s, name="advance")(self._advance)
        app.timer(5.0, name="gauges")(self._update_gauges)
        self.table.on_recover(self._on_recovered)
        app.on_partitions_revoked.connect(self._on_revoked)
        worker = self

        @app.page("/metrics")
        class Metrics(View):
            async def get(self, request: Request) -> Response:
                return self.bytes(metrics.exposition(), content_type="text/plain; version=0.0.4")

        @app.page("/healthz")
        class Health(View):
            async def get(self, request: Request) -> Response:
                return self.json({"status": "ok"})

        @app.page("/readyz")
        class Ready(View):
            async def get(self, request: Request) -> Response:
                stalled = worker.loop_watchdog.problem()
                if stalled is not None:
                    return self.json({"status": "stalled", "reason": stalled}, status=503)
                if worker.ready:
                    return self.json({"status": "ready", "patients": len(worker.engine.patients())})
                return self.json({"status": "recovering"}, status=503)

    # -- the stream ----------------------------------------------------------------------
    async def _observe(self, stream: faust.Stream) -> None:
        """The agent subscribes the worker to its input topics, and with them co-partitions the
        table; the batch lane takes their records before they reach it. Were one to arrive
        (a Faust that no longer calls `getmany`), it is processed all the same."""
        async for event in stream.events():
            await self._take(event.message)

    async def _take(self, record: InputRecord) -> None:
        """One input record, from the batch lane (streams/batch_lane.py) or the agent."""
        key = record.key
        patient_id = None
        if key is not None:
            try:
                patient_id = key.decode()
            except UnicodeDecodeError:
                patient_id = None  # the pipeline dead-letters a key that is not the patient_id
            else:
                for alert in self.states.track(patient_id, record.partition):
                    await self._send_alert(patient_id, alert)
        handled = self.pipeline.handle(record.topic, record.partition, record.offset, key, record.value)
        if handled.alerts or handled.others:
            await self._publish(handled)
            if handled.alerts:
                await asyncio.sleep(0)  # the producer sends an alert now, not after the batch
        if handled.patient_id is not None:
            self.clock.saw(record.partition, handled.event_time)
            if handled.patient_id == patient_id:
                self.states.settle(patient_id, handled.durable, handled.event_time.timestamp())

    async def _publish(self, handled: Handled) -> None:
        for publish in handled.others:
            await self._produce(publish.topic, publish.key, publish.value)
        for publish in handled.alerts:
            await self._send_alert(publish.key.decode(), publish.value)

    async def _produce(self, topic: str, key: bytes | None, value: bytes) -> Any:
        """Straight to Faust's producer: its Topic.send machinery cost ~500 µs per message here
        (bench/worker.py). Faust still flushes this producer before it commits offsets."""
        return await self.app.producer.send(topic, key, value, None, None, None)

    async def _send_alert(self, patient_id: str, alert: bytes) -> None:
        """Send an alert that the patient's stored record keeps until delivery is confirmed."""
        self.states.sending(patient_id, alert)
        delivery = await self._produce(self.settings.topics.alerts, patient_id.encode(), alert)
        delivery.add_done_callback(
            lambda done: None if done.cancelled() or done.exception() else self.states.delivered(patient_id, alert)
        )

    # -- time, checkpoints, rebalances ---------------------------------------------------
    async def _advance(self) -> None:
        """Rules about silence fire from here: nothing else happens when nothing arrives."""
        now = self.clock.now()
        if now is None or not self.ready:
            return
        outputs = self.engine.advance_to(now)
        await self._publish_outputs(outputs)
        self.engine.discharges.expire(now)

    async def _publish_outputs(self, outputs: Outputs) -> None:
        if not outputs.statuses and not outputs.alerts:
            return
        await self._publish(self.pipeline.publications(outputs))
        if outputs.durable:
            self.states.changed_outside_events(alert.patient_id for alert in outputs.alerts)

    async def _on_recovered(self) -> None:
        partitions = {tp.partition for tp in self.app.consumer.assignment()
                      if tp.topic in self.input_names}
        restored, resend = self.states.restore_assigned(partitions)
        for patient_id, alert in resend:
            await self._send_alert(patient_id, alert)
        self.long_lived.recovered(len(self.engine.patients()))
        self.ready = True
        log.info("ready: %d partitions, %d patients (%d restored from the table)",
                 len(partitions), len(self.engine.patients()), restored)

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **kwargs: Any) -> None:
        self.ready = False  # until the table has recovered the new assignment

    async def _update_gauges(self) -> None:
        patients = len(self.engine.patients())
        metrics.PATIENTS_TRACKED.set(patients)
        self.long_lived.counted(patients)
        open_by_rule = {rule: 0 for rule in RULES}
        for patient_id in list(self.engine.patients()):
            for rule in RULES:
                episode = self.engine.episode(patient_id, rule)
                if episode is not None and episode.open:
                    open_by_rule[rule] += 1
        for rule, count in open_by_rule.items():
            metrics.OPEN_EPISODES.labels(rule).set(count)
        consumer = self.app.consumer
        for tp in consumer.assignment():
            if tp.topic not in self.input_names:
                continue
            highwater = consumer.highwater(tp)
            position = consumer._committed_offset.get(tp)  # what a restart would resume from
            if highwater is not None:
                lag = max(0, highwater - (position or 0))
                metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)


def build_app(settings: WorkerSettings) -> faust.App:
    return Worker(settings).app


class _FaustWorker(faust.Worker):
    """Faust's worker process, with the loop watchdog started on its loop and chained to its
    stop signals (streams/loop_watchdog.py)."""

    def __init__(self, app: faust.App, watchdog: LoopWatchdog, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.loop_watchdog = watchdog

    async def on_first_start(self) -> None:
        self.loop_watchdog.start(asyncio.get_running_loop())
        await super().on_first_start()

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()  # mode's, run by the loop
        self.loop_watchdog.watch_stop_signals()  # a flag the watchdog thread acts on


def run_worker(settings: WorkerSettings) -> None:
    """Start the worker in the foreground until SIGINT/SIGTERM."""
    if settings.create_topics:
        ensure_topics(settings)
    worker = Worker(settings)
    _FaustWorker(worker.app, worker.loop_watchdog, loglevel=settings.log_level,
                 quiet=True).execute_from_commandline()
