"""The Faust application: one agent that owns each patient's partition of every input topic."""

import asyncio
import logging
from typing import Any

import faust
from faust.types import TP
from faust.web import Request, Response, View

from monitor.config import load_config
from monitor.engine import Engine, Outputs
from streams import metrics
from streams.event_clock import EventClock
from streams.patient_states import PatientStates
from streams.patient_table import patient_state_table
from streams.pipeline import Handled, Pipeline, Publish
from streams.settings import WorkerSettings
from streams.topic_setup import ensure_topics

log = logging.getLogger(__name__)


class Worker:
    """The engine, its durable state and the Faust app, wired together.

    The input topics share one agent so that a patient's vitals, clinical events and
    acknowledgements, which share a key and so a partition number, land on the same worker.
    """

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.ready = False
        self.app = app = faust.App(
            settings.app_id,
            broker=settings.broker_url,
            broker_credentials=settings.faust_credentials(),
            key_serializer="raw",
            value_serializer="raw",
            topic_partitions=settings.partitions,
            topic_replication_factor=settings.replication_factor,
            store=settings.store,
            datadir=settings.data_dir,
            web_host=settings.web_host,
            web_bind=settings.web_host,
            web_port=settings.web_port,
            web_tables_enabled=False,
            web_stats_enabled=False,
            consumer_auto_offset_reset="earliest",
        )
        topics = settings.topics
        self.engine = Engine(load_config(settings.clinical_config))
        self.pipeline = Pipeline(self.engine, topics)
        self.clock = EventClock()
        self.table = patient_state_table(app, "patient-state", settings.partitions)
        self.states = PatientStates(self.engine, self.table)
        self.inputs = app.topic(topics.vitals, topics.clinical_events, topics.alert_acks)
        self.input_names = {topics.vitals, topics.clinical_events, topics.alert_acks}
        self.outputs = {
            name: app.topic(name, partitions=settings.partitions)
            for name in (topics.patient_status, topics.alerts, topics.dead_letters)
        }
        self._register()

    # -- wiring --------------------------------------------------------------------------
    def _register(self) -> None:
        app, settings = self.app, self.settings
        app.agent(self.inputs, name="observe")(self._observe)
        app.timer(settings.tick_interval_s, name="advance")(self._advance)
        app.timer(settings.checkpoint_interval_s, name="checkpoint")(self._checkpoint)
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
                if worker.ready:
                    return self.json({"status": "ready", "patients": len(worker.engine.patients())})
                return self.json({"status": "recovering"}, status=503)

    # -- the stream ----------------------------------------------------------------------
    async def _observe(self, stream: faust.Stream) -> None:
        track, handle, saw = self.states.track, self.pipeline.handle, self.clock.saw
        async for event in stream.events():
            message = event.message
            key = message.key
            if key is not None and message.topic in self.input_names:
                try:
                    track(key.decode(), message.partition)
                except UnicodeDecodeError:
                    pass  # the message will be dead-lettered for its patient_id
            handled = handle(message.topic, message.partition, message.offset, key, message.value)
            if handled.event_time is not None:
                saw(message.partition, handled.event_time)
            if handled.alerts or handled.others or handled.durable:
                await self._publish(handled)

    async def _publish(self, handled: Handled) -> None:
        for publish in handled.others:
            await self._send(publish)
        if handled.alerts:
            delivered = [await self._send(publish) for publish in handled.alerts]
            await asyncio.gather(*delivered)  # on the topic before the state remembers it
        if handled.durable and handled.patient_id is not None:
            self.states.persist([handled.patient_id], "episode")

    async def _send(self, publish: Publish) -> Any:
        return await self.outputs[publish.topic].send(key=publish.key, value=publish.value)

    # -- time, checkpoints, rebalances ---------------------------------------------------
    async def _advance(self) -> None:
        """Rules about silence fire from here: nothing else happens when nothing arrives."""
        now = self.clock.now()
        if now is None or not self.ready:
            return
        outputs = self.engine.advance_to(now)
        await self._publish_outputs(outputs)

    async def _publish_outputs(self, outputs: Outputs) -> None:
        if not outputs.statuses and not outputs.alerts:
            return
        handled = self.pipeline.publications(outputs)
        await self._publish(Handled(alerts=handled.alerts, others=handled.others))
        if outputs.durable:
            changed = {alert.patient_id for alert in outputs.alerts}
            changed.update(status.patient_id for status in outputs.statuses)
            self.states.persist(changed, "episode")

    async def _checkpoint(self) -> None:
        if self.ready:
            self.states.checkpoint()

    async def _on_recovered(self) -> None:
        partitions = {tp.partition for tp in self.app.consumer.assignment()
                      if tp.topic in self.input_names}
        restored = self.states.restore_assigned(partitions)
        self.ready = True
        log.info("ready: %d partitions, %d patients (%d restored from the table)",
                 len(partitions), len(self.engine.patients()), restored)

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **kwargs: Any) -> None:
        self.ready = False
        self.states.persist_partitions({tp.partition for tp in revoked if tp.topic in self.input_names})

    async def _update_gauges(self) -> None:
        metrics.PATIENTS_TRACKED.set(len(self.engine.patients()))
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


def run_worker(settings: WorkerSettings) -> None:
    """Start the worker in the foreground until SIGINT/SIGTERM."""
    if settings.create_topics:
        ensure_topics(settings)
    worker = Worker(settings)
    faust.Worker(worker.app, loglevel=settings.log_level, quiet=True).execute_from_commandline()
